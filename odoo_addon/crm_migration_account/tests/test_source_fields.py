from datetime import datetime

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestAccountSourceFields(TransactionCase):
    def test_auto_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "crm_migration_account")])
        self.assertEqual(module.state, "installed")
        self.assertTrue(module.auto_install)

    def test_account_move_fields(self):
        fields_ = self.env["account.move"]._fields
        self.assertEqual(fields_["source_key"].type, "char")
        self.assertTrue(fields_["source_key"].index)
        self.assertEqual(fields_["source_create_date"].type, "datetime")
        journal = self.env["account.journal"].create({"name": "Migration src", "code": "MSRC", "type": "general"})
        move = self.env["account.move"].create({
            "move_type": "entry", "journal_id": journal.id,
            "source_key": "testsrc:invoice:1", "source_create_date": "2017-06-07 08:09:10",
        })
        move.invalidate_recordset()
        self.assertEqual(move.source_key, "testsrc:invoice:1")
        self.assertEqual(move.source_create_date, datetime(2017, 6, 7, 8, 9, 10))
        copy = move.copy()
        self.assertFalse(copy.source_key)
        self.assertFalse(copy.source_create_date)

    def test_form_shows_fields(self):
        arch = self.env["account.move"].get_view(self.env.ref("account.view_move_form").id, "form")["arch"]
        self.assertIn('name="source_key"', arch)
        self.assertIn('name="source_create_date"', arch)
