from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..models.crm_migration import SOURCE_INPUTS, SOURCE_SYSTEMS

# a draft migration waits for its files; a committed one takes a newer export (Final delta)
UPLOAD_INTO_STATES = ("draft", "committed", "partial", "delta")


class CrmMigrationUploadWizard(models.TransientModel):
    """New migration: choose the source CRM, add its export files, send them to the bridge.

    Opened from the menu it creates a migration; opened from a draft migration (``active_id``) it
    uploads into that one; opened from a committed one (Final delta) its newer export is staged as a
    delta round (services/delta.py)."""

    _name = "crm.migration.upload.wizard"
    _description = "Upload CRM exports to a migration"

    migration_id = fields.Many2one("crm.migration", readonly=True, ondelete="cascade",
                                   default=lambda self: self._default_migration())
    migration_state = fields.Selection(related="migration_id.state", string="Migration State")
    name = fields.Char(required=True, default=lambda self: self._default_name())
    source_system = fields.Selection(SOURCE_SYSTEMS, required=True, string="Source CRM",
                                     default=lambda self: self._default_migration().source_system or SOURCE_SYSTEMS[0][0])
    source_input = fields.Selection([("csv", "Export files"), ("api", "API")], compute="_compute_source_input")
    attachment_ids = fields.Many2many("ir.attachment", "crm_migration_upload_wizard_attachment_rel",
                                      "wizard_id", "attachment_id", string="Export Files",
                                      help="The CSV files exported from the source CRM.")
    region = fields.Char(help="Region / data centre of the source account.")
    credentials = fields.Char(string="API Key")

    @api.model
    def _default_migration(self):
        """The draft migration the wizard was opened from, if any."""
        ctx = self.env.context
        if ctx.get("active_model") == "crm.migration" and ctx.get("active_id"):
            migration = self.env["crm.migration"].browse(ctx["active_id"]).exists()
            if migration.state in UPLOAD_INTO_STATES:
                return migration
        return self.env["crm.migration"]

    @api.model
    def _default_name(self):
        migration = self._default_migration()
        return migration.name or self.env._("Migration of %(date)s", date=fields.Date.context_today(self))

    @api.depends("source_system")
    def _compute_source_input(self):
        for wizard in self:
            wizard.source_input = SOURCE_INPUTS.get(wizard.source_system, "csv")

    def _migration_vals(self):
        vals = {"name": self.name, "source_system": self.source_system, "source": self.source_system}
        if self.source_input == "api":
            vals.update(source_region=self.region or False, source_credentials=self.credentials or False)
        return vals

    def action_upload(self):
        """Check the bridge answers, create (or fill) the migration, attach the files to it and
        queue the upload job; opens the migration, which shows the job's progress."""
        self.ensure_one()
        Migration = self.env["crm.migration"]
        Migration._check_manager()
        if self.source_input == "csv" and not self.attachment_ids:
            raise UserError(self.env._("Add the export files of your CRM first."))
        if self.migration_id and (self.migration_id.state not in UPLOAD_INTO_STATES or self.migration_id.job_state
                                  in ("queued", "running")):
            raise UserError(self.env._("Migration %(name)s is not a draft waiting for its files anymore.",
                                       name=self.migration_id.display_name))
        Migration._bridge_check()
        migration = self.migration_id
        if migration:
            migration.write(self._migration_vals())
        else:
            migration = Migration.create(self._migration_vals())
        self.attachment_ids.write({"res_model": migration._name, "res_id": migration.id})
        migration.upload_attachment_ids = [Command.set(self.attachment_ids.ids)]
        migration._queue_job("upload")
        return {
            "type": "ir.actions.act_window",
            "name": migration.display_name,
            "res_model": migration._name,
            "res_id": migration.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
