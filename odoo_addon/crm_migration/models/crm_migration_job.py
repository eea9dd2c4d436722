"""A background job of a migration (docs/journey.md, "Jobs and progress"): an upload or an API
extraction the bridge runs, or a commit run by the job cron (or by OCA ``queue_job`` workers when
``crm_migration_queue`` is installed). One job runs at a time per migration: the migration's
``job_id`` is its current (latest) job, ``job_ids`` all of them, newest first; the migration shows
the current one through its ``job_*`` fields (models/crm_migration_job_runner.py).

The record is the job's state (queued, running, done, failed), its progress as the bridge last
reported it (phase, object, done / total), its outcome (``message``) and a short log of its
steps. The bridge's reports (``api_job_progress``) write here, never on the migration's row.
"""

from odoo import api, fields, models

JOB_KINDS = [("none", "None"), ("upload", "Upload"), ("commit", "Commit")]
JOB_STATES = [("none", "None"), ("queued", "Queued"), ("running", "Running"), ("done", "Done"),
              ("failed", "Failed")]
ACTIVE_JOB_STATES = ("queued", "running")
# what the bridge reports with api_job_progress (bridge/src/jobs/job-runner.ts)
JOB_PHASES = [("reading", "Reading"), ("extracting", "Extracting"), ("staging", "Staging"), ("done", "Done"),
              ("failed", "Failed")]
# the migration's job_* fields (what the form, the tests and the RPC callers read) -> the job's fields
MIGRATION_JOB_FIELDS = {
    "job": "kind", "job_state": "state", "job_message": "message", "job_started": "started",
    "job_finished": "finished", "job_done_base": "done_base", "job_user_id": "user_id", "job_token": "token",
    "job_phase": "phase", "job_object": "working_on", "job_done_count": "done_count",
    "job_total_count": "total_count", "job_resume": "resume", "job_resumable": "resumable",
    "job_interrupted": "interrupted",
}


class CrmMigrationJob(models.Model):
    _name = "crm.migration.job"
    _description = "CRM Migration Job"
    _order = "id desc"
    _rec_name = "kind"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True,
                                   readonly=True)
    kind = fields.Selection(JOB_KINDS, required=True, default="none", string="Job")
    state = fields.Selection(JOB_STATES, required=True, default="none", index=True, string="Job Status")
    message = fields.Text(help="Outcome of the job, or why it failed.")
    started = fields.Datetime()
    finished = fields.Datetime()
    done_base = fields.Integer(help="Records already done when the job started (rate of the job).")
    user_id = fields.Many2one("res.users", string="Job Started By",
                              help="The job runs as this user (access rights apply).")
    token = fields.Char(index=True, help="Sent to the bridge with the job; its reports must carry it back.")
    phase = fields.Selection(JOB_PHASES)
    working_on = fields.Char(help="The file or API object the bridge is reading, or the object it stages.")
    done_count = fields.Integer(string="Done So Far")
    total_count = fields.Integer(string="Out Of")
    resume = fields.Boolean(help="The queued upload job resumes the API extraction that stopped.")
    resumable = fields.Boolean(help="The bridge kept what the stopped extraction fetched: it can resume.")
    interrupted = fields.Boolean(help="The commit job was interrupted (Odoo stopped while it ran) and resumed.")
    log = fields.Text(help="The job's steps: queued, started, ended (one line each).")

    @api.depends("kind", "state", "migration_id")
    def _compute_display_name(self):
        kinds, states = dict(self._fields["kind"]._description_selection(self.env)), \
            dict(self._fields["state"]._description_selection(self.env))
        for job in self:
            job.display_name = f"{job.migration_id.display_name}: {kinds.get(job.kind)} ({states.get(job.state)})"

    def write(self, vals):
        """A change of state is logged (one line, with the time)."""
        if vals.get("state") and vals["state"] != "none":
            stamp = fields.Datetime.to_string(fields.Datetime.now())
            for job in self.filtered(lambda j: j.state != vals["state"]):
                line = f"{stamp} {vals['state']}"
                if vals.get("state") in ("done", "failed") and vals.get("message"):
                    line += f": {vals['message'].splitlines()[0][:200]}"
                super(CrmMigrationJob, job).write({"log": "\n".join(filter(None, [job.log, line]))})
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        stamp = fields.Datetime.to_string(fields.Datetime.now())
        for vals in vals_list:
            if vals.get("state") and vals["state"] != "none" and "log" not in vals:
                vals["log"] = f"{stamp} {vals['state']}"
        return super().create(vals_list)
