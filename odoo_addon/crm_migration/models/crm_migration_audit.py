from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

from .crm_migration_record import pretty_json

AUDIT_ACTIONS = [
    ("create", "Create"),
    ("update", "Update"),
    ("match", "Match"),
    ("delete", "Delete"),
    ("restore", "Restore"),
    ("state_reset", "State Reset"),
]


class CrmMigrationAudit(models.Model):
    """What a commit or a rollback did to one Odoo record. Written by the engines only (in
    batches, with sudo); append-only: read-only for users, never written or deleted (not even
    through the migration: ``ondelete="restrict"``)."""

    _name = "crm.migration.audit"
    _description = "CRM Migration Audit Log"
    _order = "id desc"
    _rec_name = "key"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="restrict", index=True, readonly=True)
    model = fields.Char(required=True, index=True, readonly=True, string="Odoo Model")
    res_id = fields.Many2oneReference(model_field="model", string="Odoo Record ID", index=True, readonly=True)
    key = fields.Char(index=True, readonly=True)
    action = fields.Selection(AUDIT_ACTIONS, required=True, index=True, readonly=True)
    values_before_json = fields.Json(string="Values Before", readonly=True)
    values_after_json = fields.Json(string="Values After", readonly=True)
    values_before_text = fields.Text(compute="_compute_values_text", string="Values Before (JSON)")
    values_after_text = fields.Text(compute="_compute_values_text", string="Values After (JSON)")
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True, readonly=True)
    user_id = fields.Many2one("res.users", default=lambda self: self.env.user, readonly=True, ondelete="set null")

    def write(self, vals):
        if not self.env.su:
            raise AccessError(self.env._("The migration audit log is append-only: its rows cannot be changed."))
        return super().write(vals)

    def unlink(self):
        if not self.env.su:
            raise AccessError(self.env._("The migration audit log is append-only: its rows cannot be deleted."))
        return super().unlink()

    @api.depends("values_before_json", "values_after_json")
    def _compute_values_text(self):
        for row in self:
            row.values_before_text = pretty_json(row.values_before_json)
            row.values_after_text = pretty_json(row.values_after_json)

    def action_open_target(self):
        self.ensure_one()
        return self.env["crm.migration.link"]._open_odoo_record(self.model, self.res_id)


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    audit_ids = fields.One2many("crm.migration.audit", "migration_id", string="Audit Log", readonly=True)
    audit_count = fields.Integer(compute="_compute_audit_count", string="Audit Rows")

    def _compute_audit_count(self):
        ids = [i for i in self._ids if isinstance(i, int)]
        counts = {}
        if ids:
            counts = {m.id: n for m, n in self.env["crm.migration.audit"]._read_group(
                [("migration_id", "in", ids)], ["migration_id"], ["__count"])}
        for migration in self:
            migration.audit_count = counts.get(migration.id, 0)

    def api_audit(self, limit=None):
        """Audit rows of the migration, oldest first: ``[{"id", "date", "user_id", "model", "res_id",
        "key", "action", "values_before", "values_after"}]`` (``limit``: the first n rows)."""
        self.ensure_one()
        self._check_manager()
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValidationError(self.env._("api_audit: limit must be a positive integer."))
        rows = self.env["crm.migration.audit"].search_read(
            [("migration_id", "=", self.id)],
            ["date", "user_id", "model", "res_id", "key", "action", "values_before_json", "values_after_json"],
            order="id", limit=limit,
        )
        return [{
            "id": row["id"],
            "date": fields.Datetime.to_string(row["date"]),
            "user_id": row["user_id"][0] if row["user_id"] else 0,
            "model": row["model"],
            "res_id": row["res_id"] or 0,
            "key": row["key"] or "",
            "action": row["action"],
            "values_before": row["values_before_json"] or {},
            "values_after": row["values_after_json"] or {},
        } for row in rows]

    def action_view_audit(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_audit")
        action.update(domain=[("migration_id", "=", self.id)], context={"search_default_migration_id": self.id})
        return action
