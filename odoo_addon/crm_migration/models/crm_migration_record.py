import json

from odoo import api, fields, models

from .. import compat
from ..services.staging import issue_flags

RECORD_STATES = [
    ("staged", "Staged"),
    ("error", "Error"),
    ("committed", "Committed"),
    ("matched", "Matched"),
    ("failed", "Failed"),
    ("skipped", "Skipped"),
    ("waiting", "Waiting for Owner"),
    ("conflict", "Delta Conflict"),
    ("rolled_back", "Rolled Back"),
]


def pretty_json(value):
    if value in (None, False, {}, []):
        return False
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


@compat.sql_constraints
class CrmMigrationRecord(models.Model):
    _name = "crm.migration.record"
    _description = "CRM Migration Staged Record"
    _order = "migration_id desc, id"
    _rec_name = "key"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True, readonly=True)
    key = fields.Char(required=True, index=True, readonly=True, help="Stable key <source>:<object>:<source id>.")
    object = fields.Char(required=True, index=True, readonly=True, help="Source object (contact, company, tag...).")
    # indexed: staging asks a migration for its few schema records by model on every batch (issue #11)
    model = fields.Char(required=True, index=True, readonly=True, string="Odoo Model")
    values_json = fields.Json(string="Values", readonly=True)
    refs_json = fields.Json(string="Refs", readonly=True)
    lookups_json = fields.Json(string="Lookups", readonly=True)
    match_json = fields.Json(string="Match Rules", readonly=True)
    source_json = fields.Json(string="Source", readonly=True)
    issues_json = fields.Json(string="Issues", readonly=True)
    hash = fields.Char(readonly=True)
    state = fields.Selection(RECORD_STATES, required=True, default="staged", index=True, readonly=True)
    error_message = fields.Text(readonly=True, help="Odoo's own error when the record failed or was skipped.")
    res_id = fields.Many2oneReference(model_field="model", string="Odoo Record ID", readonly=True)
    source_file = fields.Char(readonly=True, index=True)
    source_row = fields.Integer(readonly=True)
    # the number of the staging call that sent the record (its caller's count, from 1; 0: not
    # said). The commit plans in (stage_batch, id) order: the bridge sends two batches at a time,
    # whose ids interleave, and the order the records were finished in still decides (issue #11)
    stage_batch = fields.Integer(readonly=True, default=0, string="Staging Batch")
    link_ids = fields.One2many("crm.migration.link", "record_id", string="Links", readonly=True)

    # api_stage gives these in its create/write values (staging.issue_flags, the same function as
    # the compute), so they are part of the INSERT instead of a recompute and a second UPDATE; that
    # needs precompute=True, readonly=False (the ORM discards given values of readonly precomputed
    # fields). The views show them read-only.
    issue_count = fields.Integer(compute="_compute_issue_flags", store=True, precompute=True, readonly=False)
    has_error_issue = fields.Boolean(compute="_compute_issue_flags", store=True, precompute=True, readonly=False)
    has_warning = fields.Boolean(compute="_compute_issue_flags", store=True, precompute=True, readonly=False)
    issues_html = fields.Html(compute="_compute_issues_html", sanitize=False, string="Issues (readable)")
    values_text = fields.Text(compute="_compute_texts", string="Values (JSON)")
    refs_text = fields.Text(compute="_compute_texts", string="Refs (JSON)")
    lookups_text = fields.Text(compute="_compute_texts", string="Lookups (JSON)")
    match_text = fields.Text(compute="_compute_texts", string="Match Rules (JSON)")
    source_text = fields.Text(compute="_compute_texts", string="Source (JSON)")

    _sql_constraints = [
        ("migration_key_uniq", "unique(migration_id, key)", "A key can be staged only once per migration."),
    ]

    @api.depends("issues_json")
    def _compute_issue_flags(self):
        for record in self:
            record.update(issue_flags(record.issues_json))

    @api.depends("issues_json")
    def _compute_issues_html(self):
        """The record's issues (template ``crm_migration.record_issues``)."""
        for record in self:
            issues = record.issues_json or []
            record.issues_html = self.env["ir.qweb"]._render("crm_migration.record_issues", {"issues": [{
                "level": issue.get("level", ""),
                "field": issue.get("field", ""),
                "where": ":".join(str(p) for p in (issue.get("file"), issue.get("row")) if p not in (None, "")),
                "message": issue.get("message", ""),
            } for issue in issues]}) if issues else False

    @api.depends("values_json", "refs_json", "lookups_json", "match_json", "source_json")
    def _compute_texts(self):
        for record in self:
            record.values_text = pretty_json(record.values_json)
            record.refs_text = pretty_json(record.refs_json)
            record.lookups_text = pretty_json(record.lookups_json)
            record.match_text = pretty_json(record.match_json)
            record.source_text = pretty_json(record.source_json)

    def action_open_target(self):
        self.ensure_one()
        return self.env["crm.migration.link"]._open_odoo_record(self.model, self.res_id)
