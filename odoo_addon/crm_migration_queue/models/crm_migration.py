"""The commit job as OCA queue_job jobs (issue #11; README, "Commit on several workers").

The migration's commit job (crm_migration's cron, ``_run_job``) plans the commit and hands the
plan to queue_job instead of committing itself (``_job_commit`` answers ``"in_queue"``): the
plan is kept on the migration (``commit_plan_json``), each chunk of a wave is a job
(``_queue_commit_chunk``, channel ``root.crm_migration``), and a job that depends on all of them
(``_queue_commit_next``) queues the next wave, or ends the commit (``CommitEngine.finish``, the
migration's state, the job's message). Jobs run as the user who pressed Commit.

Restartable: a chunk job does nothing for records already done, and nothing at all once the
migration's job was stopped or replaced (its token is in the plan). A chunk refused by concurrent
transactions more often than ``run_chunk`` tries is retried by queue_job (RetryableJobError,
postponed); a chunk that fails otherwise fails in queue_job (requeue it there once fixed: the
chain continues) and its error is written on the migration. Stopping the migration's job and
pressing Commit again plans the records still to do.
"""

import logging

from odoo import api, fields, models

from odoo.addons.crm_migration.services import parallel
from odoo.addons.queue_job.delay import group
from odoo.addons.queue_job.exception import RetryableJobError

_logger = logging.getLogger(__name__)

CHANNEL = "root.crm_migration"


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    commit_plan_json = fields.Json(copy=False, readonly=True, groups="base.group_system",
                                   help="The plan of the commit running as queue_job jobs.")
    commit_queue_info = fields.Char(compute="_compute_commit_queue_info", string="Queued Chunks")

    @api.model
    def _queue_commit_enabled(self):
        """queue_job runs the commit unless ``crm_migration.queue_commit`` is set to ``0``."""
        param = self.env["ir.config_parameter"].sudo().get_param("crm_migration.queue_commit", "1")
        return param.strip() not in ("0", "false", "False", "")

    def _compute_commit_queue_info(self):
        for migration in self:
            plan = migration.sudo().commit_plan_json if migration.job == "commit" else None
            if not plan or migration.job_state not in ("queued", "running"):
                migration.commit_queue_info = False
                continue
            chunks = sum(len(wave) for wave in plan["waves"])
            migration.commit_queue_info = self.env._(
                "%(chunks)s chunks in %(waves)s waves on queue_job (channel %(channel)s), wave %(wave)s running",
                chunks=chunks, waves=len(plan["waves"]), channel=CHANNEL, wave=plan.get("wave", 0) + 1)

    # ------------------------------------------------------------------ the commit job
    def _job_commit(self, on_batch):
        if not self._queue_commit_enabled():
            return super()._job_commit(on_batch)
        self.ensure_one()
        self._check_manager()
        plan = self._commit_start(self._queue_batch_size())
        plan["token"] = self.job_token
        plan["wave"] = 0
        self.sudo().commit_plan_json = plan
        self._queue_wave(plan)
        return "in_queue"

    @api.model
    def _commit_runs_elsewhere(self):
        """The commit runs as queue_job jobs (their runner retries or requeues them): not dead."""
        return bool(self.sudo().commit_plan_json) or super()._commit_runs_elsewhere()

    def _queue_batch_size(self):
        from odoo.addons.crm_migration.models.crm_migration import DEFAULT_BATCH_SIZE  # noqa: PLC0415
        return DEFAULT_BATCH_SIZE

    def _queue_plan(self):
        """The plan of this migration's running queued commit, or None when the job was stopped or
        replaced (then every job of the old plan does nothing)."""
        self.ensure_one()
        self.invalidate_recordset(["job_state", "job_token"])
        plan = self.sudo().commit_plan_json
        if not plan or plan.get("token") != self.job_token or self.job_state != "running":
            return None
        return plan

    def _queue_wave(self, plan):
        """Jobs of wave ``plan["wave"]``: its chunks side by side, then ``_queue_commit_next``."""
        index = plan["wave"]
        token = plan["token"]
        if index >= len(plan["waves"]):
            self.with_delay(channel=CHANNEL, description=f"Commit of migration {self.id}: finish")._queue_commit_next(
                token, index)
            return
        wave = plan["waves"][index]
        chunks = [
            self.delayable(channel=CHANNEL, description=(
                f"Commit of migration {self.id}: wave {index + 1}/{len(plan['waves'])}, "
                f"{len(chunk['ids'])} {chunk['object']} records"))._queue_commit_chunk(token, index, n)
            for n, chunk in enumerate(wave)
        ]
        following = self.delayable(channel=CHANNEL, description=f"Commit of migration {self.id}: next wave")
        group(*chunks).on_done(following._queue_commit_next(token, index + 1)).delay()

    def _queue_commit_chunk(self, token, wave, number):
        """Job: commit chunk ``number`` of wave ``wave`` (nothing when the plan is not current)."""
        self.ensure_one()
        plan = self._queue_plan()
        if not plan or plan["token"] != token:
            return "stopped: the migration's commit job was stopped or replaced"
        chunk = plan["waves"][wave][number]
        try:
            result = parallel.run_chunk(self, chunk, len(chunk["ids"]), may_rollback=self._job_may_commit())
        except Exception as exc:
            if parallel.is_retryable(exc):
                raise RetryableJobError(f"refused by concurrent transactions: {exc}") from exc
            self._queue_report_failure(wave, chunk, exc)
            raise
        return f"{result['done']} records in {result['attempts']} tries"

    def _queue_report_failure(self, wave, chunk, exc):
        """A chunk failed for good: say so on the migration (its own transaction; the job's is lost)."""
        message = self.env._(
            "A chunk of %(count)s %(object)s records (wave %(wave)s) failed: %(error)s. Fix the cause and "
            "requeue the job in Job Queue > Jobs (the commit then continues), or stop this job and commit again.",
            count=len(chunk["ids"]), object=chunk["object"], wave=wave + 1, error=self._job_error_text(exc))
        _logger.warning("crm_migration: %s", message)
        if not self._job_may_commit():
            return
        self.env.cr.rollback()
        self.sudo().write({"job_message": message})
        self.env.cr.commit()

    def _queue_commit_next(self, token, wave):
        """Job: after wave ``wave - 1``: queue wave ``wave``, or end the commit."""
        self.ensure_one()
        plan = self._queue_plan()
        if not plan or plan["token"] != token:
            return "stopped: the migration's commit job was stopped or replaced"
        if wave < len(plan["waves"]):
            plan = dict(plan, wave=wave)
            self.sudo().commit_plan_json = plan
            self._queue_wave(plan)
            return f"wave {wave + 1} queued"
        self._commit_end(plan)
        self.sudo().write({"job_state": "done", "job_message": self._job_done_message("commit"),
                           "job_finished": fields.Datetime.now(), "commit_plan_json": False})
        return "commit done"
