from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services.rollback import RollbackEngine
from ..services.sample import sample_diff, select_sample

SAMPLE_STATES = [("none", "No Sample"), ("sampled", "Sampled"), ("approved", "Approved")]
DEFAULT_SAMPLE_SIZE = 200


class CrmMigrationRecordSample(models.Model):
    _inherit = "crm.migration.record"

    sampled = fields.Boolean(readonly=True, index=True, copy=False,
                             help="Part of the sample committed first (api_commit with 'sample').")


class CrmMigrationDiff(models.Model):
    """One row of the sample diff (api_sample_diff), stored by the "Refresh diff" button."""

    _name = "crm.migration.diff"
    _description = "CRM Migration Sample Diff"
    _order = "migration_id, match, sequence, id"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    key = fields.Char(readonly=True)
    object = fields.Char(readonly=True)
    model = fields.Char(readonly=True, string="Odoo Model")
    res_id = fields.Integer(readonly=True, string="Odoo Record ID")
    field = fields.Char(readonly=True)
    label = fields.Char(readonly=True, string="Field Label")
    source = fields.Char(readonly=True, string="Source Cell")
    expected = fields.Char(readonly=True)
    actual = fields.Char(readonly=True)
    match = fields.Boolean(readonly=True)


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    sample_state = fields.Selection(SAMPLE_STATES, required=True, default="none", readonly=True, copy=False)
    diff_ids = fields.One2many("crm.migration.diff", "migration_id", string="Sample Diff", readonly=True)
    diff_mismatch_count = fields.Integer(compute="_compute_diff_mismatch_count", string="Mismatches")

    @api.depends("diff_ids.match")
    def _compute_diff_mismatch_count(self):
        for migration in self:
            migration.diff_mismatch_count = len(migration.diff_ids.filtered(lambda d: not d.match))

    def _mark_sample(self, size):
        """Mark the sample of ``size`` leaves (services.sample.select_sample) as ``sampled``."""
        self.ensure_one()
        Record = self.env["crm.migration.record"]
        Record.search([("migration_id", "=", self.id), ("sampled", "=", True)]).write({"sampled": False})
        sample = select_sample(self, size)
        sample.write({"sampled": True})
        return sample

    # ------------------------------------------------------------------ RPC API
    def api_sample_diff(self):
        """Field-level diff of the sampled records that are committed or matched:
        ``[{"key", "object", "model", "res_id", "field", "label", "source", "expected", "actual",
        "match"}]``."""
        self.ensure_one()
        self._check_manager()
        return sample_diff(self)

    def api_sample_rollback(self, options=None):
        """Undo the sample only (``options``: ``{"on_conflict": "undo" | "stop"}``, default
        ``undo``): its records go back to ``staged``, the migration to ``mapped``,
        ``sample_state`` to ``none``. Returns the report."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_sample_rollback", ("on_conflict",))
        on_conflict = options.get("on_conflict") or "undo"
        if on_conflict not in ("undo", "stop"):
            raise ValidationError(self.env._("api_sample_rollback: on_conflict must be 'undo' or 'stop'."))
        if self.sample_state != "sampled" or self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s has no sample to roll back.", name=self.display_name))
        RollbackEngine(self, sample=True).run(on_conflict=on_conflict)
        self.diff_ids.unlink()
        self.write({"sample_state": "none", "state": "mapped"})
        return self.api_report()

    # ------------------------------------------------------------------ UI
    def action_open_sample_wizard(self):
        self.ensure_one()
        self._check_mapping_confirmed()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Sample"),
            "res_model": "crm.migration.sample.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_migration_id": self.id},
        }

    def api_commit(self, options=None):
        report = super().api_commit(options)
        if (options or {}).get("sample"):
            # the Sample diff page shows the sample as committed, however it was started
            self.action_refresh_diff()
        return report

    def action_sample(self, size=DEFAULT_SAMPLE_SIZE):
        self.ensure_one()
        report = self.api_commit({"sample": size})
        return self._notify(self.env._("Sample committed"), report)

    def action_approve_sample(self):
        """Commit the rest: the same commit job as the Commit button."""
        return self.action_commit()

    def action_sample_rollback(self):
        self.ensure_one()
        return self._notify(self.env._("Sample rolled back"), self.api_sample_rollback())

    def action_refresh_diff(self):
        self.ensure_one()
        rows = self.api_sample_diff()
        Diff = self.env["crm.migration.diff"]
        Diff.search([("migration_id", "=", self.id)]).unlink()
        Diff.create([dict(row, migration_id=self.id, sequence=index) for index, row in enumerate(rows)])
        return True

    def action_view_diff(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_diff")
        action.update(domain=[("migration_id", "=", self.id)],
                      context={"search_default_filter_mismatch": 1})
        return action


class CrmMigrationSampleWizard(models.TransientModel):
    _name = "crm.migration.sample.wizard"
    _description = "Sample a CRM migration"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", readonly=True)
    sample_size = fields.Integer(string="Records to sample", required=True, default=DEFAULT_SAMPLE_SIZE,
                                 help="Leaf records (contacts, deals, orders...) spread over their objects; "
                                      "what they need (companies, tags, stages...) comes with them.")

    def action_confirm(self):
        self.ensure_one()
        if self.sample_size < 1:
            raise ValidationError(self.env._("Sample at least one record."))
        return self.migration_id.action_sample(self.sample_size)
