from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command

# a draft migration waits for its files; a committed one takes a newer export (Final delta)
UPLOAD_INTO_STATES = ("draft", "committed", "partial", "delta")


class CrmMigrationUploadWizard(models.TransientModel):
    """New migration: choose the source CRM (the bridge's list, GET /sources), add its export
    files or, for a source read through its API, the credentials it declares; send it to the bridge.

    Opened from the menu it creates a migration; opened from a draft migration (``active_id``) it
    uploads into that one; opened from a committed one (Final delta) its newer export is staged as a
    delta round (services/delta.py)."""

    _name = "crm.migration.upload.wizard"
    _description = "Upload CRM exports to a migration"

    migration_id = fields.Many2one("crm.migration", readonly=True, ondelete="cascade",
                                   default=lambda self: self._default_migration())
    migration_state = fields.Selection(related="migration_id.state", string="Migration State")
    name = fields.Char(required=True, default=lambda self: self._default_name())
    source_system = fields.Selection(selection="_selection_source_system", required=True, string="Source CRM",
                                     default=lambda self: self._default_source_system())
    source_input = fields.Selection([("csv", "Export files"), ("api", "API")], compute="_compute_source_input")
    bridge_down = fields.Char(compute="_compute_bridge_down",
                              help="Why the bridge's sources cannot be read, if they cannot.")
    attachment_ids = fields.Many2many("ir.attachment", "crm_migration_upload_wizard_attachment_rel",
                                      "wizard_id", "attachment_id", string="Export Files",
                                      help="The CSV files exported from the source CRM.")
    credential_ids = fields.One2many("crm.migration.upload.wizard.credential", "wizard_id", string="Credentials",
                                     compute="_compute_credential_ids", store=True, readonly=False)

    @api.model
    def _selection_source_system(self):
        """The bridge's sources (cached briefly); none while it does not answer."""
        return [(s["name"], s["label"]) for s in self.env["crm.migration"]._bridge_sources(raise_if_down=False)]

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

    @api.model
    def _default_source_system(self):
        known = [name for name, _label in self._selection_source_system()]
        current = self._default_migration().source_system
        if current in known:
            return current
        return known[0] if known else False

    @api.constrains("source_system")
    def _check_source_system(self):
        """The source is one the bridge lists (its answer, not a list kept in the addon)."""
        known = dict(self._selection_source_system())
        for wizard in self:
            if wizard.source_system not in known:
                raise ValidationError(self.env._(
                    "%(name)s is not a source the migration bridge offers (it offers: %(known)s).",
                    name=wizard.source_system, known=", ".join(known.values()) or self.env._("none")))

    def _source(self):
        return self.env["crm.migration"]._bridge_source(self.source_system, raise_if_down=False) \
            if self.source_system else None

    @api.depends("source_system")
    def _compute_source_input(self):
        for wizard in self:
            source = wizard._source()
            wizard.source_input = source["input"] if source else "csv"

    @api.depends_context("uid")
    def _compute_bridge_down(self):
        sources = self.env["crm.migration"]._bridge_sources(raise_if_down=False)
        message = False
        if not sources:
            message = self.env._("The migration bridge at %(url)s does not answer, so no source can be "
                                 "offered. Check Settings → CRM Migration and that the bridge is running.",
                                 url=self.env["crm.migration"]._bridge_url())
        for wizard in self:
            wizard.bridge_down = message

    @api.depends("source_system")
    def _compute_credential_ids(self):
        """One line per credential the chosen source declares (none for export files)."""
        for wizard in self:
            source = wizard._source()
            specs = source["credentials"] if source and source["input"] == "api" else []
            wizard.credential_ids = [Command.clear()] + [Command.create({
                "sequence": index, "name": spec["name"], "label": spec["label"], "secret": spec["secret"],
                "options": ", ".join(spec["options"]) or False,
            }) for index, spec in enumerate(specs)]

    def _credentials(self):
        """``{name: value}`` checked against the source's declaration (every one given, a value
        among the options when it lists them)."""
        self.ensure_one()
        source = self._source() or {"credentials": []}
        given = {line.name: ((line.secret_value if line.secret else line.value) or "").strip()
                 for line in self.credential_ids}
        for spec in source["credentials"]:
            value = given.get(spec["name"], "")
            if not value and not spec.get("optional"):
                raise UserError(self.env._("Fill in %(label)s: the source needs it.", label=spec["label"]))
            if spec["options"] and value not in spec["options"]:
                raise UserError(self.env._("%(label)s must be one of %(options)s.", label=spec["label"],
                                           options=", ".join(spec["options"])))
        return ({spec["name"]: given[spec["name"]] for spec in source["credentials"] if given.get(spec["name"])},
                source["credentials"])

    def _migration_vals(self):
        return {"name": self.name, "source_system": self.source_system, "source": self.source_system}

    def action_upload(self):
        """Check the bridge answers, create (or fill) the migration, attach the files (or store the
        credentials) and queue the upload job; opens the migration, which shows the job's progress."""
        self.ensure_one()
        Migration = self.env["crm.migration"]
        Migration._check_manager()
        if self.source_input == "csv" and not self.attachment_ids:
            raise UserError(self.env._("Add the export files of your CRM first."))
        credentials, specs = self._credentials() if self.source_input == "api" else ({}, [])
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
        migration.credential_ids = [Command.clear()] + [Command.create({
            "sequence": index, "name": spec["name"], "label": spec["label"], "secret": spec["secret"],
            "value": credentials[spec["name"]],
        }) for index, spec in enumerate(specs) if spec["name"] in credentials]
        if self.source_input == "csv":
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


class CrmMigrationUploadWizardCredential(models.TransientModel):
    """A credential the chosen API source asks for (its declaration from GET /sources)."""

    _name = "crm.migration.upload.wizard.credential"
    _description = "Credential asked by the upload wizard"
    _order = "sequence, id"

    wizard_id = fields.Many2one("crm.migration.upload.wizard", required=True, ondelete="cascade")
    sequence = fields.Integer()
    name = fields.Char(required=True)
    label = fields.Char()
    secret = fields.Boolean()
    options = fields.Char(string="Allowed Values")
    value = fields.Char(help="The value (not a secret: a region, an account name).")
    secret_value = fields.Char(string="Secret", help="A secret (an API key): never shown back.")
