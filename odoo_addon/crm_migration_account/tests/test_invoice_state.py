from odoo.tests import TransactionCase, tagged

from ..models.crm_migration import payment_memo_field


@tagged("post_install", "-at_install")
class TestInvoiceState(TransactionCase):
    """Customer invoices a migration creates with a state in the source: posted or cancelled once
    their lines are in, the amount paid registered and reconciled; a rollback undoes it all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Migration = cls.env["crm.migration"]
        if not cls.env["account.journal"].search([("type", "=", "sale")], limit=1):
            cls.skipTest(cls, "no sales journal (no chart of accounts)")

    def staged(self, key, obj, model, values, refs=None):
        return {"key": key, "object": obj, "model": model, "values": values, "refs": refs or {},
                "lookups": {}, "match": [], "source": {"file": "invoices.csv", "row": 1, "data": {}}, "issues": []}

    def invoice(self, key, state, paid=0.0, price=100.0):
        return [
            self.staged(f"testsrc:invoice:{key}", "invoice", "account.move", {
                "move_type": "out_invoice", "invoice_date": "2024-03-20", "ref": key, "source_state": state,
                "source_paid_amount": paid, "source_paid_date": "2024-03-28", "source_payment_ref": f"TX-{key}"},
                refs={"partner_id": "testsrc:contact:ada"}),
            self.staged(f"testsrc:invoice_line:{key}", "invoice_line", "account.move.line", {
                "display_type": "product", "name": "Engine licence", "quantity": 2, "price_unit": price},
                refs={"move_id": f"testsrc:invoice:{key}"}),
        ]

    def test_posted_paid_cancelled_and_rolled_back(self):
        models = ("account.move", "account.payment", "account.partial.reconcile")
        counts = {m: self.env[m].search_count([]) for m in models}
        mig = self.Migration.browse(self.Migration.api_create({"name": "Invoices", "source": "testsrc"}))
        mig.api_stage([
            self.staged("testsrc:contact:ada", "contact", "res.partner", {"name": "Ada Invoice"}),
            *self.invoice("PAID", "posted", paid=200.0),
            *self.invoice("PART", "posted", paid=50.0),
            *self.invoice("OPEN", "posted"),
            *self.invoice("VOID", "cancel"),
            *self.invoice("DRAFT", "draft"),
        ])
        report = mig.api_commit()
        self.assertEqual(report["state"], "committed", report)
        moves = {m.ref: m for m in self.env["account.move"].search([("source_key", "like", "testsrc:invoice:")])}
        self.assertEqual({ref: m.state for ref, m in moves.items()},
                         {"PAID": "posted", "PART": "posted", "OPEN": "posted", "VOID": "cancel", "DRAFT": "draft"})
        self.assertEqual(moves["PAID"].amount_total, 200.0, "no default tax added")
        self.assertIn(moves["PAID"].payment_state, ("paid", "in_payment"))
        self.assertEqual((moves["PART"].payment_state, moves["PART"].amount_residual), ("partial", 150.0))
        self.assertEqual(moves["OPEN"].payment_state, "not_paid")
        payments = self.env["account.payment"].search([(payment_memo_field(self.env), "like", "TX-")])
        self.assertEqual(sorted(payments.mapped("amount")), [50.0, 200.0])
        links = mig.link_ids.filtered(lambda link: link.model == "account.payment")
        self.assertEqual(sorted(links.mapped("key")), ["testsrc:invoice:PAID:payment", "testsrc:invoice:PART:payment"])

        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual({m: self.env[m].search_count([]) for m in counts}, counts)
