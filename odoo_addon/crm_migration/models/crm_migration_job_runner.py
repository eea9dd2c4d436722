"""Background jobs of a migration, run (docs/journey.md, "Jobs and progress").

A job is a ``crm.migration.job`` record (models/crm_migration_job.py) owned by the migration; one
runs at a time: the migration's ``job_id`` is its current job, and its ``job_*`` fields show that
job (what the form, the RPC callers and the tests read; a ``create`` or ``write`` of ``job_*``
values on the migration writes them on its current job). The upload wizard and the Commit button
queue a new job (``_queue_job``), the cron ``ir_cron_crm_migration_jobs`` runs the queued ones
(``_cron_run_jobs``), triggered at once with ``ir.cron._trigger()``.

- ``upload``: POST the export files to the bridge's ``/migrations/{id}/upload`` (or, for a source
  read through its API, the credentials to ``/migrations/{id}/extract``: models/crm_migration_bridge.py).
  The bridge answers 202 at once and works in the background: it stages into this migration over
  XML-RPC in its own transactions and reports its progress with ``api_job_progress`` (phase,
  object, done/total), which also ends the job (done, or failed naming file, row and field). The
  cron commits before calling the bridge and never writes the migration or its job after the 202,
  so it holds no lock the bridge waits for. Each job has a token (``job_token``) the bridge sends
  back with every report: a job the admin stopped (or replaced) is refused, and the bridge stops
  it. An API extraction that stopped can be resumed (``action_resume_extraction``): the bridge
  kept what it fetched.
- ``commit``: the full commit (``_commit``) with a transaction commit after each batch, so the
  form's progress (models/crm_migration_progress.py) moves while it runs. With OCA ``queue_job``
  (addon ``crm_migration_queue``), the commit job hands its chunks to queue_job workers instead.
"""

import logging
import random
import time
import uuid
from collections.abc import Collection
from functools import partial

import psycopg2.extensions

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from .. import compat
from .crm_migration_job import ACTIVE_JOB_STATES, JOB_KINDS, JOB_PHASES, JOB_STATES, MIGRATION_JOB_FIELDS

_logger = logging.getLogger(__name__)

JOB_PROGRESS_KEYS = ("job", "phase", "object", "done", "total", "message", "file", "row", "field", "resumable")
CRON_XMLID = "crm_migration.ir_cron_crm_migration_jobs"
# a commit job batch that loses a race with a concurrent transaction is retried this many times
JOB_CONCURRENCY_TRIES = 5


