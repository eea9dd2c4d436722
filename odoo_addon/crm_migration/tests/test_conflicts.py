from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..services import bulk
from ..services.commit import CommitEngine
from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestRollbackConflicts(MigrationCase):
    """Rollback finds records edited or used in Odoo since the migration wrote them, and the
    audit log records what commits and rollbacks did."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.existing = cls.Partner.create({"name": "Grace Existing", "email": "grace.cf@example.com"})
        # a person working in Odoo (tests run as OdooBot, which stands for Odoo's own scheduled actions)
        cls.admin = cls.env.ref("base.user_admin")

    def _records(self):
        return [
            self.tag("Mig CF Tag"),
            self.company("cfco", "Mig CF Company"),
            self.contact("1", "Mig CF One", "one.cf@example.com", company="cfco", tags=["Mig CF Tag"]),
            self.contact("2", "Mig CF Two", "two.cf@example.com"),
            self.contact("grace", "Grace Hopper", "grace.cf@example.com", phone="555"),
        ]

    def _commit(self):
        mig = self.new_migration()
        mig.api_stage(self._records())
        mig.api_commit()
        return mig

    @contextmanager
    def later(self):
        """A user works in Odoo an hour after the commit (a test runs in one transaction, whose
        timestamp is the one of the commit: move the clock of the writes forward)."""
        later = self.env.cr.now() + timedelta(hours=1)
        with patch.object(type(self.env.cr), "now", lambda cr: later):
            yield
        self.env.flush_all()

    def test_no_conflicts_plain_rollback(self):
        mig = self._commit()
        self.assertEqual(mig.api_rollback_conflicts(), [])
        one = self.partner("one.cf@example.com")
        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(report["kept_conflicts"], [])
        self.assertFalse(one.exists())
        self.assertFalse(self.existing.phone)
        self.assertFalse(mig.link_ids)
        with self.assertRaises(ValidationError):
            self.new_migration("other").api_rollback({"on_conflict": "maybe"})

    def test_edited_created_partner(self):
        mig = self._commit()
        one = self.partner("one.cf@example.com")
        two = self.partner("two.cf@example.com")
        with self.later():
            one.with_user(self.admin).function = "CTO"
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["key"], c["kind"], c["res_id"], c["model"]) for c in conflicts],
                         [("testsrc:contact:1", "edited", one.id, "res.partner")])
        self.assertEqual(conflicts[0]["name"], one.display_name)

        # stop (default): raises, nothing undone
        with self.assertRaisesRegex(UserError, "testsrc:contact:1"):
            mig.api_rollback()
        self.assertEqual(mig.state, "committed")
        self.assertEqual(len(mig.link_ids), 5)
        self.assertTrue(two.exists())
        self.assertEqual(self.existing.phone, "555")

        # keep: the edited contact stays with the user's edit, with what it refers to (its company
        # and tag, created by the migration); the rest is undone
        company = one.parent_id
        tag = one.category_id
        report = mig.api_rollback({"on_conflict": "keep"})
        self.assertEqual(report["state"], "rolled_back")
        self.assertTrue(one.exists())
        self.assertEqual(one.function, "CTO")
        self.assertEqual(one.parent_id, company)
        self.assertEqual(one.category_id, tag)
        self.assertFalse(two.exists())
        self.assertFalse(self.existing.phone)  # restored
        kept = {c["key"]: c["kind"] for c in report["kept_conflicts"]}
        self.assertEqual(kept, {"testsrc:contact:1": "edited", "testsrc:company:cfco": "dependency",
                                "testsrc:tag:mig cf tag": "dependency"})
        self.assertEqual(set(mig.link_ids.mapped("key")), set(kept))
        self.assertTrue(all(mig.link_ids.mapped("kept")))
        self.assertEqual(self.record_of(mig, "testsrc:contact:1").state, "committed")
        self.assertEqual(self.record_of(mig, "testsrc:contact:2").state, "rolled_back")
        # a second rollback is a no-op
        self.assertEqual(mig.api_rollback(), report)

    def test_edited_undo_anyway(self):
        mig = self._commit()
        one = self.partner("one.cf@example.com")
        with self.later():
            one.with_user(self.admin).function = "CTO"
        report = mig.api_rollback({"on_conflict": "undo"})
        self.assertFalse(one.exists())
        self.assertEqual(report["kept_conflicts"], [])
        self.assertFalse(mig.link_ids)

    def test_edited_updated_partner(self):
        mig = self._commit()
        # a later edit of a field the migration did not write is no conflict
        with self.later():
            self.existing.with_user(self.admin).function = "Admiral"
        self.assertEqual(mig.api_rollback_conflicts(), [])
        # a later edit of a field the rollback would restore is one
        with self.later():
            self.existing.with_user(self.admin).phone = "999"
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["key"], c["kind"]) for c in conflicts], [("testsrc:contact:grace", "edited")])
        self.assertIn("phone", conflicts[0]["detail"])
        mig.api_rollback({"on_conflict": "keep"})
        self.assertEqual((self.existing.phone, self.existing.function), ("999", "Admiral"))
        self.assertFalse(self.partner("one.cf@example.com"))

    def test_referenced_partner(self):
        mig = self._commit()
        two = self.partner("two.cf@example.com")
        one = self.partner("one.cf@example.com")
        lead = self.env["crm.lead"].create({"name": "Deal on a migrated contact", "partner_id": two.id})
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["key"], c["kind"]) for c in conflicts], [("testsrc:contact:2", "referenced")])
        self.assertIn("1 crm.lead (partner_id)", conflicts[0]["detail"])
        with self.assertRaisesRegex(UserError, "crm.lead"):
            mig.api_rollback()
        self.assertTrue(one.exists())

        report = mig.api_rollback({"on_conflict": "keep"})
        self.assertTrue(two.exists())
        self.assertEqual(lead.partner_id, two)
        self.assertFalse(one.exists())
        self.assertEqual([(c["key"], c["kind"]) for c in report["kept_conflicts"]],
                         [("testsrc:contact:2", "referenced")])

    def test_wizard(self):
        mig = self._commit()
        action = mig.action_rollback()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard.conflict_count, 0)
        wizard.action_confirm()
        self.assertEqual(mig.state, "rolled_back")

        mig = self._commit()
        two = self.partner("two.cf@example.com")
        self.env["crm.lead"].create({"name": "Deal", "partner_id": two.id})
        wizard = self.env["crm.migration.rollback.wizard"].browse(mig.action_rollback()["res_id"])
        self.assertEqual(wizard.conflict_count, 1)
        self.assertIn("testsrc:contact:2", wizard.conflicts_text)
        wizard.action_keep()
        self.assertTrue(two.exists())
        self.assertEqual(mig.state, "rolled_back")

    # ------------------------------------------------------------------ audit
    def _count_audit_creates(self):
        """Calls writing audit rows and their sizes: the engines write them in bulk
        (services/bulk.py, one multi-row INSERT per batch)."""
        original = bulk.insert_audit
        calls = []

        def spy(env, vals_list):
            calls.append(len(vals_list))
            return original(env, vals_list)

        return calls, patch.object(bulk, "insert_audit", spy)

    def test_audit_commit_and_rollback(self):
        mig = self.new_migration()
        mig.api_stage(self._records())
        calls, spy = self._count_audit_creates()
        with spy:
            mig.api_commit()
        # one create per batch: tag, company, contacts (3 objects, one batch each)
        self.assertEqual(calls, [1, 1, 3])
        rows = mig.api_audit()
        by_key = {r["key"]: r for r in rows}
        one = self.partner("one.cf@example.com")
        self.assertEqual(by_key["testsrc:contact:1"]["action"], "create")
        self.assertEqual(by_key["testsrc:contact:1"]["res_id"], one.id)
        self.assertEqual(by_key["testsrc:contact:1"]["values_after"]["email"], "one.cf@example.com")
        self.assertEqual(by_key["testsrc:contact:1"]["values_after"]["parent_id"], one.parent_id.id)
        self.assertEqual(by_key["testsrc:contact:1"]["values_after"]["category_id"], one.category_id.ids)
        self.assertEqual(by_key["testsrc:contact:1"]["user_id"], self.env.uid)
        grace = by_key["testsrc:contact:grace"]
        self.assertEqual((grace["action"], grace["res_id"]), ("update", self.existing.id))
        self.assertEqual(grace["values_before"], {"phone": False})
        self.assertEqual(grace["values_after"], {"phone": "555"})
        self.assertEqual(len(rows), 5)
        self.assertEqual(len(mig.api_audit(limit=2)), 2)
        self.assertEqual(mig.audit_count, 5)

        # a second migration meeting the same keys only matches
        mig2 = self.new_migration("second")
        mig2.api_stage(self._records())
        mig2.api_commit()
        self.assertEqual({r["action"] for r in mig2.api_audit()}, {"match"})
        mig2.api_rollback()
        self.assertEqual(mig2.api_audit()[5:], [])  # matched records: nothing undone

        with spy:
            calls.clear()
            mig.api_rollback()
        self.assertEqual(calls, [5])  # one create for the whole rollback
        rows = mig.api_audit()[5:]
        actions = {r["key"]: r["action"] for r in rows}
        self.assertEqual(actions, {"testsrc:contact:grace": "restore", "testsrc:contact:1": "delete",
                                   "testsrc:contact:2": "delete", "testsrc:company:cfco": "delete",
                                   "testsrc:tag:mig cf tag": "delete"})
        restore = next(r for r in rows if r["action"] == "restore")
        self.assertEqual((restore["values_before"], restore["values_after"]), ({"phone": "555"}, {"phone": False}))

    def test_audit_batched(self):
        """Audit rows cost one create per batch, not per record."""
        mig = self.new_migration()
        mig.api_stage([self.contact(f"b{i}", f"Mig CF Batch {i}", f"b{i}.cf@example.com", row=i) for i in range(30)])
        calls, spy = self._count_audit_creates()
        with spy:
            mig.api_commit({"batch_size": 10})
        self.assertEqual(calls, [10, 10, 10])
        with spy:
            calls.clear()
            mig.api_rollback()
        self.assertEqual(calls, [30])
        self.assertEqual(self.env["crm.migration.audit"].search_count(
            [("migration_id", "=", mig.id), ("action", "=", "delete")]), 30)

    def test_own_later_writes_are_not_conflicts(self):
        """A company committed first (a sample), its first contact committed in a later transaction:
        Odoo copies the contact's address to the company. That write is the migration's own, not
        an edit to protect at rollback; an edit by someone between the two commits still is."""
        mig = self.new_migration()
        with self.odoo_contact_addresses():
            mig.api_stage([self.company("own", "Mig Own Co"), self.company("own2", "Mig Own Co 2"),
                           self.contact("own1", "Mig Own One", "own1.cf@example.com", company="own",
                                        street="1 Main St")])
        mig.record_ids.filtered(lambda r: r.object == "company").write({"sampled": True})
        CommitEngine(mig, sampled_only=True).run()
        company = self.Partner.search([("name", "=", "Mig Own Co")])
        company2 = self.Partner.search([("name", "=", "Mig Own Co 2")])
        self.assertFalse(company.street)
        with self.later():  # someone edits the second company before the full commit...
            company2.with_user(self.admin).write({"phone": "+1 555 0100"})
        later = self.env.cr.now() + timedelta(hours=2)
        with patch.object(type(self.env.cr), "now", lambda cr: later):  # ...which runs in a later transaction
            CommitEngine(mig).run()
            self.env.flush_all()
        self.assertEqual(company.street, "1 Main St", "Odoo gave the company its first contact's address")
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["name"], c["kind"]) for c in conflicts], [("Mig Own Co 2", "edited")])

    def test_automated_writes_on_created_records(self):
        """Odoo itself (a scheduled action, as OdooBot) writing a created record: no conflict while
        the values the migration wrote are intact; a conflict once it changed one of them. A
        person's edit of a created record always is one."""
        mig = self._commit()
        one = self.partner("one.cf@example.com")
        two = self.partner("two.cf@example.com")
        with self.later():
            one.with_user(SUPERUSER_ID).write({"comment": "enriched by a scheduled action"})
        self.assertEqual(mig.api_rollback_conflicts(), [])
        with self.later():
            two.with_user(SUPERUSER_ID).write({"name": "Mig CF Two (renamed by a robot)"})
        conflicts = mig.api_rollback_conflicts()
        self.assertEqual([(c["key"], c["kind"]) for c in conflicts], [("testsrc:contact:2", "edited")])
        self.assertIn("name", conflicts[0]["detail"])
