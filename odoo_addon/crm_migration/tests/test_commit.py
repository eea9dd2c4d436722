from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestCommit(MigrationCase):
    def test_commit_order_and_links(self):
        """Contacts staged before the company and tags they ref still get them."""
        partners_before = self.Partner.search_count([])
        mig = self.new_migration()
        result = mig.api_stage([
            self.contact("1", "Ada Lovelace", "ada.order@example.com", company="acme", tags=["Mig VIP", "Mig Webinar"],
                         row=2),
            self.contact("2", "Charles Babbage", "charles.order@example.com", company="acme", tags=["Mig VIP"], row=3),
            self.company("acme", "Mig Acme Ltd"),
            self.tag("Mig VIP"),
            self.tag("Mig Webinar", row=2),
        ])
        self.assertEqual(result, {"staged": 5, "errors": 0})
        report = mig.api_finish_staging()
        self.assertEqual(report["state"], "mapped")  # no mapping lines: nothing to confirm
        self.assertEqual(report["counts"]["staged"], 5)

        report = mig.api_commit({"batch_size": 1})

        company = self.Partner.search([("name", "=", "Mig Acme Ltd")])
        self.assertEqual(len(company), 1)
        self.assertTrue(company.is_company)
        vip = self.Tag.search([("name", "=", "Mig VIP")])
        webinar = self.Tag.search([("name", "=", "Mig Webinar")])
        self.assertEqual((len(vip), len(webinar)), (1, 1))
        ada = self.partner("ada.order@example.com")
        charles = self.partner("charles.order@example.com")
        self.assertEqual(ada.parent_id, company)
        self.assertEqual(charles.parent_id, company)
        self.assertEqual(ada.category_id, vip | webinar)
        self.assertEqual(charles.category_id, vip)
        self.assertEqual(self.Partner.search_count([]), partners_before + 3)

        # links: all created, dependencies (tags, company) before the contacts
        links = mig.link_ids
        self.assertEqual(len(links), 5)
        self.assertEqual(set(links.mapped("action")), {"created"})
        seq = {link.key: link.sequence for link in links}
        first_contact = min(seq["testsrc:contact:1"], seq["testsrc:contact:2"])
        for key in ("testsrc:company:acme", "testsrc:tag:mig vip", "testsrc:tag:mig webinar"):
            self.assertLess(seq[key], first_contact)
        self.assertEqual(self.link_of(mig, "testsrc:contact:1").res_id, ada.id)
        rec = self.record_of(mig, "testsrc:contact:1")
        self.assertEqual((rec.state, rec.res_id, rec.source_file, rec.source_row),
                         ("committed", ada.id, "contacts.csv", 2))

        self.assertEqual(report["state"], "committed")
        self.assertEqual(report["counts"]["committed"], 5)
        self.assertEqual(report["counts"]["failed"], 0)
        self.assertEqual(report["objects"]["contact"]["committed"], 2)
        self.assertEqual(report["objects"]["tag"]["committed"], 2)
        self.assertEqual(report["objects"]["company"]["committed"], 1)
        self.assertEqual(report["links"], {"created": 5, "matched": 0, "updated": 0})
        self.assertEqual(report["failed"], [])
        self.assertEqual(mig.committed_count, 5)
        self.assertEqual(mig.link_count, 5)

    def test_parent_companies_multi_pass(self):
        """Same-object refs: B refs A and C refs B, staged C, B, A."""
        mig = self.new_migration()
        mig.api_stage([
            self.company("c", "Mig Grandchild Co", parent="b"),
            self.company("b", "Mig Child Co", parent="a"),
            self.company("a", "Mig Parent Co"),
        ])
        report = mig.api_commit({"batch_size": 500})
        self.assertEqual(report["counts"]["committed"], 3)
        a = self.Partner.search([("name", "=", "Mig Parent Co")])
        b = self.Partner.search([("name", "=", "Mig Child Co")])
        c = self.Partner.search([("name", "=", "Mig Grandchild Co")])
        self.assertEqual(b.parent_id, a)
        self.assertEqual(c.parent_id, b)
        seq = {link.key: link.sequence for link in mig.link_ids}
        self.assertLess(seq["testsrc:company:a"], seq["testsrc:company:b"])
        self.assertLess(seq["testsrc:company:b"], seq["testsrc:company:c"])

    def test_failing_record_isolated(self):
        """A record Odoo rejects fails with Odoo's error; the rest of its batch commits and
        a record refing it is skipped."""
        mig = self.new_migration()
        mig.api_stage([
            self.company("bad", "Mig Bad Co", type="bogus"),
            self.company("good", "Mig Good Co"),
            self.contact("1", "Mig Ok Contact", "ok.fail@example.com", company="good"),
            self.contact("2", "Mig Orphan", "orphan.fail@example.com", company="bad"),
            self.contact("3", None, "noname.fail@example.com", type="contact"),
        ])
        with mute_logger("odoo.sql_db"):
            report = mig.api_commit()
        bad = self.record_of(mig, "testsrc:company:bad")
        self.assertEqual(bad.state, "failed")
        self.assertIn("bogus", bad.error_message)
        self.assertFalse(self.Partner.search([("name", "=", "Mig Bad Co")]))
        good = self.Partner.search([("name", "=", "Mig Good Co")])
        self.assertEqual(len(good), 1)
        self.assertEqual(self.partner("ok.fail@example.com").parent_id, good)
        orphan = self.record_of(mig, "testsrc:contact:2")
        self.assertEqual(orphan.state, "skipped")
        self.assertIn("testsrc:company:bad", orphan.error_message)
        self.assertFalse(self.partner("orphan.fail@example.com"))
        # SQL constraint (contacts require a name): Odoo's message, the record alone fails
        noname = self.record_of(mig, "testsrc:contact:3")
        self.assertEqual(noname.state, "failed")
        self.assertIn("Contacts require a name", noname.error_message)
        self.assertFalse(self.partner("noname.fail@example.com"))

        self.assertEqual(report["state"], "partial")
        self.assertEqual(report["counts"]["committed"], 2)
        self.assertEqual(report["counts"]["failed"], 2)
        self.assertEqual(report["counts"]["skipped"], 1)
        self.assertEqual({f["key"] for f in report["failed"]}, {"testsrc:company:bad", "testsrc:contact:3"})
        self.assertEqual([s["key"] for s in report["skipped"]], ["testsrc:contact:2"])
        self.assertEqual(report["links"]["created"], 2)

        # fixing the bad company by staging it again, then committing again, commits it and its contact
        mig.api_stage([self.company("bad", "Mig Bad Co")])
        with mute_logger("odoo.sql_db"):
            report = mig.api_commit()
        self.assertEqual(report["counts"]["committed"], 4)
        self.assertEqual(self.partner("orphan.fail@example.com").parent_id.name, "Mig Bad Co")

    def test_error_record_not_committed(self):
        mig = self.new_migration()
        result = mig.api_stage([
            self.staged("testsrc:contact:err", "contact", "res.partner",
                        {"name": "Mig Error Person", "email": "err@example.com"},
                        issues=[{"level": "error", "file": "contacts.csv", "row": 4, "field": "email",
                                 "message": "duplicate id"}]),
            self.staged("testsrc:contact:warn", "contact", "res.partner",
                        {"name": "Mig Warn Person", "email": "warn@example.com"},
                        issues=[{"level": "warning", "field": "phone", "message": "phone dropped"}]),
        ])
        self.assertEqual(result, {"staged": 2, "errors": 1})
        err = self.record_of(mig, "testsrc:contact:err")
        self.assertEqual(err.state, "error")
        self.assertTrue(err.has_error_issue)
        self.assertIn("duplicate id", err.issues_html)
        report = mig.api_commit()
        self.assertEqual(err.state, "error")
        self.assertFalse(self.partner("err@example.com"))
        self.assertTrue(self.partner("warn@example.com"))
        self.assertEqual(report["counts"]["error"], 1)
        self.assertEqual(report["counts"]["committed"], 1)
        self.assertEqual(report["state"], "committed")

    def test_lookups(self):
        uk = self.env.ref("base.uk")
        mig = self.new_migration()
        mig.api_stage([
            self.contact("gb", "Mig British", "gb.lookup@example.com",
                         lookups={"country_id": {"model": "res.country", "field": "code", "value": "gb"}}),
            self.contact("xx", "Mig Nowhere", "xx.lookup@example.com",
                         lookups={"country_id": {"model": "res.country", "field": "code", "value": "XX"}}),
        ])
        mig.api_commit()
        self.assertEqual(self.partner("gb.lookup@example.com").country_id, uk)
        nowhere = self.partner("xx.lookup@example.com")
        self.assertTrue(nowhere)
        self.assertFalse(nowhere.country_id)
        rec = self.record_of(mig, "testsrc:contact:xx")
        self.assertEqual(rec.state, "committed")
        warnings = [i for i in rec.issues_json if i["level"] == "warning"]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["field"], "country_id")
        self.assertIn("XX", warnings[0]["message"])
        self.assertTrue(rec.has_warning)
        self.assertFalse(self.record_of(mig, "testsrc:contact:gb").issues_json)

    def test_object_cycle(self):
        mig = self.new_migration()
        mig.api_stage([
            self.staged("testsrc:a:1", "alpha", "res.partner", {"name": "Mig Alpha"},
                        refs={"parent_id": "testsrc:b:1"}),
            self.staged("testsrc:b:1", "beta", "res.partner", {"name": "Mig Beta"},
                        refs={"parent_id": "testsrc:a:1"}),
        ])
        with self.assertRaisesRegex(UserError, "alpha → beta → alpha|beta → alpha → beta"):
            mig.api_commit()
        self.assertFalse(self.Partner.search([("name", "in", ("Mig Alpha", "Mig Beta"))]))

    def test_commit_twice(self):
        mig = self.new_migration()
        mig.api_stage([self.company("twice", "Mig Twice Co"), self.tag("Mig Twice")])
        mig.api_commit()
        partners, tags = self.Partner.search_count([]), self.Tag.search_count([])
        report = mig.api_commit()
        self.assertEqual((self.Partner.search_count([]), self.Tag.search_count([])), (partners, tags))
        self.assertEqual(report["counts"]["committed"], 2)
        self.assertEqual(report["links"]["created"], 2)

    def test_same_object_cycle_skipped(self):
        """Companies whose parents form a cycle are skipped with the reason; the others commit."""
        mig = self.new_migration()
        mig.api_stage([
            self.company("x", "Mig Cycle X", parent="y"),
            self.company("y", "Mig Cycle Y", parent="x"),
            self.company("z", "Mig Cycle Z"),
        ])
        report = mig.api_commit()
        self.assertEqual(report["state"], "partial")
        self.assertEqual((report["counts"]["skipped"], report["counts"]["committed"]), (2, 1))
        x = self.record_of(mig, "testsrc:company:x")
        self.assertEqual((x.state, x.res_id), ("skipped", 0))
        self.assertIn("testsrc:company:y", x.error_message)
        self.assertEqual(mig.skipped_count, 2)
        self.assertFalse(self.Partner.search([("name", "in", ("Mig Cycle X", "Mig Cycle Y"))]))
