"""The progress of a migration's job, computed from stored data only (the staged records'
states, the job's ``started`` / ``done_base`` and the bridge's last report), so it survives a
page reload; the form reloads itself while a job runs (the ``crm_migration_autorefresh`` widget).
The details are drawn by the QWeb templates of views/crm_migration_progress_templates.xml."""

from collections import defaultdict

from odoo import api, fields, models

from .crm_migration_job import ACTIVE_JOB_STATES

# staged records a commit has dealt with (the commit job's progress)
DONE_RECORD_STATES = ("committed", "matched", "failed", "skipped", "rolled_back")


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    progress_done = fields.Integer(compute="_compute_progress", string="Done")
    progress_total = fields.Integer(compute="_compute_progress", string="Total")
    progress_percent = fields.Float(compute="_compute_progress", string="Progress")
    progress_rate = fields.Float(compute="_compute_progress", string="Records / s", digits=(16, 1))
    progress_eta = fields.Char(compute="_compute_progress", string="Time Left")
    progress_html = fields.Html(compute="_compute_progress", sanitize=False, string="Progress Details")

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

    @api.depends("record_ids.state", "job_id.state", "job_id.started", "job_id.finished", "job_id.done_base",
                 "job_id.phase", "job_id.working_on", "job_id.done_count", "job_id.total_count")
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
        """The form's progress: the upload's status, or one row per object with a small bar
        (template ``crm_migration.progress_table``)."""
        if self.job == "upload" and self.job_state in ACTIVE_JOB_STATES:
            return self._upload_progress_html()
        if not per_object:
            return False
        rows = [{
            "object": obj, "done": done, "total": total, "failed": failed,
            "percent": round(100 * done / total) if total else 0,
        } for obj, (done, total, failed) in per_object.items()]
        return self.env["ir.qweb"]._render("crm_migration.progress_table", {"rows": rows})

    def _upload_progress_text(self):
        """What the bridge last reported (phase, object, done / total), as one sentence."""
        _ = self.env._
        files = len(self.upload_attachment_ids)
        if self.job_state == "queued":
            return (_("Waiting to resume the extraction…") if self.job_resume
                    else _("Waiting to upload %(files)s file(s) to the bridge…", files=files))
        if not self.job_phase:
            return _("Sending %(files)s file(s) to the bridge…", files=files)
        if self.job_phase == "reading":
            return _("The bridge is reading %(object)s…", object=self.job_object or "")
        if self.job_phase == "extracting":
            return _("The bridge is reading %(object)s from the source: %(done)s records so far",
                     object=self.job_object or "", done=self.job_done_count)
        return _("Staging %(object)s: %(done)s / %(total)s records sent to Odoo",
                 object=self.job_object or "", done=self.job_done_count, total=self.job_total_count)

    def _upload_progress_html(self):
        """The upload's status, with a bar when the bridge knows the total (template
        ``crm_migration.upload_progress``)."""
        percent = None
        if self.job_phase == "staging" and self.job_total_count:
            percent = round(100 * self.job_done_count / self.job_total_count)
        return self.env["ir.qweb"]._render("crm_migration.upload_progress", {
            "text": self._upload_progress_text(), "percent": percent,
        })
