"""The commit job and the jobs model (crm.migration.job): a migration's jobs, its current job
shown on the migration, the job's log, and the form that follows a running job (docs/journey.md,
"Jobs and progress")."""

from unittest import mock

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import compat
from ..compat import USER_GROUPS_FIELD as USER_GROUPS
from .test_upload_jobs import RUNNER_MODULE, UploadJobsCase


@tagged("post_install", "-at_install")
class TestCommitJobs(UploadJobsCase):
    # ------------------------------------------------------------------ commit job
    def test_commit_job(self):
        mig = self._staged_migration()
        self.assertEqual(mig.state, "mapped")
        self.assertEqual((mig.progress_done, mig.progress_total, mig.progress_percent), (0, 5, 0.0))
        batches = []
        mig.with_user(self.manager).action_commit()
        self.assertEqual((mig.job, mig.job_state, mig.state), ("commit", "queued", "mapped"))
        with mock.patch.object(self.MigrationClass, "_job_batch_done", autospec=True,
                               side_effect=lambda self_, commit, count: batches.append((commit, count))):
            self.env["crm.migration"]._cron_run_jobs()
        mig.invalidate_recordset()
        self.assertEqual((mig.job_state, mig.state), ("done", "committed"))
        self.assertEqual(sorted(batches), [(False, 1), (False, 2), (False, 2)])  # tags, company, contacts
        self.assertEqual((mig.progress_done, mig.progress_total, mig.progress_percent), (5, 5, 100.0))
        self.assertEqual(mig.job_done_base, 0)
        self.assertTrue(mig.job_started and mig.job_finished)
        self.assertGreaterEqual(mig.progress_rate, 0)
        self.assertFalse(mig.progress_eta)
        self.assertIn("Commit done: 5 created", mig.job_message)
        for obj in ("tag", "company", "contact"):
            self.assertIn(f"<td>{obj}</td>", str(mig.progress_html))
        self.assertIn("2 / 2", str(mig.progress_html))
        self.assertTrue(self.partner("cara.cjob@example.com"))

    def test_commit_job_progress_while_running(self):
        """What another transaction sees during the job: running, done records counted, an ETA."""
        mig = self._staged_migration()
        seen = []

        def batch_done(self_, commit, count):
            self_.invalidate_recordset()
            seen.append((self_.job_state, self_.progress_done, self_.progress_total, self_.progress_eta))

        mig.action_commit()
        with mock.patch.object(self.MigrationClass, "_job_batch_done", autospec=True, side_effect=batch_done):
            mig._run_job()
        self.assertEqual([s[0] for s in seen], ["running"] * 3)
        self.assertEqual([s[1] for s in seen], [2, 3, 5])
        self.assertEqual({s[2] for s in seen}, {5})
        self.assertTrue(all(s[3] for s in seen))

    def test_commit_job_crash(self):
        """A job that crashes: failed with its message; the migration and its records unchanged."""
        mig = self._staged_migration()
        mig.action_commit()
        with mock.patch.object(self.MigrationClass, "_commit", side_effect=RuntimeError("disk on fire")), \
                mute_logger(RUNNER_MODULE):
            self.assertFalse(mig._run_job())
        self.assertEqual((mig.job_state, mig.state), ("failed", "mapped"))
        self.assertIn("RuntimeError: disk on fire", mig.job_message)
        self.assertEqual(set(mig.record_ids.mapped("state")), {"staged"})
        # it can be queued again
        mig.action_commit()
        self.assertEqual(mig.job_state, "queued")

    def test_commit_refused_when_uploaded(self):
        mig = self._staged_migration()
        mig.state = "uploaded"
        with self.assertRaisesRegex(UserError, "Confirm the mapping first"):
            mig.api_commit()
        with self.assertRaisesRegex(UserError, "Confirm the mapping first"):
            mig.action_commit()
        self.assertEqual((mig.job_state, set(mig.record_ids.mapped("state"))), ("none", {"staged"}))

    # ------------------------------------------------------------------ the jobs model
    def test_jobs_are_records_of_their_own(self):
        """Each queued job is a crm.migration.job of the migration; the migration shows its
        current (latest) job, and each job keeps its own outcome and log."""
        mig = self._staged_migration()
        self.assertEqual((mig.job, mig.job_state, mig.job_id), ("none", "none", self.env["crm.migration.job"]))
        self.assertIn(mig, self.Migration.search([("job_state", "=", "none")]))
        mig.action_commit()
        first = mig.job_id
        self.assertEqual((first.kind, first.state, first.migration_id), ("commit", "queued", mig))
        self.assertEqual(first.token, mig.job_token)
        with mock.patch.object(self.MigrationClass, "_commit", side_effect=RuntimeError("disk on fire")), \
                mute_logger(RUNNER_MODULE):
            mig._run_job()
        self.assertEqual((first.state, mig.job_state), ("failed", "failed"))
        self.assertEqual([line.split(" ", 2)[2].split(":")[0] for line in first.log.splitlines()],
                         ["queued", "running", "failed"])
        self.assertIn(mig, self.Migration.search([("job_state", "=", "failed")]))
        mig.action_commit()
        mig._run_job()
        second = mig.job_id
        self.assertNotEqual(first, second)
        self.assertEqual(mig.job_ids, second | first)  # newest first
        self.assertEqual((first.state, second.state, mig.job_state, mig.state), ("failed", "done", "done", "committed"))
        self.assertIn("disk on fire", first.message)
        self.assertIn("Commit done", second.message)
        self.assertFalse(self.Migration.search([("id", "=", mig.id), ("job_state", "in", ("queued", "running"))]))

    def test_job_reports_write_the_job(self):
        """The bridge's reports write the current job, not the migration's row; a report on a job
        the bridge started itself makes a new current job."""
        mig = self.new_migration("Reports")
        mig.api_job_progress({"job": "bridge-made-1", "phase": "staging", "object": "contact", "done": 3,
                              "total": 9})
        job = mig.job_id
        self.assertEqual((job.kind, job.state, job.token, job.working_on, job.done_count, job.total_count),
                         ("upload", "running", "bridge-made-1", "contact", 3, 9))
        write_date = mig.write_date
        mig.api_job_progress({"job": "bridge-made-1", "phase": "staging", "object": "contact", "done": 6,
                              "total": 9})
        self.assertEqual((job.done_count, mig.job_done_count, mig.write_date), (6, 6, write_date))
        mig.api_job_progress({"job": "bridge-made-1", "phase": "done"})
        mig.api_job_progress({"job": "bridge-made-2", "phase": "reading"})
        self.assertEqual(len(mig.job_ids), 2)
        self.assertEqual((job.state, mig.job_id.token, mig.job_state), ("done", "bridge-made-2", "running"))

    def test_job_started_by_the_bridge(self):
        """A job the bridge started by itself (a script posting to the route) becomes the
        migration's job, so the form follows it too."""
        mig = self.new_migration("Bridge-started")
        mig.api_job_progress({"job": "bridge-made-0001", "phase": "reading", "object": "contacts.csv"})
        self.assertEqual((mig.job, mig.job_state, mig.job_token), ("upload", "running", "bridge-made-0001"))
        mig.api_job_progress({"job": "bridge-made-0001", "phase": "failed", "file": "contacts.csv", "row": 2,
                              "message": "unbalanced quote"})
        self.assertEqual((mig.job_state, mig.job_message), ("failed", "contacts.csv, row 2: unbalanced quote"))
        # a new job of the bridge after it
        mig.api_job_progress({"job": "bridge-made-0002", "phase": "done"})
        self.assertEqual(mig.job_state, "done")

    def test_job_access(self):
        """Jobs are the migration managers' (ir.model.access.csv), like the migration itself."""
        mig = self._staged_migration()
        mig.action_commit()
        self.assertTrue(mig.job_id.with_user(self.manager).read(["state"]))
        plain = self.env["res.users"].create({"name": "Mig Job Plain", "login": "mig_job_plain",
                                              USER_GROUPS: [(6, 0, [self.env.ref("base.group_user").id])]})
        with self.assertRaises(AccessError):
            mig.job_id.with_user(plain).read(["state"])


