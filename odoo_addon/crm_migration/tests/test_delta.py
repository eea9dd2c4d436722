import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestDelta(MigrationCase):
    """Final delta: a newer export staged into a committed migration (services/delta.py)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a partner that was in Odoo before the migration: matched by email, its empty phone filled
        cls.pre = cls.Partner.create({"name": "Dora Before", "email": "dora.delta@example.com",
                                      "function": "CEO", "city": "Lyon"})

    def first_export(self):
        return [
            self.tag("Delta VIP"),
            self.company("dco", "Delta Co"),
            self.contact("a", "Ann Delta", "ann.delta@example.com", company="dco", city="Paris"),
            self.contact("b", "Bob Delta", "bob.delta@example.com", city="Rome", tags=["Delta VIP"]),
            self.contact("c", "Cid Delta", "cid.delta@example.com", city="Oslo"),
            self.contact("e", "Eve Delta", "eve.delta@example.com", city="Nice"),
            self.contact("m", "Dora Before", "dora.delta@example.com", phone="+1 111", function="CEO"),
        ]

    def newer_export(self):
        records = {r["key"]: r for r in self.first_export()}
        del records["testsrc:contact:e"]  # gone from the source
        records["testsrc:contact:b"]["values"]["city"] = "Milan"  # changed
        records["testsrc:contact:b"]["refs"]["category_id"] = []  # tag removed in the source
        records["testsrc:contact:c"]["values"]["city"] = "Stavanger"  # changed, but edited in Odoo too
        records["testsrc:contact:m"]["values"].update(phone="+1 222", function="CTO")
        new = self.contact("d", "Dan Delta", "dan.delta@example.com", city="Turin")  # new
        return [*records.values(), new]

    def committed(self):
        mig = self.new_migration("Delta")
        mig.api_stage(self.first_export())
        report = mig.api_commit()
        self.assertEqual(report["state"], "committed")
        self.assertEqual(report["delta"], {})
        self.assertEqual(report["delta_round"], 0)
        return mig

    def odoo(self, key, mig):
        return self.Partner.browse(self.link_of(mig, key).res_id)

    def test_restaging_without_delta_round_is_still_refused(self):
        mig = self.committed()
        with self.assertRaisesRegex(UserError, "already committed"):
            mig.api_stage([self.tag("Delta VIP")])
        with self.assertRaisesRegex(UserError, "nothing committed"):
            self.new_migration("empty").api_start_delta()

    def test_delta_round_and_exact_rollback(self):
        # one scenario in order (first commit, delta round, its decisions, the exact rollback): not to split
        partners_before = self.Partner.search_count([])
        pre_before = {f: self.pre[f] for f in ("name", "email", "phone", "function", "city", "active")}
        mig = self.committed()
        key = "testsrc:contact:{}".format
        ann, bob, cid, eve = (self.odoo(key(k), mig) for k in "abce")
        self.assertEqual(self.link_of(mig, key("m")).action, "updated")
        self.assertEqual(self.pre.phone, "+1 111")
        # edits in Odoo between the commit and the delta: one on a field the source changes too,
        # one on a field it does not change
        cid.city = "Bergen"
        bob.function = "Buyer"

        report = mig.api_start_delta()
        self.assertEqual(report["state"], "delta")
        self.assertEqual(report["delta_round"], 1)
        mig.api_stage_json(json.dumps(self.newer_export()))
        report = mig.api_finish_staging()
        self.assertEqual(report["state"], "delta")
        self.assertEqual(report["delta"]["contact"], {"unchanged": 1, "updated": 0, "created": 0, "gone": 1,
                                                       "conflicts": 0, "pending": 4, "errors": 0})
        self.assertEqual(report["delta"]["company"]["unchanged"], 1)
        self.assertEqual(self.record_of(mig, key("e")).delta, "gone")
        self.assertEqual(self.record_of(mig, key("a")).state, "committed")

        audit_before = self.env["crm.migration.audit"].search_count([("migration_id", "=", mig.id)])
        report = mig.api_commit()
        self.assertEqual(report["delta"]["contact"], {"unchanged": 1, "updated": 1, "created": 1, "gone": 1,
                                                       "conflicts": 2, "pending": 0, "errors": 0})
        self.assertEqual(report["state"], "partial")
        self.assertEqual(report["counts"]["conflict"], 2)
        cid_record, dan = self._assert_delta_written(mig, key, bob, cid, eve, audit_before)
        # a new round waits for the decisions
        with self.assertRaisesRegex(UserError, "conflicts to decide"):
            mig.api_start_delta()

        self._decide_conflicts(mig, key, cid, cid_record)

        # gone: archived only when the admin says so
        mig.api_delta_gone({"action": "archive"})
        self.assertFalse(eve.active)
        self.assertEqual(self.record_of(mig, key("e")).delta_gone_action, "archived")
        self.assertEqual(len(self.link_of(mig, key("e"))), 1)

        # rollback: Odoo exactly as before the first commit
        mig.api_rollback({"on_conflict": "undo"})
        self.env.flush_all()
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertFalse((ann | bob | cid | eve | dan).exists())
        self.assertEqual({f: self.pre[f] for f in pre_before}, pre_before)
        self.assertFalse(self.Tag.search([("name", "=", "Delta VIP")]))

    def _decide_conflicts(self, mig, key, cid, cid_record):
        """The admin decides per record: take the source for Cid, keep Odoo's for Dora."""
        cid_record.action_delta_take_source()
        self.assertEqual(cid.city, "Stavanger")
        self.assertEqual(cid_record.delta_decision, "source")
        report = mig.api_delta_resolve({"take": "odoo", "keys": [key("m")]})
        self.assertEqual(self.pre.function, "CEO")
        self.assertEqual(report["state"], "committed")
        self.assertEqual(report["delta"]["contact"], {"unchanged": 1, "updated": 2, "created": 1, "gone": 1,
                                                       "conflicts": 1, "pending": 0, "errors": 0})
        self.assertIn("Final delta", str(mig.delta_html))
        self.assertIn("Final delta: 3 unchanged, 2 updated, 1 created, 1 gone from the source, 1 conflicts.",
                      mig._job_done_message("commit"))
        self.assertIn("Final delta", str(mig.report_html))

    def _assert_delta_written(self, mig, key, bob, cid, eve, audit_before):
        """After the delta's commit: what was written, what is a conflict, links and audit."""
        # changed: written, the Odoo edit of another field kept, the removed tag removed
        self.assertEqual((bob.city, bob.function), ("Milan", "Buyer"))
        self.assertFalse(bob.category_id)
        # edited in Odoo since the migration wrote it: never silently overwritten
        cid_record = self.record_of(mig, key("c"))
        self.assertEqual(cid.city, "Bergen")
        self.assertEqual(cid_record.state, "conflict")
        self.assertIn("city", cid_record.error_message)
        self.assertEqual(cid_record.delta_conflict_json["city"],
                         {"source": "Stavanger", "odoo": "Bergen", "migration": "Oslo"})
        # matched partner: the phone the migration wrote is updated; its function the migration never
        # wrote (Odoo's own value) is a conflict
        self.assertEqual((self.pre.phone, self.pre.function), ("+1 222", "CEO"))
        self.assertEqual(list(self.record_of(mig, key("m")).delta_conflict_json), ["function"])
        # new: created; gone: listed, untouched
        dan = self.odoo(key("d"), mig)
        self.assertEqual((dan.name, dan.city), ("Dan Delta", "Turin"))
        self.assertTrue(eve.active)
        # one link per key; values_before keeps the value from before the first commit
        m_link = self.link_of(mig, key("m"))
        self.assertEqual(len(m_link), 1)
        self.assertEqual(m_link.values_before_json, {"phone": False})
        self.assertEqual(m_link.values_after_json["phone"], "+1 222")
        self.assertEqual(self.link_of(mig, key("b")).values_after_json["city"], "Milan")
        audit = self.env["crm.migration.audit"].search([("migration_id", "=", mig.id)], order="id")[audit_before:]
        self.assertEqual(sorted((a.key, a.action) for a in audit),
                         [(key("b"), "update"), (key("d"), "create"), (key("m"), "update")])
        self.assertEqual(audit.filtered(lambda a: a.key == key("b")).values_before_json,
                         {"city": "Rome", "category_id": [self.link_of(mig, "testsrc:tag:delta vip").res_id]})
        return cid_record, dan

    def test_second_round_unchanged_delete_gone_and_rollback(self):
        partners_before = self.Partner.search_count([])
        mig = self.committed()
        key = "testsrc:contact:{}".format
        mig.api_start_delta()
        mig.api_stage(self.newer_export())
        mig.api_finish_staging()
        mig.api_commit()
        mig.api_delta_resolve({"take": "source"})
        self.assertEqual(self.pre.function, "CTO")
        m_link = self.link_of(mig, key("m"))
        self.assertEqual(m_link.values_before_json, {"phone": False, "function": "CEO"})

        # the same export again: everything unchanged, nothing written
        report = mig.api_start_delta()
        self.assertEqual(report["delta_round"], 2)
        mig.api_stage(self.newer_export())
        report = mig.api_finish_staging()
        self.assertEqual(report["delta"]["contact"], {"unchanged": 5, "updated": 0, "created": 0, "gone": 1,
                                                       "conflicts": 0, "pending": 0, "errors": 0})
        # a matched record is never deleted (a rollback could not bring it back)
        mig.api_start_delta()
        mig.api_stage([r for r in self.newer_export() if r["key"] != key("m")])
        mig.api_finish_staging()
        with self.assertRaisesRegex(UserError, "archive it instead"):
            mig.api_delta_gone({"action": "delete"})
        eve = self.odoo(key("e"), mig)
        self.assertTrue(eve.exists())
        mig.api_delta_gone({"action": "delete", "keys": [key("e")]})
        self.assertFalse(eve.exists())
        mig.api_delta_gone({"action": "archive", "keys": [key("m")]})
        self.assertFalse(self.pre.active)
        self.assertEqual(self.link_of(mig, key("m")).values_before_json,
                         {"phone": False, "function": "CEO", "active": True})

        mig.api_rollback({"on_conflict": "undo"})
        self.env.flush_all()
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertEqual((self.pre.phone, self.pre.function, self.pre.active, self.pre.city),
                         (False, "CEO", True, "Lyon"))

    def test_update_restaged_in_the_same_round_and_source_back_to_original(self):
        mig = self.committed()
        key = "testsrc:contact:{}".format
        mig.api_start_delta()
        mig.api_stage(self.newer_export())
        # the round is staged again with the original content: back to unchanged, nothing to write
        mig.api_start_delta()
        self.assertEqual(mig.delta_round, 1)
        mig.api_stage(self.first_export())
        self.record_of(mig, key("d")).unlink()  # what the bridge does with an earlier upload's new records
        report = mig.api_finish_staging()
        self.assertEqual(report["delta"]["contact"]["unchanged"], 5)
        self.assertEqual(self.record_of(mig, key("b")).state, "committed")
        self.assertEqual(self.record_of(mig, key("b")).values_json["city"], "Rome")
        report = mig.api_commit()
        self.assertEqual(self.odoo(key("b"), mig).city, "Rome")
        self.assertEqual(report["delta"]["contact"]["updated"], 0)

    def test_changed_content_that_odoo_already_has_is_unchanged(self):
        mig = self.committed()
        key = "testsrc:contact:{}".format
        records = self.first_export()
        # Ann's company now comes as a lookup of the same partner instead of a ref: another hash,
        # the same value in Odoo
        ann = next(r for r in records if r["key"] == key("a"))
        del ann["refs"]["parent_id"]
        ann["lookups"] = {"parent_id": {"model": "res.partner", "field": "name", "value": "Delta Co"}}
        mig.api_start_delta()
        mig.api_stage(records)
        report = mig.api_finish_staging()
        self.assertEqual(report["delta"]["contact"]["pending"], 1)
        audit_before = self.env["crm.migration.audit"].search_count([("migration_id", "=", mig.id)])
        report = mig.api_commit()
        self.assertEqual(report["delta"]["contact"], {"unchanged": 5, "updated": 0, "created": 0, "gone": 0,
                                                       "conflicts": 0, "pending": 0, "errors": 0})
        self.assertEqual(self.env["crm.migration.audit"].search_count([("migration_id", "=", mig.id)]), audit_before)
        self.assertEqual(self.link_of(mig, key("a")).hash, self.record_of(mig, key("a")).hash)

    def test_final_delta_opens_the_upload_wizard_on_the_migration(self):
        with self.bridge_answers():
            mig = self.committed()
            action = mig.action_final_delta()
            self.assertEqual(action["res_model"], "crm.migration.upload.wizard")
            wizard = self.env["crm.migration.upload.wizard"].with_context(**action["context"]).create({})
            self.assertEqual(wizard.migration_id, mig)
            self.assertEqual(wizard.migration_state, "committed")
            draft = self.new_migration("draft")
            mig.api_rollback({"on_conflict": "undo"})
            for migration, expected in ((draft, draft), (mig, self.Migration)):
                ctx = {"active_model": "crm.migration", "active_id": migration.id}
                self.assertEqual(self.env["crm.migration.upload.wizard"].with_context(**ctx).create({}).migration_id,
                                 expected)
