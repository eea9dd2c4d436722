"""Uploads: all or nothing, one at a time (issue #12, "Data" 7 and 8; docs/staging-contract.md,
"Uploads").

An upload (the bridge's ``stage`` / upload / extraction job) opens with ``api_begin_upload`` and a
token of its own; every staging call it makes carries the token in its context
(``crm_migration_upload``). Until ``api_finish_staging`` closes it:

- the migration cannot be committed (nor sampled): an upload that was cut off (bridge or CLI
  killed, connection lost) never commits as if complete;
- no other upload may stage into the migration: a second ``api_begin_upload`` is refused while the
  open one is alive (it staged within ``crm_migration.upload_stale_seconds``, default 120 s);
  once it is stale, a new upload takes over and first discards what the dead one staged;
- every record an upload stages is tagged with its token (``upload_token``): discarding an upload
  (``api_discard_upload``: the admin, the bridge's own cleanup after a failure, or a takeover)
  removes only the records that upload staged, never another upload's.

Callers that never open an upload (scripts calling ``api_stage`` directly) stage as before, with
no such guarantee; they are refused while an upload is open.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

UPLOAD_CONTEXT_KEY = "crm_migration_upload"
STALE_PARAM = "crm_migration.upload_stale_seconds"
DEFAULT_STALE_SECONDS = 120
# records an unfinished upload may have staged and that its discard removes
DISCARDABLE_STATES = ("staged", "error", "waiting")


class CrmMigrationRecord(models.Model):
    _inherit = "crm.migration.record"

    upload_token = fields.Char(readonly=True, copy=False, index=True,
                               help="The upload that last staged this record (crm.migration.upload_token).")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    upload_token = fields.Char(readonly=True, copy=False, string="Open Upload",
                               help="Set while an upload stages into this migration; cleared when it finishes. "
                                    "A migration with an open upload cannot be committed.")
    upload_started = fields.Datetime(readonly=True, copy=False, string="Upload Started")
    upload_heartbeat = fields.Datetime(readonly=True, copy=False, string="Upload Last Active")

    # ------------------------------------------------------------------ helpers
    @api.model
    def _upload_stale_seconds(self):
        value = self.env["ir.config_parameter"].sudo().get_param(STALE_PARAM, DEFAULT_STALE_SECONDS)
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            return DEFAULT_STALE_SECONDS

    def _upload_is_stale(self):
        self.ensure_one()
        last = self.upload_heartbeat or self.upload_started
        return not last or (fields.Datetime.now() - last).total_seconds() > self._upload_stale_seconds()

    def _upload_busy_message(self):
        return self.env._(
            "Migration %(name)s is receiving another upload (started %(started)s UTC, last active %(last)s UTC): "
            "one upload at a time. Wait for it to finish, or discard it (Discard unfinished upload) if it "
            "was cut off.", name=self.display_name, started=self.upload_started, last=self.upload_heartbeat)

    def _upload_guard(self):
        """A staging call: refused while another upload is open, or when the caller's upload is
        not open anymore (discarded, or taken over); keeps the caller's upload alive."""
        self.ensure_one()
        token = self.env.context.get(UPLOAD_CONTEXT_KEY)
        if self.upload_token:
            if token != self.upload_token:
                raise UserError(self._upload_busy_message())
            # kept alive at most every tenth of the stale delay: two staging calls of one upload
            # run at the same time (issue #11), and two writes of this row would make one of them
            # start over (a serialization failure)
            now = fields.Datetime.now()
            last = self.upload_heartbeat or self.upload_started
            if not last or (now - last).total_seconds() * 10 >= self._upload_stale_seconds():
                self.upload_heartbeat = now
        elif token:
            raise UserError(self.env._(
                "The upload into migration %(name)s is not open anymore (it was discarded, or another upload "
                "took over after it stopped answering): upload again.", name=self.display_name))
        return token

    def _check_no_open_upload(self):
        for migration in self:
            if migration.upload_token:
                count = self.env["crm.migration.record"].search_count(
                    [("migration_id", "=", migration.id), ("upload_token", "=", migration.upload_token)])
                raise UserError(self.env._(
                    "An upload into migration %(name)s did not finish (started %(started)s UTC, last active "
                    "%(last)s UTC; %(count)s records staged by it): it cannot be committed as if complete. "
                    "Upload the files again (the new upload replaces it), or discard it (Discard unfinished "
                    "upload).", name=migration.display_name, started=migration.upload_started,
                    last=migration.upload_heartbeat, count=count))

    def _discard_upload_records(self, token):
        """Remove the records upload ``token`` staged that are not in Odoo (a delta round's pending
        update keeps what Odoo has in ``delta_before_json``: kept). Returns how many."""
        records = self.env["crm.migration.record"].search([
            ("migration_id", "=", self.id), ("upload_token", "=", token), ("state", "in", DISCARDABLE_STATES),
        ]).filtered(lambda r: not r.delta_before_json)
        count = len(records)
        records.unlink()
        return count

    # ------------------------------------------------------------------ RPC API
    def api_begin_upload(self, vals):
        """``{"token": str}`` (8-64 characters, made by the caller) -> ``{"token", "took_over",
        "discarded"}``: opens an upload into this migration. Refused (UserError) while another
        upload is open and alive; a stale one is taken over: what it staged is discarded first."""
        self.ensure_one()
        self._check_manager()
        vals = self._check_struct(vals, "api_begin_upload", ("token",))
        token = vals.get("token")
        if not isinstance(token, str) or not 8 <= len(token) <= 64:
            raise ValidationError(self.env._("api_begin_upload: key 'token' must be a string of 8 to 64 characters."))
        if self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s is rolled back: stage into a new migration.",
                                       name=self.display_name))
        took_over, discarded = "", 0
        if self.upload_token and self.upload_token != token:
            if not self._upload_is_stale():
                raise UserError(self._upload_busy_message())
            took_over = self.upload_token
            discarded = self._discard_upload_records(took_over)
        now = fields.Datetime.now()
        if self.upload_token != token:
            self.write({"upload_token": token, "upload_started": now, "upload_heartbeat": now})
        return {"token": token, "took_over": took_over, "discarded": discarded}

    def api_discard_upload(self):
        """Discard the open upload: the records it staged (not in Odoo) are removed, the upload is
        closed. Its own token (context) or none (the admin) may discard it. Returns the report."""
        self.ensure_one()
        self._check_manager()
        token = self.env.context.get(UPLOAD_CONTEXT_KEY)
        if self.upload_token and (not token or token == self.upload_token):
            self._discard_upload_records(self.upload_token)
            self.write({"upload_token": False, "upload_started": False, "upload_heartbeat": False})
            if self.state in ("uploaded", "mapped") and not self.record_ids:
                self.state = "draft"
        return self.api_report()

    def action_discard_upload(self):
        for migration in self:
            migration.with_context(**{UPLOAD_CONTEXT_KEY: False}).api_discard_upload()
        return True

    # ------------------------------------------------------------------ staging calls (guarded)
    def _staged_extra_vals(self):
        # the records an upload stages carry its token from their INSERT (issue #11: a second
        # write of every record after it was a quarter of a staging call); the guard checked it
        extra = super()._staged_extra_vals()
        token = self.env.context.get(UPLOAD_CONTEXT_KEY)
        if token and token == self.upload_token:
            extra["upload_token"] = token
        return extra

    def _stage_records(self, records):
        token = self._upload_guard()
        result = super()._stage_records(records)
        if token and self.state == "delta":
            # a delta round leaves the records it finds unchanged as they are: they get the token here
            keys = [r["key"] for r in records if isinstance(r, dict) and isinstance(r.get("key"), str)]
            self.env["crm.migration.record"].search(
                [("migration_id", "=", self.id), ("key", "in", keys)]).write({"upload_token": token})
        return result

    def api_stage_blob(self, key, offset, chunk):
        self.ensure_one()
        self._upload_guard()
        return super().api_stage_blob(key, offset, chunk)

    def api_set_profile(self, vals):
        self.ensure_one()
        self._upload_guard()
        return super().api_set_profile(vals)

    def api_set_mapping(self, lines):
        self.ensure_one()
        self._upload_guard()
        return super().api_set_mapping(lines)

    def api_finish_staging(self):
        self.ensure_one()
        token = self._upload_guard()
        result = super().api_finish_staging()
        if token:
            self.write({"upload_token": False, "upload_started": False, "upload_heartbeat": False})
            result = self.api_report()
        return result

    def api_report(self):
        report = super().api_report()
        report["upload_open"] = bool(self.upload_token)
        return report

    # ------------------------------------------------------------------ commits wait for the upload
    def _commit(self, *args, **kwargs):
        self._check_no_open_upload()
        return super()._commit(*args, **kwargs)

    def action_commit(self):
        self._check_no_open_upload()
        return super().action_commit()
