"""Parallel commit over RPC (issue #11; docs/staging-contract.md, "Parallel and queued commit").

``api_commit_plan`` -> the plan (waves of chunks, services/plan.py); ``api_commit_chunk`` for each
chunk of a wave, several at a time (each call is its own transaction, on any of Odoo's HTTP
workers), the next wave once the previous one is done; ``api_commit_finish`` at the end. The same
chunks as the serial ``api_commit``: the same records, links and rollback.
"""

from datetime import datetime

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

from ..services import parallel
from ..services.commit import TODO_STATES, CommitEngine
from .crm_migration import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from .crm_migration_job import ACTIVE_JOB_STATES

PLAN_KEYS = ("migration", "since", "edited_before", "schema", "total", "waves", "batch_size")
# chunks at a time a plan may be made for (api_commit_plan's "workers")
MAX_PLAN_WORKERS = 64
CHUNK_KEYS = ("object", "ids", "seq", "skip")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    def _check_batch_size(self, method, batch_size):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 0 < batch_size <= MAX_BATCH_SIZE:
            raise ValidationError(self.env._("%(method)s: batch_size must be an integer between 1 and %(max)s.",
                                             method=method, max=MAX_BATCH_SIZE))
        return batch_size

    def _commit_start(self, batch_size, workers=1):
        """Checks of a plain commit, the sample approved, and the plan (``{"waves": []}`` when
        there is nothing to commit), its chunks sized for ``workers`` at a time."""
        self.ensure_one()
        self._check_committable()
        if self.sample_state == "sampled":
            self.sample_state = "approved"
        plan = CommitEngine(self, batch_size=batch_size, workers=workers).plan() or {
            "migration": self.id, "since": fields.Datetime.now().isoformat(sep=" "), "edited_before": [],
            "schema": False, "total": 0, "waves": []}
        plan["batch_size"] = batch_size
        return plan

    def _commit_end(self, plan):
        """After the last chunk (or after a chunk failed for good): ``CommitEngine.finish`` and
        the migration's state, as at the end of ``_commit``."""
        self.ensure_one()
        CommitEngine(self, batch_size=plan.get("batch_size") or DEFAULT_BATCH_SIZE).finish(plan)
        incomplete = self.env["crm.migration.record"].search_count(
            [("migration_id", "=", self.id), ("state", "in", TODO_STATES)], limit=1)
        self.write({"state": "partial" if incomplete else "committed", "commit_date": fields.Datetime.now()})
        if not incomplete:
            self._delta_settle_state()

    # ------------------------------------------------------------------ RPC API
    def api_commit_plan(self, options=None):
        """``{"batch_size": 500, "workers": 2}`` -> the plan of a plain commit: ``{"waves": [[chunk,
        ...], ...], "total", ...}`` (services/plan.py). Run each chunk with ``api_commit_chunk`` (the
        chunks of a wave in any order, at the same time if you like; waves in order), then give the
        plan to ``api_commit_finish``. ``workers`` (default 1): how many chunks the caller runs at a
        time; a wave with fewer chunks than that is cut into smaller ones (``plan.split_size``).
        Nothing is written but the sample's approval."""
        self.ensure_one()
        self._check_manager()
        options = self._check_struct(options, "api_commit_plan", ("batch_size", "workers"))
        batch_size = self._check_batch_size("api_commit_plan", options.get("batch_size", DEFAULT_BATCH_SIZE))
        workers = options.get("workers", 1)
        if isinstance(workers, bool) or not isinstance(workers, int) or not 0 < workers <= MAX_PLAN_WORKERS:
            raise ValidationError(self.env._("api_commit_plan: workers must be an integer between 1 and %(max)s.",
                                             max=MAX_PLAN_WORKERS))
        if self.job == "commit" and self.job_state in ACTIVE_JOB_STATES:
            raise UserError(self.env._("Migration %(name)s has a commit job queued or running: wait for it "
                                       "to finish.", name=self.display_name))
        return self._commit_start(batch_size, workers)

    def api_commit_chunk(self, chunk):
        """Commit one chunk of the plan in this call's transaction (retried on a concurrent
        transaction's refusal): ``{"done": records committed, matched, failed or skipped,
        "attempts": tries}``. A chunk already committed does nothing (``done`` 0)."""
        self.ensure_one()
        self._check_manager()
        chunk = self._check_struct(chunk, "api_commit_chunk", CHUNK_KEYS)
        ids = chunk.get("ids")
        if (not isinstance(ids, list) or not 0 < len(ids) <= MAX_BATCH_SIZE
                or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)):
            raise ValidationError(self.env._("api_commit_chunk: 'ids' must be a list of 1 to %(max)s record ids.",
                                             max=MAX_BATCH_SIZE))
        seq = chunk.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
            raise ValidationError(self.env._("api_commit_chunk: 'seq' must be a positive integer."))
        skip = chunk.get("skip")
        if skip is not None and (not isinstance(skip, dict)
                                 or not all(isinstance(v, str) for v in skip.values())):
            raise ValidationError(self.env._("api_commit_chunk: 'skip' must map record ids to messages."))
        if self.state == "rolled_back":
            raise UserError(self.env._("Migration %(name)s is rolled back: stage and commit a new migration.",
                                       name=self.display_name))
        return parallel.run_chunk(self, chunk, len(ids), may_rollback=self._job_may_commit())

    def api_commit_finish(self, plan):
        """End of a commit run with ``api_commit_chunk`` (also after a chunk failed for good:
        the migration is then ``partial`` and committing again continues). Returns the report."""
        self.ensure_one()
        self._check_manager()
        plan = self._check_struct(plan, "api_commit_finish", PLAN_KEYS)
        try:
            if plan.get("migration") != self.id:
                raise ValueError(plan.get("migration"))
            datetime.fromisoformat(plan["since"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(self.env._("api_commit_finish: give back the plan api_commit_plan answered "
                                             "for this migration.")) from None
        edited = plan.get("edited_before") or []
        if not isinstance(edited, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in edited):
            raise ValidationError(self.env._("api_commit_finish: 'edited_before' must be a list of ids."))
        self._commit_end(plan)
        return self.api_report()
