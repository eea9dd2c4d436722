"""Background jobs of a migration (docs/journey.md, "Jobs and progress").

A job is a state on the migration itself (one job at a time): the upload wizard and the Commit
button queue one (``_queue_job``), the cron ``ir_cron_crm_migration_jobs`` runs the queued ones
(``_cron_run_jobs``), triggered at once with ``ir.cron._trigger()``.

- ``upload``: POST the export files to the bridge's ``/migrations/{id}/upload`` (or, for a source
  read through its API, the credentials to ``/migrations/{id}/extract``). The bridge answers 202 at
  once and works in the background: it stages into this migration over XML-RPC in its own
  transactions and reports its progress with ``api_job_progress`` (phase, object, done/total),
  which also ends the job (done, or failed naming file, row and field). The cron commits before
  calling the bridge and never writes the migration after the 202, so it holds no lock the bridge
  waits for. Each job has a token (``job_token``) the bridge sends back with every report: a job
  the admin stopped (or replaced) is refused, and the bridge stops it. An API extraction that
  stopped can be resumed (``action_resume_extraction``): the bridge kept what it fetched.
- ``commit``: the full commit (``_commit``) with a transaction commit after each batch, so the
  form's progress (computed from the staged records' states) moves while it runs.

Progress is computed from stored data only (records' states, ``job_started``, ``job_done_base``),
so it survives a page reload; the form reloads itself while a job runs (the
``crm_migration_autorefresh`` widget).
"""

import json
import logging
import random
import re
import time
import uuid
from collections import defaultdict
from functools import partial

import psycopg2.extensions
import requests
from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from .. import compat
from .res_config_settings import DEFAULT_BRIDGE_URL

_logger = logging.getLogger(__name__)

JOB_KINDS = [("none", "None"), ("upload", "Upload"), ("commit", "Commit")]
JOB_STATES = [("none", "None"), ("queued", "Queued"), ("running", "Running"), ("done", "Done"),
              ("failed", "Failed")]
ACTIVE_JOB_STATES = ("queued", "running")
# staged records a commit has dealt with (the commit job's progress)
DONE_RECORD_STATES = ("committed", "matched", "failed", "skipped", "rolled_back")
HEALTH_TIMEOUT = 5  # seconds
UPLOAD_TIMEOUT = 300  # seconds: the bridge answers once it has the files (202), not once staged
# what the bridge reports with api_job_progress (bridge/src/jobs/job-runner.ts)
JOB_PHASES = [("reading", "Reading"), ("extracting", "Extracting"), ("staging", "Staging"), ("done", "Done"),
              ("failed", "Failed")]
