from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..services import rollback
from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestRollback(MigrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.existing = cls.Partner.create({"name": "Grace Existing", "email": "grace.rb@example.com",
                                           "city": "Arlington"})

    def _records(self):
        return [
            self.tag("Mig RB Tag"),
            self.company("rbco", "Mig RB Company"),
            self.company("rbsub", "Mig RB Subsidiary", parent="rbco"),
            self.contact("1", "Mig RB One", "one.rb@example.com", company="rbco", tags=["Mig RB Tag"]),
            self.contact("2", "Mig RB Two", "two.rb@example.com", company="rbsub"),
            self.contact("grace", "Grace Hopper", "grace.rb@example.com", tags=["Mig RB Tag"], phone="555",
                         city="New York"),
        ]

    def _counts(self):
        self.env.flush_all()
        return self.Partner.search_count([]), self.Tag.search_count([])

    def test_rollback_exact(self):
        before = self._counts()
        mig = self.new_migration()
        mig.api_stage(self._records())
        mig.api_commit({"batch_size": 2})
        self.assertEqual(self._counts(), (before[0] + 4, before[1] + 1))
        self.assertEqual(self.existing.phone, "555")
        self.assertEqual(self.existing.city, "Arlington")

        # commit twice creates nothing new
        links = mig.link_ids.ids
        report = mig.api_commit()
        self.assertEqual(self._counts(), (before[0] + 4, before[1] + 1))
        self.assertEqual(mig.link_ids.ids, links)
        self.assertEqual(report["links"], {"created": 5, "matched": 0, "updated": 1})

        report = mig.api_rollback()
        self.assertEqual(self._counts(), before)
        self.assertEqual((self.existing.name, self.existing.email, self.existing.city),
                         ("Grace Existing", "grace.rb@example.com", "Arlington"))
        self.assertFalse(self.existing.phone)
        self.assertFalse(self.existing.category_id)
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(report["counts"]["rolled_back"], 6)
        self.assertEqual(report["links"], {"created": 0, "matched": 0, "updated": 0})
        self.assertFalse(mig.link_ids)
        self.assertEqual(set(mig.record_ids.mapped("state")), {"rolled_back"})

        # twice: no-op
        self.assertEqual(mig.api_rollback(), report)
        self.assertEqual(self._counts(), before)
        with self.assertRaises(UserError):
            mig.api_commit()

    def test_rerun_creates_nothing(self):
        mig1 = self.new_migration("first")
        mig1.api_stage(self._records())
        mig1.api_commit()
        after_first = self._counts()

        mig2 = self.new_migration("second")
        mig2.api_stage(self._records())
        report = mig2.api_commit()
        self.assertEqual(self._counts(), after_first)
        self.assertEqual(report["counts"]["matched"], 6)
        # nothing written, but linked: rolling back the first migration now waits for this one
        self.assertEqual(report["links"], {"created": 0, "matched": 6, "updated": 0})
        self.assertEqual(set(mig2.link_ids.mapped("res_id")), set(mig1.link_ids.mapped("res_id")))
        self.assertEqual(report["state"], "committed")

        # a changed record (other hash) of an already linked key only fills empty fields
        one = self.partner("one.rb@example.com")
        self.assertFalse(one.phone)
        mig3 = self.new_migration("third")
        mig3.api_stage([self.contact("1", "Mig RB One Renamed", "one.rb@example.com", company="rbco",
                                     tags=["Mig RB Tag"], phone="777")])
        report = mig3.api_commit()
        self.assertEqual(self._counts(), after_first)
        self.assertEqual((one.name, one.phone), ("Mig RB One", "777"))
        self.assertEqual(report["links"], {"created": 0, "matched": 0, "updated": 1})

        # the first migration cannot be rolled back while the third one changed its records
        with self.assertRaisesRegex(UserError, "third") as ctx:
            mig1.api_rollback()
        self.assertIn("second", str(ctx.exception))
        self.assertEqual(mig1.state, "committed")
        mig3.api_rollback()
        self.assertFalse(one.phone)
        mig2.api_rollback()
        mig1.api_rollback()
        self.assertFalse(one.exists())

    def test_rollback_failure_undoes_nothing(self):
        mig = self.new_migration()
        mig.api_stage(self._records())
        mig.api_commit()
        one = self.partner("one.rb@example.com")
        self.env["res.users"].create({"login": "mig_rb_user", "name": "Mig RB User", "partner_id": one.id})
        tag = self.Tag.search([("name", "=", "Mig RB Tag")])
        # the user is a conflict ("referenced"): by default nothing is undone
        with self.assertRaisesRegex(UserError, "testsrc:contact:1") as ctx:
            mig.api_rollback()
        self.assertIn("res.users (partner_id)", str(ctx.exception))
        self.assertEqual(len(mig.link_ids), 6)
        # undo anyway: Odoo itself refuses, and still nothing is undone
        with self.assertRaisesRegex(UserError, "testsrc:contact:1") as ctx:
            mig.api_rollback({"on_conflict": "undo"})  # Odoo's own reason
        # nothing half-undone
        self.assertEqual(mig.state, "committed")
        self.assertEqual(len(mig.link_ids), 6)
        self.assertTrue(tag.exists())
        self.assertTrue(self.partner("two.rb@example.com"))
        self.assertEqual(self.existing.phone, "555")

    def test_rollback_in_pieces(self):
        """One model's records are unlinked a piece at a time (issue #11: memory at a million
        records), still in one savepoint: the same outcome, and a piece that fails undoes the
        pieces before it."""
        before = self._counts()
        mig = self.new_migration()
        mig.api_stage(self._records())
        mig.api_commit()
        one = self.partner("one.rb@example.com")
        two = self.partner("two.rb@example.com")
        user = self.env["res.users"].create({"login": "mig_rb_piece", "name": "Mig RB Piece", "partner_id": two.id})
        with patch.object(rollback, "UNLINK_PIECE", 1), patch.object(
                type(self.Partner), "unlink", autospec=True, side_effect=type(self.Partner).unlink) as unlink:
            with self.assertRaisesRegex(UserError, "testsrc:contact:2"):
                mig.api_rollback({"on_conflict": "undo"})
            self.assertGreater(unlink.call_count, 1)
            self.assertTrue(one.exists())
            self.assertEqual(mig.state, "committed")
            self.assertEqual(len(mig.link_ids), 6)
            user.unlink()
            unlink.reset_mock()
            report = mig.api_rollback()
            # three partners one at a time (and the fallback of nothing)
            self.assertEqual([len(c.args[0]) for c in unlink.call_args_list if c.args[0]._name == "res.partner"],
                             [1, 1, 1, 1])
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(self._counts(), before)
        self.assertFalse(self.existing.phone)
        self.assertEqual(self.env["crm.migration.audit"].search_count(
            [("migration_id", "=", mig.id), ("action", "=", "delete")]), 5)
