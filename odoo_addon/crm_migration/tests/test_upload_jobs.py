"""Settings, upload wizard, background jobs (upload / commit) and their progress
(docs/journey.md). The bridge's HTTP answers are faked by patching ``requests.post``
with a function that does what the bridge does: stage into the migration over the RPC methods."""

import base64
import json
from unittest import mock

import requests

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import MigrationCase

JOB_MODULE = "odoo.addons.crm_migration.models.crm_migration_job"
DOWN_URL = "http://127.0.0.1:9"  # discard port: nothing listens there


def fake_response(status, payload):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(payload).encode()
    response.headers["Content-Type"] = "application/json"
    return response


@tagged("post_install", "-at_install")
class TestUploadJobs(MigrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.env["res.users"].create({
            "name": "Mig Job Manager", "login": "mig_job_manager",
            # the job commits as this user: it needs the rights on what it creates (tags: partner manager)
            "groups_id": [(6, 0, [cls.env.ref("crm_migration.group_crm_migration_manager").id,
                                  cls.env.ref("base.group_partner_manager").id])],
        })
        cls.Params = cls.env["ir.config_parameter"].sudo()
        cls.Params.set_param("crm_migration.bridge_url", "http://bridge.test:3000/")
        cls.Params.set_param("crm_migration.bridge_token", "s3cret")
        cls.MigrationClass = type(cls.env["crm.migration"])

    # ------------------------------------------------------------------ helpers
    def _attachment(self, name, text):
        return self.env["ir.attachment"].with_user(self.manager).create({
            "name": name, "datas": base64.b64encode(text.encode()), "mimetype": "text/csv",
            "res_model": "crm.migration.upload.wizard",
        })

    def _wizard(self, **vals):
        files = self._attachment("contacts.csv", "Id,Email\n1,a@example.com\n") | \
            self._attachment("tags.csv", "Name\nVIP\n")
        return self.env["crm.migration.upload.wizard"].with_user(self.manager).create(dict({
            "name": "Kartra March", "source_system": "kartra", "attachment_ids": [(6, 0, files.ids)],
        }, **vals))

    def _bridge(self, calls, status=200, payload=None, stage=True):
        """A fake ``requests.post`` doing what the bridge does while it handles the upload."""
        def post(url, data=None, files=None, headers=None, timeout=None):
            mig_id = int(url.rstrip("/").split("/")[-2])
            migration = self.env["crm.migration"].with_user(self.manager).browse(mig_id)
            migration.invalidate_recordset()
            calls.append({"url": url, "data": data, "files": files, "headers": headers, "timeout": timeout,
                          "job_state": migration.job_state, "progress_html": str(migration.progress_html)})
            if status != 200:
                return fake_response(status, payload)
            if stage:
                migration.api_stage_json(json.dumps([
                    self.tag("Job Tag"),
                    self.contact("j1", "Jo Job", "jo.job@example.com", tags=["Job Tag"]),
                ]))
                migration.api_finish_staging()
            return fake_response(200, payload or {"id": mig_id, "report": migration.api_report()})
        return post

    def _upload(self, wizard, post, health=200):
        """Run the wizard (health check answered ``health``) and the job cron with ``post``."""
        with mock.patch(f"{JOB_MODULE}.requests.get", return_value=fake_response(health, {"status": "ok"})):
            action = wizard.action_upload()
        migration = self.env["crm.migration"].browse(action["res_id"])
        self.assertEqual((migration.job, migration.job_state), ("upload", "queued"))
        with mock.patch(f"{JOB_MODULE}.requests.post", side_effect=post):
            self.env["crm.migration"]._cron_run_jobs()
        migration.invalidate_recordset()
        return migration

    def _staged_migration(self):
        mig = self.new_migration("Commit job")
        mig.api_stage([
            self.tag("CJob Tag"),
            self.tag("CJob Other", row=2),
            self.company("cjob", "CJob Company Ltd"),
            self.contact("c1", "Cara Job", "cara.cjob@example.com", company="cjob", tags=["CJob Tag"]),
            self.contact("c2", "Cody Job", "cody.cjob@example.com", company="cjob", tags=["CJob Other"], row=2),
        ])
        mig.api_finish_staging()
        return mig

    # ------------------------------------------------------------------ settings
    def test_settings_round_trip(self):
        settings = self.env["res.config.settings"].create({
            "crm_migration_bridge_url": "http://10.0.0.5:3000",
            "crm_migration_bridge_token": "tok",
            "crm_migration_llm_url": "http://llm.test/v1",
            "crm_migration_llm_key": "k",
            "crm_migration_llm_model": "small",
        })
        settings.execute()
        self.assertEqual(self.Params.get_param("crm_migration.bridge_url"), "http://10.0.0.5:3000")
        self.assertEqual(self.Params.get_param("crm_migration.bridge_token"), "tok")
        self.assertEqual(self.Params.get_param("crm_migration.llm_model"), "small")
        again = self.env["res.config.settings"].create({})
        self.assertEqual((again.crm_migration_bridge_url, again.crm_migration_llm_url, again.crm_migration_llm_key),
                         ("http://10.0.0.5:3000", "http://llm.test/v1", "k"))
        self.assertEqual(self.env["crm.migration"]._bridge_url(), "http://10.0.0.5:3000")

    # ------------------------------------------------------------------ wizard
    def test_wizard_bridge_down(self):
        self.Params.set_param("crm_migration.bridge_url", DOWN_URL)
        before = self.Migration.search_count([])
        wizard = self._wizard()
        with self.assertRaises(UserError) as ctx:
            wizard.action_upload()
        message = str(ctx.exception)
        self.assertIn(DOWN_URL, message)
        self.assertIn("does not answer", message)
        self.assertIn("Settings → CRM Migration", message)
        self.assertNotIn("HTTPConnectionPool", message)
        self.assertEqual(self.Migration.search_count([]), before)

    def test_wizard_needs_files(self):
        wizard = self.env["crm.migration.upload.wizard"].with_user(self.manager).create(
            {"name": "No files", "source_system": "generic_csv"})
        with self.assertRaises(UserError):
            wizard.action_upload()

    def test_upload_job_stages_and_maps(self):
        self.Params.set_param("crm_migration.llm_url", "http://llm.test/v1")
        self.Params.set_param("crm_migration.llm_model", "tiny")
        calls = []
        saved = [{"object": "contact", "column": "Nick", "action": "create", "field": None, "ttype": "char",
                  "label": "Nick"}]
        wizard = self._wizard()
        files = wizard.attachment_ids
        with mock.patch.object(self.MigrationClass, "_saved_decisions", create=True, return_value=saved):
            migration = self._upload(wizard, self._bridge(calls))
        self.assertEqual(migration.name, "Kartra March")
        self.assertEqual(migration.source_system, "kartra")
        self.assertEqual(migration.upload_attachment_ids, files)
        self.assertEqual(set(files.mapped("res_model")), {"crm.migration"})
        self.assertEqual(set(files.mapped("res_id")), {migration.id})
        self.assertEqual(migration.job_user_id, self.manager)
        # what the bridge received
        self.assertEqual(len(calls), 1)
        call = calls[0]
        self.assertEqual(call["url"], f"http://bridge.test:3000/migrations/{migration.id}/upload")
        self.assertEqual(call["headers"], {"Authorization": "Bearer s3cret"})
        self.assertEqual(call["timeout"], 600)
        self.assertEqual(call["data"]["source"], "kartra")
        self.assertNotIn("mapping", call["data"])  # first upload: no decisions yet
        self.assertEqual(json.loads(call["data"]["saved"]), saved)
        self.assertEqual(json.loads(call["data"]["llm"]), {"url": "http://llm.test/v1", "key": "", "model": "tiny"})
        self.assertNotIn("credentials", call["data"])
        self.assertEqual([(field, f[0], f[1]) for field, f in call["files"]], [
            ("files", "contacts.csv", b"Id,Email\n1,a@example.com\n"), ("files", "tags.csv", b"Name\nVIP\n")])
        # while the bridge worked, the form said so
        self.assertEqual(call["job_state"], "running")
        self.assertIn("Uploading 2 file(s) to the bridge", call["progress_html"])
        # outcome
        self.assertEqual((migration.job_state, migration.state), ("done", "mapped"))
        self.assertEqual(migration.record_count, 2)
        self.assertIn("2 file(s) uploaded", migration.job_message)

    def test_upload_with_mapping_to_confirm(self):
        """Mapping lines not confirmed: "uploaded"; commits refused until the mapping is confirmed,
        then the re-upload sends the decisions and the migration is "mapped"."""
        calls = []
        with mock.patch.object(self.MigrationClass, "_has_mapping_lines", return_value=True):
            migration = self._upload(self._wizard(), self._bridge(calls))
            self.assertEqual((migration.job_state, migration.state), ("done", "uploaded"))
            for action in (lambda: migration.api_commit(), lambda: migration.api_commit({"sample": 1}),
                           migration.action_commit, migration.action_open_sample_wizard):
                with self.assertRaisesRegex(UserError, "Confirm the mapping first"):
                    action()
            self.assertEqual(migration.job, "upload")  # no commit job queued
            decisions = [{"object": "contact", "column": "Email", "action": "map", "field": "email"}]
            migration.write({"mapping_confirmed": True, "upload_mapping_json": json.dumps(decisions)})
            migration.with_user(self.manager)._queue_job("upload")
            with mock.patch(f"{JOB_MODULE}.requests.post", side_effect=self._bridge(calls)):
                self.env["crm.migration"]._cron_run_jobs()
        migration.invalidate_recordset()
        self.assertEqual((migration.job_state, migration.state), ("done", "mapped"))
        self.assertEqual(json.loads(calls[-1]["data"]["mapping"]), decisions)

    def test_upload_bad_file(self):
        """422 from the bridge: the job fails naming file, row and field; nothing staged."""
        calls = []
        payload = {"error": "input", "file": "contacts.csv", "row": 3, "field": "email",
                   "message": "not an email address"}
        migration = self._upload(self._wizard(), self._bridge(calls, status=422, payload=payload))
        self.assertEqual((migration.job_state, migration.state), ("failed", "draft"))
        self.assertIn('contacts.csv, row 3, field "email": not an email address', migration.job_message)
        self.assertIn("HTTP 422", migration.job_message)
        self.assertFalse(migration.record_ids)
        # the bridge's own message already names the place: not repeated
        payload["message"] = 'contacts.csv, row 3, field "email": not an email address'
        migration.with_user(self.manager)._queue_job("upload")
        with mock.patch(f"{JOB_MODULE}.requests.post", side_effect=self._bridge(calls, status=422, payload=payload)):
            self.env["crm.migration"]._cron_run_jobs()
        migration.invalidate_recordset()
        self.assertEqual(migration.job_message.count("contacts.csv"), 1)

    def test_upload_bridge_down(self):
        """The bridge stops answering between the wizard and the job: a clear message, no traceback."""
        wizard = self._wizard()
        with mock.patch(f"{JOB_MODULE}.requests.get", return_value=fake_response(200, {"status": "ok"})):
            action = wizard.action_upload()
        migration = self.env["crm.migration"].browse(action["res_id"])
        self.Params.set_param("crm_migration.bridge_url", DOWN_URL)
        self.env["crm.migration"]._cron_run_jobs()  # a real connection attempt
        migration.invalidate_recordset()
        self.assertEqual((migration.job_state, migration.state), ("failed", "draft"))
        self.assertIn(f"The migration bridge at {DOWN_URL} does not answer", migration.job_message)
        self.assertIn("Connection refused", migration.job_message)
        self.assertIn("Settings → CRM Migration", migration.job_message)
        # "Upload again" checks the bridge first
        with self.assertRaisesRegex(UserError, "does not answer"):
            migration.action_upload_again()

    def test_wizard_reuses_draft_migration(self):
        mig = self.new_migration("Draft first")
        wizard = self._wizard().with_context(active_model="crm.migration", active_id=mig.id)
        wizard = wizard.create({"source_system": "generic_csv", "attachment_ids": [(6, 0, wizard.attachment_ids.ids)]})
        self.assertEqual(wizard.migration_id, mig)
        self.assertEqual(wizard.name, "Draft first")
        with mock.patch(f"{JOB_MODULE}.requests.get", return_value=fake_response(200, {"status": "ok"})):
            action = wizard.action_upload()
        self.assertEqual(action["res_id"], mig.id)
        self.assertEqual((mig.source_system, mig.job, mig.job_state), ("generic_csv", "upload", "queued"))
        with self.assertRaisesRegex(UserError, "already has a job"):
            mig._queue_job("commit")

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
                mute_logger(JOB_MODULE):
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

    def test_api_create_source_system(self):
        known = self.Migration.browse(self.Migration.api_create({"name": "K", "source": "kartra"}))
        other = self.Migration.browse(self.Migration.api_create({"name": "O", "source": "hubspot export"}))
        self.assertEqual((known.source, known.source_system), ("kartra", "kartra"))
        self.assertEqual((other.source, other.source_system), ("hubspot export", False))


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
                await rpc("crm.migration", "write", [[%(id)s], {job_state: "done", job_message: "Refreshed by the widget"}]);
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
        self.browser_js(f"/odoo/action-crm_migration.action_crm_migration/{migration.id}", code,
                        ready="!!document.querySelector('.o_form_view .o_crm_migration_autorefresh')",
                        login="admin", timeout=60)