JOB_PROGRESS_KEYS = ("job", "phase", "object", "done", "total", "message", "file", "row", "field", "resumable")
CRON_XMLID = "crm_migration.ir_cron_crm_migration_jobs"
# a commit job batch that loses a race with a concurrent transaction is retried this many times
JOB_CONCURRENCY_TRIES = 5


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    job = fields.Selection(JOB_KINDS, required=True, default="none", readonly=True, copy=False)
    job_state = fields.Selection(JOB_STATES, required=True, default="none", readonly=True, copy=False,
                                 index=True, string="Job Status")
    job_message = fields.Text(readonly=True, copy=False, help="Outcome of the last job, or why it failed.")
    job_started = fields.Datetime(readonly=True, copy=False)
    job_finished = fields.Datetime(readonly=True, copy=False)
    job_done_base = fields.Integer(readonly=True, copy=False,
                                   help="Records already done when the job started (rate of the job).")
    job_user_id = fields.Many2one("res.users", readonly=True, copy=False, string="Job Started By",
                                  help="The job runs as this user (access rights apply).")
    job_token = fields.Char(readonly=True, copy=False,
                            help="Sent to the bridge with the job; its reports must carry it back.")
    job_phase = fields.Selection(JOB_PHASES, readonly=True, copy=False, string="Phase")
    job_object = fields.Char(readonly=True, copy=False, string="Working On",
                             help="The file or API object the bridge is reading, or the object it stages.")
    job_done_count = fields.Integer(readonly=True, copy=False, string="Done So Far")
    job_total_count = fields.Integer(readonly=True, copy=False, string="Out Of")
    job_resume = fields.Boolean(readonly=True, copy=False,
                                help="The queued upload job resumes the API extraction that stopped.")
    job_resumable = fields.Boolean(readonly=True, copy=False,
                                   help="The bridge kept what the stopped extraction fetched: it can resume.")
    job_interrupted = fields.Boolean(readonly=True, copy=False,
                                     help="The commit job was interrupted (Odoo stopped while it ran) and resumed.")

    progress_done = fields.Integer(compute="_compute_progress", string="Done")
    progress_total = fields.Integer(compute="_compute_progress", string="Total")
    progress_percent = fields.Float(compute="_compute_progress", string="Progress")
    progress_rate = fields.Float(compute="_compute_progress", string="Records / s", digits=(16, 1))
    progress_eta = fields.Char(compute="_compute_progress", string="Time Left")
    progress_html = fields.Html(compute="_compute_progress", sanitize=False, string="Progress Details")

    # ------------------------------------------------------------------ progress
    def _progress_counts(self):
        """``{migration id: {object: {record state: count}}}`` in one read_group."""
        counts = defaultdict(lambda: defaultdict(dict))
        ids = [i for i in self._ids if isinstance(i, int)]
        if ids:
            for migration, obj, state, count in self.env["crm.migration.record"]._read_group(
                [("migration_id", "in", ids)], ["migration_id", "object", "state"], ["__count"]
            ):
                counts[migration.id][obj][state] = count
        return counts

    @staticmethod
    def _object_progress(states):
        """(done, total, failed) of one object: records in error are never committed."""
        total = sum(count for state, count in states.items() if state != "error")
        done = sum(states.get(state, 0) for state in DONE_RECORD_STATES)
        failed = states.get("failed", 0) + states.get("skipped", 0)
        return done, total, failed

    @api.depends("record_ids.state", "job_state", "job_started", "job_finished", "job_done_base")
    def _compute_progress(self):
        counts = self._progress_counts()
        now = fields.Datetime.now()
        for migration in self:
            per_object = {obj: self._object_progress(states) for obj, states in sorted(counts[migration.id].items())}
            done = sum(p[0] for p in per_object.values())
            total = sum(p[1] for p in per_object.values())
            rate = migration._progress_rate(done, now)
            migration.progress_done = done
            migration.progress_total = total
            migration.progress_percent = 100.0 * done / total if total else 0.0
            migration.progress_rate = rate
            migration.progress_eta = migration._progress_eta(total - done, rate)
            migration.progress_html = migration._progress_table(per_object)

    def _progress_rate(self, done, now):
        """Records per second of the commit job (running, or finished)."""
        if self.job != "commit" or not self.job_started or self.job_state not in ("running", "done", "failed"):
            return 0.0
        end = self.job_finished if self.job_state != "running" and self.job_finished else now
        elapsed = (end - self.job_started).total_seconds()
        return max(done - self.job_done_base, 0) / elapsed if elapsed > 0 else 0.0

    def _progress_eta(self, remaining, rate):
        _ = self.env._
        if self.job != "commit" or self.job_state != "running":
            return False
        if remaining <= 0:
            return _("finishing…")
        if not rate:
            return _("estimating…")
        seconds = remaining / rate
        if seconds < 60:
            return _("less than a minute left")
        return _("about %(minutes)s min left", minutes=round(seconds / 60))

    def _progress_table(self, per_object):
        """The form's progress: the upload's status, or one row per object with a small bar."""
        _ = self.env._
        if self.job == "upload" and self.job_state in ACTIVE_JOB_STATES:
            return self._upload_progress_html()
        if not per_object:
            return False
        rows = Markup("").join(
            Markup(
                '<tr><td>%(object)s</td><td class="text-end">%(done)s / %(total)s</td>'
                '<td style="width: 40%%"><div class="progress" style="height: 0.6rem">'
                '<div class="progress-bar %(bar)s" role="progressbar" style="width: %(percent)s%%"></div>'
                '</div></td><td class="text-end %(failed_class)s">%(failed)s</td></tr>'
            ) % {
                "object": obj, "done": done, "total": total, "failed": failed,
                "percent": round(100 * done / total) if total else 0,
                "bar": "bg-warning" if failed else "bg-success",
                "failed_class": "text-danger" if failed else "text-muted",
            }
            for obj, (done, total, failed) in per_object.items()
        )
        head = Markup(
            '<table class="table table-sm o_crm_migration_progress mb-0"><thead><tr><th>%s</th>'
            '<th class="text-end">%s</th><th/><th class="text-end">%s</th></tr></thead><tbody>'
        ) % (_("Object"), _("Done / Total"), _("Failed"))
        return head + rows + Markup("</tbody></table>")

    def _upload_progress_html(self):
        """What the bridge last reported (phase, object, done / total), with a bar when it knows
        the total."""
        _ = self.env._
        files = len(self.upload_attachment_ids)
        if self.job_state == "queued":
            text = (_("Waiting to resume the extraction…") if self.job_resume
                    else _("Waiting to upload %(files)s file(s) to the bridge…", files=files))
        elif not self.job_phase:
            text = _("Sending %(files)s file(s) to the bridge…", files=files)
        elif self.job_phase == "reading":
            text = _("The bridge is reading %(object)s…", object=self.job_object or "")
        elif self.job_phase == "extracting":
            text = _("The bridge is reading %(object)s from the source: %(done)s records so far",
                     object=self.job_object or "", done=self.job_done_count)
        else:
            text = _("Staging %(object)s: %(done)s / %(total)s records sent to Odoo",
                     object=self.job_object or "", done=self.job_done_count, total=self.job_total_count)
        html = Markup('<p class="mb-0 o_crm_migration_job_phase"><i class="fa fa-spinner fa-spin me-1"></i>%s</p>') % text
        if self.job_phase == "staging" and self.job_total_count:
            percent = round(100 * self.job_done_count / self.job_total_count)
            html += Markup('<div class="progress mt-1" style="height: 0.6rem"><div class="progress-bar" '
                           'role="progressbar" style="width: %s%%"></div></div>') % percent
        return html

    # ------------------------------------------------------------------ bridge
    @api.model
    def _bridge_param(self, key, default=False):
        return self.env["ir.config_parameter"].sudo().get_param(f"crm_migration.{key}", default) or default

    @api.model
    def _bridge_url(self):
        return self._bridge_param("bridge_url", DEFAULT_BRIDGE_URL).strip().rstrip("/")

    @api.model
    def _bridge_headers(self):
        token = self._bridge_param("bridge_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    @api.model
    def _short_error(self, exc):
        """A readable reason for a ``requests`` error (not urllib3's whole repr)."""
        if isinstance(exc, requests.Timeout):
            return self.env._("no answer in time")
        if isinstance(exc, requests.HTTPError) and exc.response is not None:
            return self.env._("HTTP %(status)s", status=exc.response.status_code)
        text = str(exc)
        found = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
        return found.group(1).strip() if found else text

    @api.model
    def _bridge_down_message(self, url, exc):
        return self.env._(
            "The migration bridge at %(url)s does not answer: %(error)s. Check Settings → CRM Migration "
            "(bridge URL and token) and that the bridge is running.", url=url, error=self._short_error(exc))

    @api.model
    def _bridge_check(self):
        """``GET {bridge_url}/health``: UserError with a clear message when the bridge does not answer."""
        url = self._bridge_url()
        try:
            response = requests.get(f"{url}/health", headers=self._bridge_headers(), timeout=HEALTH_TIMEOUT)
            response.raise_for_status()
        except requests.RequestException as exc:
            raise UserError(self._bridge_down_message(url, exc)) from None
        return True

    def _bridge_error_message(self, response):
        """The bridge's JSON error (``{"error", "message", "file"?, "row"?, "field"?}``) as one line
        naming file, row and field."""
        _ = self.env._
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        message = self._located_message(payload) or response.text[:500] or response.reason
        if response.status_code in (502, 503):
            return _("The bridge could not stage into Odoo (HTTP %(status)s): %(message)s",
                     status=response.status_code, message=message)
        return _("The bridge refused the upload (HTTP %(status)s): %(message)s",
                 status=response.status_code, message=message)

    def _upload_fields(self):
        """The multipart form fields of the upload (docs/journey.md)."""
        self.ensure_one()
        source = self._source_name()
        if not source:
            raise UserError(self.env._("Choose the source system of migration %(name)s before uploading.",
                                       name=self.display_name))
        data = {"source": source, "job": self.job_token}
        if self.upload_mapping_json:
            data["mapping"] = self.upload_mapping_json
        saved = self._saved_decisions()
        if saved:
            data["saved"] = json.dumps(saved)
        llm_url = self._bridge_param("llm_url")
        if llm_url:
            data["llm"] = json.dumps({"url": llm_url, "key": self._bridge_param("llm_key") or "",
                                      "model": self._bridge_param("llm_model") or ""})
        return data

    # ------------------------------------------------------------------ jobs
    def _queue_job(self, kind, resume=False):
        """Queue ``kind`` ("upload" / "commit") on these migrations and wake the job cron up;
        ``resume``: the upload job resumes the API extraction that stopped."""
        if kind not in dict(JOB_KINDS) or kind == "none":
            raise ValueError(f"unknown job {kind!r}")
        busy = self.filtered(lambda m: m.job_state in ACTIVE_JOB_STATES)
        if busy:
            raise UserError(self.env._("Migration %(name)s already has a job queued or running: wait for it "
                                       "to finish.", name=busy[0].display_name))
        for migration in self:
            migration.write({"job": kind, "job_state": "queued", "job_message": False, "job_started": False,
                             "job_finished": False, "job_done_base": 0, "job_user_id": self.env.uid,
                             "job_token": str(uuid.uuid4()), "job_phase": False, "job_object": False,
                             "job_done_count": 0, "job_total_count": 0, "job_resume": resume,
                             "job_resumable": False, "job_interrupted": False})
        self.env.ref(CRON_XMLID).sudo()._trigger()
        return True

    @api.model
    def _job_may_commit(self):
        """Whether the job runner may commit the transaction (never in tests)."""
        return not (tools.config["test_enable"] or compat.registry_in_test_mode(self.env.registry)
                    or self.env.context.get("crm_migration_job_no_commit"))

    @api.model
    def _cron_run_jobs(self):
        """Run the queued jobs one by one (oldest first); the cron runs again at once when more
        were queued meanwhile."""
        Migration = self.sudo()
        Migration._requeue_dead_commit_jobs()
        ids = Migration.search([("job_state", "=", "queued")], order="write_date, id").ids
        for migration in Migration.browse(ids):
            migration.invalidate_recordset(["job_state"])
            if migration.job_state == "queued":
                migration._run_job()
        remaining = Migration.search_count([("job_state", "=", "queued")])
        compat.notify_progress(self.env, "crm_migration.ir_cron_crm_migration_jobs", len(ids), remaining)
        return True

    def _run_job(self, commit=None):
        """Run this migration's queued job as the user who queued it; sets ``job_state`` to
        ``done`` or ``failed`` (with ``job_message``). ``commit``: commit the transaction between
        the steps (default: unless in tests)."""
        self.ensure_one()
        commit = self._job_may_commit() if commit is None else commit
        cr = self.env.cr
        migration = self.with_user(self.job_user_id or self.env.user)
        kind = self.job
        self.write({"job_state": "running", "job_started": fields.Datetime.now(), "job_finished": False,
                    "job_message": False, "job_done_base": self.progress_done})
        if commit:
            cr.commit()
        runner = {"upload": migration._job_upload,
                  "commit": partial(migration._job_commit, partial(self._job_batch_done, commit))}.get(kind)
        in_bridge = False
        try:
            if runner is None:
                raise UserError(self.env._("Unknown job %(job)s.", job=kind))
            # "in_bridge" (the bridge stages and ends the job) / "in_queue" (the commit runs as
            # queue_job jobs, addon crm_migration_queue, which end the job): not ended here
            if commit:
                in_bridge = self._job_run_retrying(runner) in ("in_bridge", "in_queue")
                cr.commit()  # a new transaction: what the bridge staged meanwhile is visible
            else:
                with cr.savepoint():
                    in_bridge = runner() in ("in_bridge", "in_queue")
        except Exception as exc:  # noqa: BLE001 - the job fails, the migration stays consistent
            if commit:
                cr.rollback()
            self._job_log_failure(kind, exc)
            state, message = "failed", self._job_error_text(exc)
        else:
            state, message = "done", None
        self.env.invalidate_all()
        if in_bridge:
            # the bridge works in the background and ends the job itself (api_job_progress); it may
            # have done so already: the migration row is not written here
            return True
        if state == "done":
            message = migration._job_done_message(kind)
        self.write({"job_state": state, "job_message": message, "job_finished": fields.Datetime.now()})
        if commit:
            cr.commit()
        return state == "done"

    def _job_run_retrying(self, runner):
        """Run ``runner`` (the job commits after each batch); a batch that lost a race with a
        concurrent transaction (serialization failure or deadlock: e.g. another commit claimed
        the same keys, services/key_claim.py) is undone by the database and the job goes on from
        there, as Odoo's RPC layer retries a request."""
        for attempt in range(1, JOB_CONCURRENCY_TRIES + 1):
            try:
                return runner()
            except psycopg2.extensions.TransactionRollbackError as exc:
                if attempt == JOB_CONCURRENCY_TRIES:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                self.env.registry.reset_changes()
                _logger.info("crm_migration: %s job of migration %s lost a race (%s); retrying (%s)",
                             self.job, self.id, exc.pgcode, attempt)
                time.sleep(random.uniform(0.1, 2 ** attempt))
        return None

    @api.model
    def _requeue_dead_commit_jobs(self):
        """Commit jobs still ``running`` when the job cron starts are dead: only this cron runs
        them, and Odoo runs one instance of a cron at a time (it locks the cron's row while it
        runs), so a ``running`` commit job seen here was interrupted (Odoo restarted or was killed
        while it ran). It is queued again and resumes where it stopped: every batch the job
        finished was committed with its links, the interrupted batch was undone by PostgreSQL
        with everything it did, so nothing is lost or doubled (issue #12, "Data" 10)."""
        dead = self.sudo().search([("job", "=", "commit"), ("job_state", "=", "running")])
        dead = dead.filtered(lambda m: not m._commit_runs_elsewhere())
        for migration in dead:
            _logger.warning("crm_migration: commit job of migration %s was interrupted (started %s); resuming it",
                            migration.id, migration.job_started)
            migration.write({
                "job_state": "queued",
                "job_interrupted": True,
                "job_message": self.env._(
                    "The commit job started at %(started)s was interrupted (Odoo stopped while it ran); it was "
                    "resumed where it stopped at %(now)s.", started=migration.job_started, now=fields.Datetime.now()),
            })
        return dead

    def _commit_runs_elsewhere(self):
        """True when this migration's running commit was handed to another runner (queue_job:
        crm_migration_queue) that resumes it itself: then it is not dead when the cron starts."""
        return False

    def _job_log_failure(self, kind, exc):
        if isinstance(exc, UserError):
            _logger.warning("crm_migration: %s job of migration %s failed: %s", kind, self.id, exc.args[0])
        else:
            _logger.exception("crm_migration: %s job of migration %s crashed", kind, self.id)

    def _job_error_text(self, exc):
        if isinstance(exc, UserError):
            return exc.args[0]
        return self.env._("The job stopped on an unexpected error: %(error)s (see the server log).",
                          error=f"{type(exc).__name__}: {exc}")

    def _job_batch_done(self, commit, count):
        """``on_batch`` hook of the commit job: make the batch (and the progress) visible."""
        if commit:
            self.env.cr.commit()

    def _job_upload(self):
        """Start the bridge's staging job: the export files (``/upload``, multipart) or, for an API
        source, the credentials (``/extract``, JSON). ``"in_bridge"`` once the bridge took it (202):
        it reports the rest; a synchronous answer (200) means it is already done."""
        self.ensure_one()
        url = self._bridge_url()
        if self._source_input() == "api":
            return self._bridge_start(f"{url}/migrations/{self.id}/extract", json=dict(
                self._extract_body(), resume=bool(self.job_resume)))
        attachments = self.upload_attachment_ids
        if not attachments:
            raise UserError(self.env._("Migration %(name)s has no export file to upload.", name=self.display_name))
        files = [("files", (att.name, att.raw, att.mimetype or "application/octet-stream")) for att in attachments]
        return self._bridge_start(f"{url}/migrations/{self.id}/upload", data=self._upload_fields(), files=files)

    def _extract_body(self):
        """The JSON body of ``/extract``: the upload's fields, decoded, and the stored credentials."""
        fields_ = self._upload_fields()
        body = {key: json.loads(value) if key in ("mapping", "saved", "llm") else value
                for key, value in fields_.items()}
        body["credentials"] = self._credentials_dict()
        return body

    def _bridge_start(self, endpoint, **payload):
        try:
            response = requests.post(endpoint, headers=self._bridge_headers(), timeout=UPLOAD_TIMEOUT, **payload)
        except requests.RequestException as exc:
            raise UserError(self._bridge_down_message(self._bridge_url(), exc)) from None
        if response.status_code == 409:
            raise UserError(self.env._(
                "The bridge is still running a job of migration %(name)s (it may be finishing one that "
                "was stopped): try again in a moment.", name=self.display_name))
        if response.status_code >= 400:
            raise UserError(self._bridge_error_message(response))
        return "in_bridge" if response.status_code == 202 else True

    # ------------------------------------------------------------------ RPC API
    def api_job_progress(self, vals):
        """The bridge's report on the job it runs for this migration (docs/staging-contract.md):
        ``{"job": token, "phase": "reading" | "extracting" | "staging" | "done" | "failed",
        "object", "done", "total", "message", "file", "row", "field", "resumable"}``. ``done``
        and ``failed`` end the job. A report on a job that is not this migration's current one (the
        admin stopped it, or started another) is refused: the bridge stops that job. Returns True."""
        self.ensure_one()
        self._check_manager()
        _ = self.env._
        vals = self._check_struct(vals, "api_job_progress", JOB_PROGRESS_KEYS)
        phase = vals.get("phase")
        if phase not in dict(JOB_PHASES):
            raise ValidationError(_("api_job_progress: phase must be one of %(phases)s.",
                                    phases=", ".join(dict(JOB_PHASES))))
        token = vals.get("job")
        if not isinstance(token, str) or not token:
            raise ValidationError(_("api_job_progress: key 'job' must be the job's token."))
        for key in ("done", "total", "row"):
            value = vals.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValidationError(_("api_job_progress: key '%(key)s' must be a whole number.", key=key))
        for key in ("object", "message", "file", "field"):
            if vals.get(key) is not None and not isinstance(vals[key], str):
                raise ValidationError(_("api_job_progress: key '%(key)s' must be a string.", key=key))
        write = {"job_phase": phase, "job_object": vals.get("object") or False,
                 "job_done_count": vals.get("done") or 0, "job_total_count": vals.get("total") or 0}
        if self.job_state in ACTIVE_JOB_STATES:
            if token != self.job_token:
                raise UserError(_("Migration %(name)s runs another job: this report is refused.",
                                  name=self.display_name))
        elif token == self.job_token:
            raise UserError(_("Migration %(name)s is not running this job anymore (it was stopped or has "
                              "ended): stop it.", name=self.display_name))
        else:
            # a job the bridge started by itself (CLI, scripts): it becomes this migration's job
            write.update(job="upload", job_token=token, job_started=fields.Datetime.now(), job_finished=False,
                         job_user_id=self.env.uid, job_message=False, job_resume=False, job_resumable=False)
        if phase in ("done", "failed"):
            write.update(job_finished=fields.Datetime.now(), job_state=phase, job_resume=False,
                         job_resumable=phase == "failed" and bool(vals.get("resumable")))
            if phase == "done":
                self.invalidate_recordset()
                write["job_message"] = self._job_done_message("upload")
            else:
                write["job_message"] = self._located_message(vals)
        else:
            write["job_state"] = "running"
        self.write(write)
        return True

    def _located_message(self, payload):
        """The bridge's message naming file, row and field (once, if it does not already)."""
        _ = self.env._
        message = str(payload.get("message") or payload.get("error") or "")
        if payload.get("file") and not message.startswith(str(payload["file"])):
            location = str(payload["file"])
            if payload.get("row") is not None:
                location += _(", row %(row)s", row=payload["row"])
            if payload.get("field"):
                location += _(', field "%(field)s"', field=payload["field"])
            message = f"{location}: {message}"
        return message

    def _job_commit(self, on_batch):
        """The full commit (``api_commit`` without options), ``on_batch`` after each batch."""
        self.ensure_one()
        self._check_manager()
        self._commit(on_batch=on_batch)
        return True

    def _job_done_message(self, kind):
        _ = self.env._
        report = self.api_report()
        counts = report["counts"]
        if kind == "upload":
            next_step = {
                "uploaded": _("Next: check and confirm the mapping."),
                "mapped": _("Next: sample or commit."),
                "delta": _("Next: check the Final delta page and commit the delta."),
            }.get(self.state, "")
            if not self.upload_attachment_ids:
                return _("Staging done: %(records)s records staged, %(errors)s with errors. %(next)s",
                         records=sum(counts.values()), errors=counts["error"], next=next_step).strip()
            return _("%(files)s file(s) uploaded: %(records)s records staged, %(errors)s with errors. %(next)s",
                     files=len(self.upload_attachment_ids), records=sum(counts.values()),
                     errors=counts["error"], next=next_step).strip()
        done = _("Commit done: %(committed)s created, %(matched)s matched, %(failed)s failed, "
                 "%(skipped)s skipped, %(waiting)s waiting for their owner.", **counts)
        if self.job_interrupted:
            done = _("The commit job was interrupted (Odoo stopped while it ran) and resumed where it stopped. "
                     "%(done)s", done=done)
        return done

    # ------------------------------------------------------------------ UI
    def action_open_upload_wizard(self):
        """The upload wizard, on this (draft) migration."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_migration.action_crm_migration_upload_wizard")
        action["context"] = {"active_model": self._name, "active_id": self.id}
        return action

    def action_upload_again(self):
        """Send the same files to the bridge again (e.g. after the bridge was down)."""
        self.ensure_one()
        self._check_manager()
        self._bridge_check()
        self._queue_job("upload")
        return True

    def action_resume_extraction(self):
        """Resume the API extraction that stopped: the bridge re-reads what it fetched and asks the
        source only for the rest, then stages."""
        self.ensure_one()
        self._check_manager()
        if not (self.job == "upload" and self.job_state == "failed" and self.job_resumable):
            raise UserError(self.env._("Migration %(name)s has no stopped extraction to resume.",
                                       name=self.display_name))
        self._bridge_check()
        self._queue_job("upload", resume=True)
        return True

    def action_reset_job(self):
        """Stop a job: it is marked failed; the bridge's next report on it is refused, which stops
        it there too (an API extraction stopped so can be resumed)."""
        self._check_manager()
        active = self.filtered(lambda m: m.job_state in ACTIVE_JOB_STATES)
        for migration in active:
            migration.write({
                "job_state": "failed", "job_finished": fields.Datetime.now(),
                "job_message": self.env._("Stopped by %(user)s.", user=self.env.user.name),
                "job_resumable": migration.job == "upload" and migration.job_phase == "extracting",
            })
        return True