@tagged("post_install", "-at_install")
class TestAutorefreshWidget(HttpCase):
    """The form reloads itself while a job runs (crm_migration_autorefresh widget): the job is
    finished by another request, and the form shows its outcome without a manual reload."""

    def test_form_reloads_while_job_runs(self):
        migration = self.env["crm.migration"].create({"name": "Autorefresh", "job": "commit",
                                                       "job_state": "running"})
        code = """
            (async () => {
                const rpc = (model, method, args) => fetch("/web/dataset/call_kw", {
                    method: "POST", headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({jsonrpc: "2.0", method: "call",
                                          params: {model, method, args, kwargs: {}}}),
                }).then((r) => r.json());
                if (!document.querySelector(".o_crm_migration_autorefresh[data-active='1']")) {
                    console.error("the widget is not active while the job runs");
                    return;
                }
                await rpc("crm.migration", "write",
                          [[%(id)s], {job_state: "done", job_message: "Refreshed by the widget"}]);
                for (let i = 0; i < 40; i++) {
                    await new Promise((resolve) => setTimeout(resolve, 250));
                    if (document.body.innerText.includes("Refreshed by the widget")) {
                        if (document.querySelector(".o_crm_migration_autorefresh[data-active='1']")) {
                            console.error("the widget is still active after the job");
                        } else {
                            console.log("test successful");
                        }
                        return;
                    }
                }
                console.error("the form was not reloaded");
            })();
        """ % {"id": migration.id}
        # the web client's URL of a record: /odoo/... from 18 on, /web#... on 17
        url = f"/odoo/action-crm_migration.action_crm_migration/{migration.id}" if compat.ODOO_VERSION >= 18 \
            else f"/web#action=crm_migration.action_crm_migration&model=crm.migration&id={migration.id}&view_type=form"
        self.browser_js(url, code,
                        ready="!!document.querySelector('.o_form_view .o_crm_migration_autorefresh')",
                        login="admin", timeout=60)
