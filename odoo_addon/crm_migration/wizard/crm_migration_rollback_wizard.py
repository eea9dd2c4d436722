from odoo import fields, models


class CrmMigrationRollbackWizard(models.TransientModel):
    """Opened by the Rollback button: shows the conflicts (records edited or used in Odoo since
    the migration wrote them) and asks whether to keep them or undo them anyway."""

    _name = "crm.migration.rollback.wizard"
    _description = "Roll back a CRM migration"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", readonly=True)
    conflict_count = fields.Integer(readonly=True)
    conflicts_text = fields.Text(string="Conflicts", readonly=True)

    def action_confirm(self):
        """No conflicts: plain rollback (still refuses if conflicts appeared meanwhile)."""
        self.ensure_one()
        return self.migration_id._rollback_and_notify("stop")

    def action_keep(self):
        self.ensure_one()
        return self.migration_id._rollback_and_notify("keep")

    def action_undo(self):
        self.ensure_one()
        return self.migration_id._rollback_and_notify("undo")
