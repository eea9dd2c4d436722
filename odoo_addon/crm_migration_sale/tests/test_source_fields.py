from datetime import datetime

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestSaleSourceFields(TransactionCase):
    def test_auto_installed(self):
        module = self.env["ir.module.module"].search([("name", "=", "crm_migration_sale")])
        self.assertEqual(module.state, "installed")
        self.assertTrue(module.auto_install)

    def test_sale_order_fields(self):
        fields_ = self.env["sale.order"]._fields
        self.assertEqual(fields_["source_key"].type, "char")
        self.assertTrue(fields_["source_key"].index)
        self.assertEqual(fields_["source_create_date"].type, "datetime")
        partner = self.env["res.partner"].create({"name": "Sale Src Customer"})
        order = self.env["sale.order"].create({
            "partner_id": partner.id, "source_key": "testsrc:order:1", "source_create_date": "2018-01-02 03:04:05",
        })
        order.invalidate_recordset()
        self.assertEqual(order.source_key, "testsrc:order:1")
        self.assertEqual(order.source_create_date, datetime(2018, 1, 2, 3, 4, 5))
        copy = order.copy()
        self.assertFalse(copy.source_key)
        self.assertFalse(copy.source_create_date)

    def test_form_shows_fields(self):
        arch = self.env["sale.order"].get_view(self.env.ref("sale.view_order_form").id, "form")["arch"]
        self.assertIn('name="source_key"', arch)
        self.assertIn('name="source_create_date"', arch)

    def test_staging_accepts_field(self):
        mig = self.env["crm.migration"].browse(self.env["crm.migration"].api_create({"name": "Sale src"}))
        partner = self.env["res.partner"].create({"name": "Sale Src Staged"})
        # a staged sale.order may carry source_create_date in its values
        answer = mig.api_stage([{
            "key": "testsrc:order:2", "object": "order", "model": "sale.order",
            "values": {"source_create_date": "2018-01-02 03:04:05"},
            "lookups": {"partner_id": {"model": "res.partner", "field": "name", "value": partner.name}},
        }])
        self.assertEqual(answer, {"staged": 1, "errors": 0})
