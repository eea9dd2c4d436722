from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestRollbackConfirmedOrder(TransactionCase):
    """A migration that created confirmed sale orders (state 'sale') with lines and placeholder
    products rolls back exactly: the orders go back to their default state first, since Odoo
    refuses to delete confirmed orders and their lines."""

    def test_confirmed_order_rolled_back(self):
        Migration = self.env["crm.migration"]
        mig = Migration.browse(Migration.api_create({"name": "Sales", "source": "testsrc"}))
        partner = self.env["res.partner"].create({"name": "Buyer"})
        counts = {m: self.env[m].search_count([]) for m in ("sale.order", "sale.order.line", "product.product")}
        mig.api_stage([
            {"key": "testsrc:product:course", "object": "product", "model": "product.product",
             "values": {"name": "Migrated course", "type": "service"}, "match": [["name"]]},
            {"key": "testsrc:order:1", "object": "order", "model": "sale.order",
             "values": {"state": "sale", "date_order": "2024-03-15 15:20:00", "client_order_ref": "T-1"},
             "lookups": {"partner_id": {"model": "res.partner", "field": "name", "value": "Buyer"}}},
            {"key": "testsrc:order_line:1", "object": "order_line", "model": "sale.order.line",
             "values": {"name": "Migrated course", "product_uom_qty": 1, "price_unit": 199},
             "refs": {"order_id": "testsrc:order:1", "product_id": "testsrc:product:course"}},
        ])
        mig.api_finish_staging()
        report = mig.api_commit()
        self.assertEqual(report["state"], "committed", report)
        order = self.env["sale.order"].search([("client_order_ref", "=", "T-1")])
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.partner_id, partner)
        self.assertEqual(order.source_key, "testsrc:order:1")
        self.assertEqual(order.order_line.price_unit, 199)

        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertFalse(order.exists())
        self.assertEqual({m: self.env[m].search_count([]) for m in counts}, counts)
