"""Final delta: a newer export staged into a committed migration (services/delta.py,
docs/staging-contract.md "Delta", docs/journey.md "Final delta")."""

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..services import delta

DELTA_KINDS = [
    ("unchanged", "Unchanged"),
    ("update", "Update"),
    ("create", "Create"),
    ("gone", "Gone from the source"),
]
DELTA_COLUMNS = ("unchanged", "updated", "created", "gone", "conflicts", "pending", "errors")


class CrmMigrationRecord(models.Model):
    _inherit = "crm.migration.record"

    delta = fields.Selection(DELTA_KINDS, readonly=True, index=True, copy=False,
                             help="What the newer export of the current delta round does with this record.")
    delta_before_json = fields.Json(string="Content in Odoo", readonly=True, copy=False,
                                    help="Values/refs/lookups last applied to Odoo (kept while a delta update "
                                         "waits for its commit).")
    delta_conflict_json = fields.Json(string="Delta Conflict", readonly=True, copy=False,
                                      help="Field -> {source, odoo, migration}: fields edited in Odoo since the "
                                           "migration wrote them, that the newer export changes too.")
    delta_conflict_text = fields.Text(compute="_compute_delta_conflict_text", string="Conflicting Fields")
    delta_decision = fields.Selection([("source", "Source value taken"), ("odoo", "Odoo's value kept")],
                                      readonly=True, copy=False)
    delta_gone_action = fields.Selection([("archived", "Archived"), ("deleted", "Deleted")], readonly=True,
                                         copy=False, string="Gone: Done")

    @api.depends("delta_conflict_json")
    def _compute_delta_conflict_text(self):
        for record in self:
            record.delta_conflict_text = "\n".join(
                self.env._("%(field)s: source %(source)r, in Odoo %(odoo)r (the migration wrote %(migration)r)",
                           field=fname, source=info.get("source"), odoo=info.get("odoo"),
                           migration=info.get("migration"))
                for fname, info in sorted((record.delta_conflict_json or {}).items())
            ) or False

    def _delta_decide(self, take):
        for migration in self.migration_id:
            migration._check_manager()
            delta.resolve(migration, take, self.filtered(lambda r, m=migration: r.migration_id == m).mapped("key"))
            migration._delta_settle_state()
        return True

    def action_delta_take_source(self):
        return self._delta_decide("source")

    def action_delta_keep_odoo(self):
        return self._delta_decide("odoo")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    state = fields.Selection(selection_add=[("delta", "Final Delta"), ("rolled_back",)],
                             ondelete={"delta": "set default"})
    delta_round = fields.Integer(readonly=True, copy=False,
                                 help="How many newer exports (delta rounds) were staged into this migration.")
    conflict_count = fields.Integer(compute="_compute_counts", string="Delta Conflicts")
    delta_gone_count = fields.Integer(compute="_compute_delta_html", string="Gone from the Source")
    delta_record_ids = fields.One2many("crm.migration.record", "migration_id", domain=[("delta", "!=", False)],
                                       string="Delta Records", readonly=True)
    delta_html = fields.Html(compute="_compute_delta_html", sanitize=False, string="Delta Reconciliation")

    # ------------------------------------------------------------------ RPC API
    def api_start_delta(self):
        """Start a delta round (state ``delta``): the records staged next are compared with what this
        migration committed. Returns the report."""
        self.ensure_one()
        self._check_manager()
        delta.start_round(self)
        return self.api_report()

    def _stage_records(self, records):
        if self.state != "delta":
            return super()._stage_records(records)
        by_key = self._staged_by_key(records)
        delta.stage(self, by_key)
        return {"staged": len(by_key), "errors": sum(1 for vals in by_key.values() if vals["state"] == "error")}

    def api_finish_staging(self):
        self.ensure_one()
        if self.state == "delta":
            self._check_manager()
            delta.mark_gone(self)
        return super().api_finish_staging()

    def api_delta_resolve(self, options=None):
        """Decide delta conflicts: ``{"take": "source" | "odoo", "keys": [..]}`` (no ``keys``: all
        open conflicts). Returns the report."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_delta_resolve", ("take", "keys"))
        keys = options.get("keys")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise ValidationError(self.env._("api_delta_resolve: 'keys' must be a list of keys."))
        delta.resolve(self, options.get("take"), keys)
        self._delta_settle_state()
        return self.api_report()

    def api_delta_gone(self, options=None):
        """Act on records gone from the source: ``{"action": "archive" | "delete", "keys": [..]}`` (no
        ``keys``: all of them not handled yet). Returns the report."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_delta_gone", ("action", "keys"))
        keys = options.get("keys")
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise ValidationError(self.env._("api_delta_gone: 'keys' must be a list of keys."))
        delta.gone(self, options.get("action"), keys)
        return self.api_report()

    def api_report(self):
        report = super().api_report()
        report["delta_round"] = self.delta_round
        report["delta"] = delta.counts(self)
        return report

    # ------------------------------------------------------------------ commit / state
    def _commit(self, *args, **kwargs):
        result = super()._commit(*args, **kwargs)
        self._delta_settle_state()
        return result

    def _delta_settle_state(self):
        """Open conflicts keep the migration ``partial``; once decided it is ``committed`` again
        (unless other records failed, were skipped or wait)."""
        for migration in self.filtered(lambda m: m.state in ("committed", "partial")):
            Record = self.env["crm.migration.record"]
            incomplete = Record.search_count([("migration_id", "=", migration.id),
                                              ("state", "in", ("failed", "skipped", "waiting", "conflict"))], limit=1)
            migration.state = "partial" if incomplete else "committed"

    def _job_done_message(self, kind):
        message = super()._job_done_message(kind)
        if kind != "commit" or not self.delta_round:
            return message
        total = dict.fromkeys(DELTA_COLUMNS, 0)
        for row in delta.counts(self).values():
            for column in DELTA_COLUMNS:
                total[column] += row.get(column, 0)
        return "%s %s" % (message, self.env._(
            "Final delta: %(unchanged)s unchanged, %(updated)s updated, %(created)s created, %(gone)s gone from the "
            "source, %(conflicts)s conflicts.", **total))

    # ------------------------------------------------------------------ report
    def _delta_labels(self):
        _ = self.env._
        return {"unchanged": _("Unchanged"), "updated": _("Updated"), "created": _("Created"),
                "gone": _("Gone from the source"), "conflicts": _("Conflicts"),
                "pending": _("Not committed yet"), "errors": _("Errors")}

    @api.depends("record_ids.state", "record_ids.delta", "record_ids.delta_decision", "delta_round")
    def _compute_delta_html(self):
        for migration in self:
            counts = delta.counts(migration) if migration.id else {}
            migration.delta_gone_count = sum(row["gone"] for row in counts.values())
            migration.delta_html = migration._render_delta_html(counts) if counts else False

    def _render_delta_html(self, counts):
        """The Final delta table (template ``crm_migration.delta_page``): one row per object and
        the total."""
        total = dict.fromkeys(DELTA_COLUMNS, 0)
        for row in counts.values():
            for column in DELTA_COLUMNS:
                total[column] += row[column]
        return self.env["ir.qweb"]._render("crm_migration.delta_page", {
            "round": self.delta_round,
            "labels": [self._delta_labels()[column] for column in DELTA_COLUMNS],
            "rows": [(obj, [row[column] for column in DELTA_COLUMNS], bool(row["conflicts"]))
                     for obj, row in sorted(counts.items())],
            "total": [total[column] for column in DELTA_COLUMNS],
        })

    def _render_report_html(self):
        html = super()._render_report_html()
        if not self.delta_round or not self.delta_html:
            return html
        return (html or Markup()) + self.delta_html

    def _reconcile_row(self, row, by_state):
        """A row of a delta round adds up with the records gone from the newer export (they are still
        staged, their source rows are not in the newer files)."""
        gone = 0
        if self.delta_round and row.get("from_file"):
            gone = self.env["crm.migration.record"].search_count([
                ("migration_id", "=", self.id), ("object", "=", row["object"]), ("delta", "=", "gone")])
        if not gone:
            return super()._reconcile_row(row, by_state)
        row["source"] += gone
        row = super()._reconcile_row(row, by_state)
        row["source"] -= gone
        note = self.env._("%(count)s committed record(s) gone from the newer export", count=gone)
        row["notes"] = "; ".join(n for n in (note, row["notes"]) if n)
        return row

    # ------------------------------------------------------------------ UI
    def action_final_delta(self):
        """The upload wizard for this committed migration: its newer export becomes a delta round."""
        self.ensure_one()
        self._check_manager()
        return self.action_open_upload_wizard()

    def action_delta_take_source_all(self):
        self.ensure_one()
        return self.api_delta_resolve({"take": "source"}) and True

    def action_delta_keep_odoo_all(self):
        self.ensure_one()
        return self.api_delta_resolve({"take": "odoo"}) and True

    def action_delta_archive_gone(self):
        self.ensure_one()
        return self.api_delta_gone({"action": "archive"}) and True

    def action_delta_delete_gone(self):
        self.ensure_one()
        return self.api_delta_gone({"action": "delete"}) and True
