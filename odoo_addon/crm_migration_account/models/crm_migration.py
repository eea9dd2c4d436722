"""Invoices a migration created: posted, cancelled and paid as the source says, once their lines
are in; undone before a rollback removes them. Generic: reads only the ``source_*`` fields of
account.move that the staged records fill, never a source by name."""

import logging

from odoo import Command, fields, models

from odoo.addons.crm_migration.services.errors import savepoint_attempt

_logger = logging.getLogger(__name__)

MOVE = "account.move"
PAYMENT = "account.payment"
PAYMENT_KEY_SUFFIX = ":payment"


def payment_memo_field(env):
    """The payment's reference: ``memo`` from 18 on, ``ref`` on 17."""
    return "memo" if "memo" in env[PAYMENT]._fields else "ref"


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    def _glue_link_models(self):
        return super()._glue_link_models() | {PAYMENT}

    def _after_commit_run(self, engine):
        super()._after_commit_run(engine)
        links = self.env["crm.migration.link"].search([
            ("migration_id", "=", self.id), ("model", "=", MOVE), ("action", "=", "created")])
        moves = self.env[MOVE].browse(links.mapped("res_id")).exists().filtered(
            lambda m: m.state == "draft" and m.source_state and m.is_invoice(include_receipts=True))
        link_by_move = {link.res_id: link for link in links}
        for move in moves:
            link = link_by_move[move.id]
            with savepoint_attempt(self.env) as attempt:
                self._finish_migrated_invoice(engine, link, move)
            if attempt.failed:  # reported on the staged record
                _logger.info("migrated invoice %s left in draft: %s", link.key, attempt.exception)
                self._warn_record(link, "state", self.env._(
                    "left in draft: Odoo refused to post it (%(error)s)", error=str(attempt.exception)))

    def _finish_migrated_invoice(self, engine, link, move):
        # the source's line prices are what it charged: no default tax is added to them
        lines = move.invoice_line_ids.filtered(lambda line: line.display_type == "product" and line.tax_ids)
        if lines:
            lines.write({"tax_ids": [Command.clear()]})
        if move.source_state == "cancel":
            move.button_cancel()
            return
        if move.source_state != "posted":
            return
        move.action_post()
        amount = min(move.source_paid_amount or 0.0, move.amount_residual)
        if move.currency_id.is_zero(amount) or amount < 0:
            return
        journal = self.env["account.journal"].search([
            *self.env["account.journal"]._check_company_domain(move.company_id),
            ("type", "in", ("bank", "cash"))], limit=1)
        if not journal:
            self._warn_record(link, "source_paid_amount", self.env._(
                "paid %(amount)s in the source: no payment registered, the database has no bank or cash "
                "journal (the amount stays in 'Paid in source')", amount=amount))
            return
        wizard = self.env["account.payment.register"].with_context(
            active_model=MOVE, active_ids=move.ids).create({
                "amount": amount,
                "journal_id": journal.id,
                "payment_date": move.source_paid_date or move.invoice_date or fields.Date.context_today(self),
                "communication": move.source_payment_ref or move.ref or move.name,
            })
        payments = wizard._create_payments()
        # our own transient record: one pointing to the partner would hold up a rollback until vacuumed
        wizard.sudo().unlink()
        for index, payment in enumerate(payments):
            suffix = PAYMENT_KEY_SUFFIX if index == 0 else f"{PAYMENT_KEY_SUFFIX}{index + 1}"
            # the payment's journal entry first: the rollback removes the payment (which removes
            # its entry) before it, and the entry's lines are no outside use of the partner
            if payment.move_id:
                engine.add_created_link(link.key + suffix + ":entry", MOVE, payment.move_id.id, {
                    "name": payment.move_id.name}, record_id=link.record_id.id)
            engine.add_created_link(link.key + suffix, PAYMENT, payment.id, {
                "amount": payment.amount, "date": str(payment.date),
                "memo": payment[payment_memo_field(self.env)] or "",
                "invoice": move.name,
            }, record_id=link.record_id.id)

    def _warn_record(self, link, field, message):
        record = link.record_id
        if not record:
            return
        issue = {"level": "warning", "field": field, "message": message,
                 "file": record.source_file or "", "row": record.source_row or 0}
        record.write({"issues_json": list(record.issues_json or []) + [issue]})

    def _before_rollback_undo(self, links):
        errors = super()._before_rollback_undo(links)
        payments = self.env[PAYMENT].browse(links.filtered(lambda link: link.model == PAYMENT).mapped("res_id"))
        payments = payments.exists()
        moves = self.env[MOVE].browse(links.filtered(lambda link: link.model == MOVE).mapped("res_id")).exists()
        # payments first (that resets their own entries too), then the invoices still posted
        for records, undo in ((payments, "action_draft"), (moves, "button_draft")):
            for record in records.filtered(lambda r: r.state != "draft"):
                with savepoint_attempt(self.env) as attempt:
                    getattr(record, undo)()
                if attempt.failed:  # reported to the user, nothing undone
                    errors.append(self.env._("- %(model)s %(id)s %(name)r: cannot be set back to draft (%(error)s)",
                                             model=record._name, id=record.id, name=record.display_name,
                                             error=str(attempt.exception)))
        return errors
