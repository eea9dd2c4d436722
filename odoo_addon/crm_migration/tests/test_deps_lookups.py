from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..services import lookups
from ..services.quiet_context import QUIET_CONTEXT
from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestDepsLookups(MigrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.us = cls.env.ref("base.us")
        cls.canada = cls.env.ref("base.ca")
        State = cls.env["res.country.state"]
        cls.us_province = State.create({"name": "Mig Province", "code": "MGP", "country_id": cls.us.id})
        cls.ca_province = State.create({"name": "Mig Province", "code": "MGP", "country_id": cls.canada.id})
        cls.ca_only = State.create({"name": "Mig Northland", "code": "MGN", "country_id": cls.canada.id})

    def state_lookup(self, value, country=None):
        spec = {"model": "res.country.state", "field": "code", "value": value, "alt_fields": ["name"]}
        if country is not None:
            spec["where"] = {"country_id.code": country}
        return {"state_id": spec}

    def test_where_and_alt_fields(self):
        mig = self.new_migration()
        mig.api_stage([
            # by code within a country (text compared case-insensitively, the country too)
            self.contact("code", "Mig By Code", "code.lk@example.com", lookups=self.state_lookup("mgp", "ca")),
            # not a code: found by name (alt field) within the country
            self.contact("name", "Mig By Name", "name.lk@example.com",
                         lookups=self.state_lookup("mig province", "US")),
            # the where filters: Northland is Canadian only
            self.contact("none", "Mig None", "none.lk@example.com", lookups=self.state_lookup("MGN", "US")),
            # no where: the same name in two countries is ambiguous
            self.contact("ambiguous", "Mig Ambiguous", "ambiguous.lk@example.com",
                         lookups=self.state_lookup("Mig Province")),
            # no where, one hit: found
            self.contact("unique", "Mig Unique", "unique.lk@example.com", lookups=self.state_lookup("Mig Northland")),
            # many2many lookups give a list of ids
            self.staged("testsrc:contact:tagged", "contact", "res.partner",
                        {"name": "Mig Tagged", "email": "tagged.lk@example.com"},
                        lookups={"category_id": {"model": "res.partner.category", "field": "name",
                                                 "value": "Mig Lookup Tag"}}),
        ])
        tag = self.Tag.create({"name": "Mig Lookup Tag"})
        report = mig.api_commit({"batch_size": 500})
        self.assertEqual(report["counts"]["committed"], 6)
        self.assertEqual(self.partner("code.lk@example.com").state_id, self.ca_province)
        self.assertEqual(self.partner("name.lk@example.com").state_id, self.us_province)
        self.assertFalse(self.partner("none.lk@example.com").state_id)
        self.assertFalse(self.partner("ambiguous.lk@example.com").state_id)
        self.assertEqual(self.partner("unique.lk@example.com").state_id, self.ca_only)
        self.assertEqual(self.partner("tagged.lk@example.com").category_id, tag)
        ambiguous = self.record_of(mig, "testsrc:contact:ambiguous")
        warnings = [i for i in ambiguous.issues_json if i["level"] == "warning"]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["field"], "state_id")
        self.assertIn("2 res.country.state records", warnings[0]["message"])
        none = self.record_of(mig, "testsrc:contact:none")
        self.assertIn("country_id.code = 'US'", none.issues_json[0]["message"])
        self.assertFalse(self.record_of(mig, "testsrc:contact:code").issues_json)

    def test_lookups_batched(self):
        """One query per (model, field, where-paths) group and batch, whatever the number of
        records: 30 state lookups by code are one search; those whose code finds nothing try
        the name together in a second one."""
        calls = []
        original = lookups.search_lookups

        def counting(env, model_name, fname, paths, found):
            calls.append((model_name, fname, paths, len(found)))
            return original(env, model_name, fname, paths, found)

        mig = self.new_migration()
        mig.api_stage([
            self.contact(f"b{i}", f"Mig Batch {i}", f"b{i}.lk@example.com",
                         lookups=self.state_lookup("MGP" if i % 3 else "Mig Province", "US" if i % 2 else "CA"))
            for i in range(30)
        ])
        with patch.object(lookups, "search_lookups", counting):
            mig.api_commit({"batch_size": 500})
        self.assertEqual(calls, [
            ("res.country.state", "code", ("country_id.code",), 30),
            ("res.country.state", "name", ("country_id.code",), 10),
        ])
        self.assertEqual(self.partner("b1.lk@example.com").state_id, self.us_province)
        self.assertEqual(self.partner("b2.lk@example.com").state_id, self.ca_province)
        self.assertEqual(self.partner("b3.lk@example.com").state_id, self.us_province)  # by name
        self.assertEqual(self.partner("b0.lk@example.com").state_id, self.ca_province)  # by name

    def test_match_on_name_and_parent(self):
        Tag = self.Tag
        lists = Tag.create({"name": "Mig Lists"})
        other = Tag.create({"name": "Mig Other Family"})
        under_lists = Tag.create({"name": "Mig Newsletter", "parent_id": lists.id})
        under_other = Tag.create({"name": "Mig Newsletter", "parent_id": other.id})
        root = Tag.create({"name": "Mig Newsletter"})
        tags_before = Tag.search_count([])
        mig = self.new_migration()
        mig.api_stage([
            self.staged("testsrc:list:newsletter", "list", "res.partner.category", {"name": "Mig Newsletter"},
                        refs={"parent_id": "testsrc:list_family:lists"}, match=[["name", "parent_id"]]),
            self.staged("testsrc:list_family:lists", "list_family", "res.partner.category", {"name": "Mig Lists"},
                        match=[["name"]]),
            # no parent: matches the category without parent only
            self.staged("testsrc:tag:newsletter", "tag", "res.partner.category", {"name": "Mig Newsletter"},
                        match=[["name", "parent_id"]]),
            # under a new family: no existing category there, created
            self.staged("testsrc:list_family:new", "list_family", "res.partner.category", {"name": "Mig New Family"},
                        match=[["name"]]),
            self.staged("testsrc:list:newsletter2", "list", "res.partner.category", {"name": "Mig Newsletter"},
                        refs={"parent_id": "testsrc:list_family:new"}, match=[["name", "parent_id"]]),
        ])
        report = mig.api_commit()
        self.assertEqual(report["counts"]["failed"] + report["counts"]["skipped"], 0)
        self.assertEqual(self.link_of(mig, "testsrc:list_family:lists").res_id, lists.id)
        self.assertEqual(self.link_of(mig, "testsrc:list:newsletter").res_id, under_lists.id)
        self.assertEqual(self.link_of(mig, "testsrc:tag:newsletter").res_id, root.id)
        created = self.link_of(mig, "testsrc:list:newsletter2")
        self.assertEqual(created.action, "created")
        self.assertNotIn(created.res_id, (under_lists | under_other | root).ids)
        self.assertEqual(Tag.browse(created.res_id).parent_id.name, "Mig New Family")
        self.assertEqual(Tag.search_count([]), tags_before + 2)

    def test_deps(self):
        mig = self.new_migration()
        mig.api_stage([
            # needs a key that is nowhere
            dict(self.company("lost", "Mig Lost Dep Co"), deps=["testsrc:nothing:1"]),
            # needs a record that fails
            dict(self.company("after_bad", "Mig After Bad Co"), deps=["testsrc:tag:bad"]),
            self.staged("testsrc:tag:bad", "tag", "res.partner.category", {"name": False}),
            # needs a record of an object staged after it: committed after it
            dict(self.contact("late", "Mig Late Dep", "late.dep@example.com"), deps=["testsrc:tag:mig dep tag"]),
            self.tag("Mig Dep Tag"),
        ])
        with mute_logger("odoo.sql_db"):
            report = mig.api_commit()
        lost = self.record_of(mig, "testsrc:company:lost")
        self.assertEqual(lost.state, "skipped")
        self.assertIn("testsrc:nothing:1", lost.error_message)
        after_bad = self.record_of(mig, "testsrc:company:after_bad")
        self.assertEqual(after_bad.state, "skipped")
        self.assertIn("state failed", after_bad.error_message)
        self.assertFalse(self.Partner.search([("name", "in", ("Mig Lost Dep Co", "Mig After Bad Co"))]))
        self.assertEqual(self.record_of(mig, "testsrc:contact:late").state, "committed")
        seq = {link.key: link.sequence for link in mig.link_ids}
        self.assertLess(seq["testsrc:tag:mig dep tag"], seq["testsrc:contact:late"])
        self.assertEqual(report["state"], "partial")
        self.assertEqual({s["key"] for s in report["skipped"]}, {"testsrc:company:lost", "testsrc:company:after_bad"})

    def test_error_record_of_missing_model(self):
        mig = self.new_migration()
        result = mig.api_stage([
            self.staged("testsrc:order:1", "order", "no_such.sale.order", {"name": "S001", "amount": 12.5},
                        refs={"partner_id": "testsrc:contact:x"},
                        lookups={"currency_id": {"model": "no_such.currency", "field": "name", "value": "EUR"}},
                        issues=[{"level": "error", "message": "the Sales app is not installed"}]),
            self.tag("Mig Beside Error"),
        ])
        self.assertEqual(result, {"staged": 2, "errors": 1})
        rec = self.record_of(mig, "testsrc:order:1")
        self.assertEqual((rec.state, rec.model), ("error", "no_such.sale.order"))
        report = mig.api_commit()
        self.assertEqual(rec.state, "error")
        self.assertEqual((report["state"], report["counts"]["committed"], report["counts"]["error"]),
                         ("committed", 1, 1))
        self.assertEqual(mig.api_rollback()["state"], "rolled_back")

    def test_lookup_and_match_shapes(self):
        mig = self.new_migration()
        good = self.state_lookup("MGP", "US")["state_id"]
        cases = [
            (dict(good, extra=1), "extra"),
            (dict(good, alt_fields=["no_such_field"]), "no_such_field"),
            (dict(good, alt_fields="name"), "alt_fields"),
            (dict(good, where={"country_id": "US"}), "plain field"),
            (dict(good, where={"country_id.nope": "US"}), "nope"),
            (dict(good, where={"code.name": "x"}), "not relational"),
            (dict(good, where={"country_id.code": ["US"]}), "where"),
            (dict(good, required="yes"), "required"),
        ]
        for spec, needle in cases:
            with self.subTest(needle=needle), self.assertRaisesRegex(ValidationError, needle):
                mig.api_stage([self.contact("shape", "Mig Shape", "shape.lk@example.com", lookups={"state_id": spec})])
        with self.assertRaisesRegex(ValidationError, "one2many"):
            mig.api_stage([dict(self.tag("Mig Shape"), match=[["name", "child_ids"]])])
        with self.assertRaisesRegex(ValidationError, "deps"):
            mig.api_stage([dict(self.tag("Mig Shape"), deps="testsrc:x")])
        self.assertFalse(mig.record_ids)

    def test_source_key_filled(self):
        mig = self.new_migration()
        mig.api_stage([self.contact("sk", "Mig Source Key", "sk.lk@example.com")])
        mig.api_commit()
        partner = self.partner("sk.lk@example.com")
        if "source_key" in partner._fields:
            self.assertEqual(partner.source_key, "testsrc:contact:sk")
        self.assertNotIn("source_key", self.link_of(mig, "testsrc:contact:sk").values_before_json or {})

    def test_calendar_event_sends_no_mail(self):
        Mail = self.env["mail.mail"].sudo()
        start = fields.Datetime.now() + timedelta(days=3)
        event_vals = {"start": fields.Datetime.to_string(start),
                      "stop": fields.Datetime.to_string(start + timedelta(hours=1))}
        guest = self.Partner.create({"name": "Mig Guest", "email": "guest.cal@example.com"})
        # without the calendar keys of the quiet context, such an event sends invitations (a
        # message notifying each attendee, its mail sent at once in tests)
        plain = {k: v for k, v in QUIET_CONTEXT.items()
                 if k not in ("no_mail_to_attendees", "dont_notify", "mail_notify_author")}
        Message = self.env["mail.message"].sudo()
        invitations = [("message_type", "=", "user_notification")]
        before = Message.search_count(invitations)
        self.env["calendar.event"].with_context(**plain).create(
            dict(event_vals, name="Mig Noisy Meeting", partner_ids=[(6, 0, guest.ids)]))
        self.assertGreater(Message.search_count(invitations), before)

        mails_before = Mail.search_count([])
        messages_before = Message.search_count([])
        mig = self.new_migration()
        mig.api_stage([
            self.contact("att1", "Mig Attendee One", "att1.cal@example.com"),
            self.contact("att2", "Mig Attendee Two", "att2.cal@example.com"),
            self.staged("testsrc:meeting:1", "meeting", "calendar.event", dict(event_vals, name="Mig Quiet Meeting"),
                        refs={"partner_ids": ["testsrc:contact:att1", "testsrc:contact:att2"]}),
        ])
        report = mig.api_commit()
        self.assertEqual(report["counts"]["committed"], 3)
        event = self.env["calendar.event"].search([("name", "=", "Mig Quiet Meeting")])
        self.assertEqual(len(event), 1)
        self.assertEqual(len(event.attendee_ids.filtered(lambda a: a.partner_id.email.endswith(".cal@example.com"))),
                         2)
        self.assertEqual(Mail.search_count([]), mails_before)
        self.assertEqual(Message.search_count([]), messages_before)