def _job_field(name, field_class, **kwargs):
    """A field of the migration showing field ``MIGRATION_JOB_FIELDS[name]`` of its current job,
    searchable (views' filters, the job cron)."""
    def search(records, operator, value):
        return records._job_search_domain(name, operator, value)

    search.__name__ = f"_search_{name}"
    return field_class(compute="_compute_job_fields", search=search, **kwargs)


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    job_id = fields.Many2one("crm.migration.job", string="Current Job", readonly=True, copy=False,
                             index="btree_not_null")
    job_ids = fields.One2many("crm.migration.job", "migration_id", string="Jobs", readonly=True)
    job = _job_field("job", fields.Selection, selection=JOB_KINDS)
    job_state = _job_field("job_state", fields.Selection, selection=JOB_STATES, string="Job Status")
    job_message = _job_field("job_message", fields.Text, help="Outcome of the last job, or why it failed.")
    job_started = _job_field("job_started", fields.Datetime)
    job_finished = _job_field("job_finished", fields.Datetime)
    job_done_base = _job_field("job_done_base", fields.Integer,
                               help="Records already done when the job started (rate of the job).")
    job_user_id = _job_field("job_user_id", fields.Many2one, comodel_name="res.users", string="Job Started By",
                             help="The job runs as this user (access rights apply).")
    job_token = _job_field("job_token", fields.Char,
                           help="Sent to the bridge with the job; its reports must carry it back.")
    job_phase = _job_field("job_phase", fields.Selection, selection=JOB_PHASES, string="Phase")
    job_object = _job_field("job_object", fields.Char, string="Working On",
                            help="The file or API object the bridge is reading, or the object it stages.")
    job_done_count = _job_field("job_done_count", fields.Integer, string="Done So Far")
    job_total_count = _job_field("job_total_count", fields.Integer, string="Out Of")
    job_resume = _job_field("job_resume", fields.Boolean,
                            help="The queued upload job resumes the API extraction that stopped.")
    job_resumable = _job_field("job_resumable", fields.Boolean,
                               help="The bridge kept what the stopped extraction fetched: it can resume.")
    job_interrupted = _job_field("job_interrupted", fields.Boolean,
                                 help="The commit job was interrupted (Odoo stopped while it ran) and resumed.")

    # ------------------------------------------------------------------ the current job
    @api.depends(*(f"job_id.{name}" for name in MIGRATION_JOB_FIELDS.values()))
    def _compute_job_fields(self):
        for migration in self:
            job = migration.job_id
            for name, job_name in MIGRATION_JOB_FIELDS.items():
                migration[name] = job[job_name]
            if not job:
                migration.job = migration.job_state = "none"

    @api.model
    def _job_search_domain(self, name, operator, value):
        path = f"job_id.{MIGRATION_JOB_FIELDS[name]}"
        domain = [(path, operator, value)]
        # 19 hands a search method ``in`` with a set (OrderedSet) where 17/18 give ``=`` and a value
        values = [value] if isinstance(value, str) or not isinstance(value, Collection) else value
        if name in ("job", "job_state") and operator in ("=", "in") and "none" in values:
            domain = ["|", ("job_id", "=", False)] + domain  # no job yet: "none"
        return domain

    @api.model
    def _split_job_vals(self, vals):
        """``(vals without job_* keys, the job's values)``."""
        job_vals = {MIGRATION_JOB_FIELDS[k]: v for k, v in vals.items() if k in MIGRATION_JOB_FIELDS}
        return {k: v for k, v in vals.items() if k not in MIGRATION_JOB_FIELDS}, job_vals

    @api.model_create_multi
    def create(self, vals_list):
        split = [self._split_job_vals(vals) for vals in vals_list]
        migrations = super().create([vals for vals, _job_vals in split])
        for migration, (_vals, job_vals) in zip(migrations, split, strict=True):
            if job_vals:
                migration._write_job(job_vals)
        return migrations

    def write(self, vals):
        vals, job_vals = self._split_job_vals(vals)
        result = super().write(vals) if vals else True
        if job_vals:
            self._write_job(job_vals)
        return result

    def _write_job(self, job_vals, new=False):
        """Write ``job_vals`` (the job's own field names) on the current job of each migration;
        a migration without one (or ``new``) gets a new current job."""
        Job = self.env["crm.migration.job"]
        for migration in self:
            if migration.job_id and not new:
                migration.job_id.write(job_vals)
            else:
                job = Job.create(dict(job_vals, migration_id=migration.id))
                super(CrmMigration, migration).write({"job_id": job.id})

    def invalidate_recordset(self, fnames=None, flush=True):
        """Reading the ``job_*`` fields again (another transaction moved the job on) reads the
        job again too."""
        fnames = None if fnames is None else list(fnames)
        if fnames is None or not MIGRATION_JOB_FIELDS.keys().isdisjoint(fnames):
            self.env["crm.migration.job"].invalidate_model(flush=flush)
            if fnames is not None:
                fnames = [*fnames, "job_id"]
        return super().invalidate_recordset(fnames, flush)

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
            migration._write_job({"kind": kind, "state": "queued", "user_id": self.env.uid,
                                  "token": str(uuid.uuid4()), "resume": resume}, new=True)
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
        error = "%s: %s" % (type(exc).__name__, exc)
        return self.env._("The job stopped on an unexpected error: %(error)s (see the server log).", error=error)

    def _job_batch_done(self, commit, count):
        """``on_batch`` hook of the commit job: make the batch (and the progress) visible."""
        if commit:
            self.env.cr.commit()

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
        vals = self._check_job_progress(vals)
        phase, token = vals["phase"], vals["job"]
        new_job = False
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
            new_job = True
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
        if new_job:
            self._write_job(self._split_job_vals(write)[1], new=True)
        else:
            self.write(write)
        return True

    def _check_job_progress(self, vals):
        """The checked report of ``api_job_progress`` (ValidationError naming the wrong key)."""
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
        return vals

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
