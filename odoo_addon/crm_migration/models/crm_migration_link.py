from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import compat
from ..services.key_claim import ensure_claim_table
from .crm_migration_record import pretty_json

LINK_ACTIONS = [
    ("created", "Created"),
    ("matched", "Matched"),
    ("updated", "Updated"),
]


@compat.sql_constraints
class CrmMigrationLink(models.Model):
    """Source key -> Odoo record. All links of a key point to the same Odoo record: the first
    one (``created`` or ``matched``) owns the key; a later migration that meets the key again
    adds its own ``matched`` (nothing written) or ``updated`` (empty fields filled) link."""

    _name = "crm.migration.link"
    _description = "CRM Migration Link"
    _order = "migration_id desc, sequence, id"
    _rec_name = "key"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True, readonly=True)
    record_id = fields.Many2one("crm.migration.record", string="Staged Record", ondelete="set null", readonly=True)
    key = fields.Char(required=True, index=True, readonly=True)
    model = fields.Char(required=True, index=True, readonly=True, string="Odoo Model")
    res_id = fields.Many2oneReference(model_field="model", string="Odoo Record ID", required=True, index=True,
                                      readonly=True)
    action = fields.Selection(LINK_ACTIONS, required=True, readonly=True)
    values_before_json = fields.Json(string="Values Before", readonly=True,
                                     help="Field values before an 'updated' link wrote them; restored by rollback.")
    values_before_text = fields.Text(compute="_compute_values_before_text", string="Values Before (JSON)")
    values_after_json = fields.Json(string="Values After", readonly=True,
                                    help="Field values the migration wrote (created: the create values; updated: "
                                         "the filled fields as read back). Rollback compares them with the "
                                         "current values to find edits made since.")
    written_at = fields.Datetime(readonly=True, help="When the migration wrote the record (commit transaction).")
    kept = fields.Boolean(readonly=True, help="Left as it is by a rollback run with on_conflict 'keep'.")
    kept_kind = fields.Char(readonly=True, help="Why the rollback kept it: edited, referenced or dependency.")
    kept_detail = fields.Text(readonly=True)
    hash = fields.Char(readonly=True)
    sequence = fields.Integer(index=True, readonly=True, help="Commit order; rollback walks it backwards.")

    _sql_constraints = [
        ("migration_key_uniq", "unique(migration_id, key)", "A migration links a key at most once."),
    ]

    def init(self):
        super().init()
        ensure_claim_table(self.env.cr)  # services/key_claim.py

    @api.depends("values_before_json")
    def _compute_values_before_text(self):
        for link in self:
            link.values_before_text = pretty_json(link.values_before_json)

    def action_open_target(self):
        self.ensure_one()
        return self._open_odoo_record(self.model, self.res_id)

    @api.model
    def _open_odoo_record(self, model, res_id):
        record = self.env[model].browse(res_id).exists() if model in self.env and res_id else None
        if not record:
            raise UserError(self.env._("The Odoo record %(model)s %(id)s does not exist.", model=model, id=res_id))
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
