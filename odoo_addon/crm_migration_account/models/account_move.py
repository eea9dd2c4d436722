from odoo import fields, models


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "crm.migration.source.mixin"]

    # What the source says about the document, staged in ``values`` like any field; the commit
    # applies it once the invoice's lines are in (crm.migration._after_commit_run).
    source_state = fields.Selection(
        [("draft", "Draft"), ("posted", "Posted"), ("cancel", "Cancelled")],
        string="State in source", copy=False, readonly=True,
        help="State the migration gives this invoice after its lines are created: posted (an open "
             "or paid invoice in the source), cancelled (void), or left in draft.",
    )
    source_paid_amount = fields.Float(
        string="Paid in source", copy=False, readonly=True, digits=0,
        help="Amount the source records as paid; a payment of this amount is registered and "
             "reconciled with the posted invoice when a bank or cash journal exists.",
    )
    source_paid_date = fields.Date(string="Paid in source on", copy=False, readonly=True)
    source_payment_ref = fields.Char(string="Payment reference in source", copy=False, readonly=True)
