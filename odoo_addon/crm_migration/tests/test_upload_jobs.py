"""Settings, upload wizard, background jobs (upload / commit) and their progress
(docs/journey.md). The bridge's HTTP answers are stood in for by patching ``requests.get`` (its
``/health`` and ``/sources``) and ``requests.post`` with a function that does what the bridge
does: answer 202 and stage into the migration over the RPC methods, reporting its progress with
``api_job_progress``."""

import base64
import json
import json as json_module
from unittest import mock

import requests

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..compat import ODOO_VERSION
from ..compat import USER_GROUPS_FIELD as USER_GROUPS
from ..models.crm_migration_credential import SECRET_MASK, clear_sources_cache
from .common import MigrationCase

BRIDGE_MODULE = "odoo.addons.crm_migration.models.crm_migration_bridge"
RUNNER_MODULE = "odoo.addons.crm_migration.models.crm_migration_job_runner"
DOWN_URL = "http://127.0.0.1:9"  # discard port: nothing listens there
REAL_GET = requests.get
# what GET /sources answers (bridge/src/http/routes/health.ts)
SOURCES = [
    {"name": "kartra", "label": "Kartra", "input": "csv-upload", "credentials": []},
    {"name": "generic_csv", "label": "Generic CSV (any CRM)", "input": "csv-upload", "credentials": []},
    {"name": "test_api", "label": "Test API", "input": "api", "credentials": [
        {"name": "api_key", "label": "API key", "secret": True},
        {"name": "region", "label": "Region", "secret": False, "options": ["eu", "us"]},
    ]},
]


def fake_response(status, payload):
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(payload).encode()
    response.headers["Content-Type"] = "application/json"
    return response


class UploadJobsCase(MigrationCase):
    """A manager, the bridge's settings, and the bridge's HTTP answers stood in for."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = cls.env["res.users"].create({
            "name": "Mig Job Manager", "login": "mig_job_manager",
            # the job commits as this user: it needs the rights on what it creates (tags: partner manager)
            USER_GROUPS: [(6, 0, [cls.env.ref("crm_migration.group_crm_migration_manager").id,
                                  cls.env.ref("base.group_partner_manager").id])],
        })
        cls.Params = cls.env["ir.config_parameter"].sudo()
        cls.Params.set_param("crm_migration.bridge_url", "http://bridge.test:3000/")
        cls.Params.set_param("crm_migration.bridge_token", "s3cret")
        cls.MigrationClass = type(cls.env["crm.migration"])

    def setUp(self):
        super().setUp()
        clear_sources_cache()
        self.addCleanup(clear_sources_cache)
        self.gets = []
        self.sources = SOURCES
        patcher = mock.patch(f"{BRIDGE_MODULE}.requests.get", side_effect=self._fake_get)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _fake_get(self, url, headers=None, timeout=None):
        """The bridge's /health and /sources; the real thing for DOWN_URL (nothing listens)."""
        if url.startswith(DOWN_URL):
            return REAL_GET(url, headers=headers, timeout=timeout)
        self.gets.append(url)
        if url.endswith("/sources"):
            return fake_response(200, self.sources)
        return fake_response(200, {"status": "ok"})

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

    def _bridge(self, calls, status=202, payload=None, stage=True, finish=True):
        """A stand-in ``requests.post`` doing what the bridge does: tell Odoo the job runs (before
        answering), stage, finish and tell Odoo it is done (``finish``: as if the background work
        were quick), and answer 202."""
        def post(url, data=None, files=None, json=None, headers=None, timeout=None):
            mig_id = int(url.rstrip("/").split("/")[-2])
            migration = self.env["crm.migration"].with_user(self.manager).browse(mig_id)
            migration.invalidate_recordset()
            calls.append({"url": url, "data": data, "json": json, "files": files, "headers": headers,
                          "timeout": timeout})
            if status >= 400:
                return fake_response(status, payload)
            token = (data or json)["job"]
            migration.api_job_progress({"job": token, "phase": "reading", "object": "contacts.csv, tags.csv",
                                        "done": 0, "total": 2})
            migration.invalidate_recordset()
            calls[-1].update(job_state=migration.job_state, progress_html=str(migration.progress_html))
            if stage:
                migration.api_stage_json(json_module.dumps([
                    self.tag("Job Tag"),
                    self.contact("j1", "Jo Job", "jo.job@example.com", tags=["Job Tag"]),
                ]))
                migration.api_job_progress({"job": token, "phase": "staging", "object": "contact", "done": 2,
                                            "total": 2})
                migration.api_finish_staging()
            if finish:
                migration.api_job_progress({"job": token, "phase": "done", "message": "2 records staged"})
            return fake_response(202, payload or {"id": mig_id, "job": token, "status": "started"})
        return post

    def _upload(self, wizard, post):
        """Run the wizard and the job cron with ``post``."""
        action = wizard.action_upload()
        migration = self.env["crm.migration"].browse(action["res_id"])
        self.assertEqual((migration.job, migration.job_state), ("upload", "queued"))
        with mock.patch(f"{BRIDGE_MODULE}.requests.post", side_effect=post):
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



@tagged("post_install", "-at_install")
class TestUploadJobs(UploadJobsCase):
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
        before = self.Migration.search_count([])
        wizard = self._wizard()
        self.Params.set_param("crm_migration.bridge_url", DOWN_URL)
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
        self.assertEqual(call["timeout"], 300)
        self.assertEqual(call["data"]["source"], "kartra")
        self.assertEqual(call["data"]["job"], migration.job_token)
        self.assertNotIn("mapping", call["data"])  # first upload: no decisions yet
        self.assertEqual(json.loads(call["data"]["saved"]), saved)
        self.assertEqual(json.loads(call["data"]["llm"]), {"url": "http://llm.test/v1", "key": "", "model": "tiny"})
        self.assertNotIn("credentials", call["data"])
        self.assertEqual([(field, f[0], f[1]) for field, f in call["files"]], [
            ("files", "contacts.csv", b"Id,Email\n1,a@example.com\n"), ("files", "tags.csv", b"Name\nVIP\n")])
        # while the bridge worked, the form said so
        self.assertEqual(call["job_state"], "running")
        self.assertIn("The bridge is reading contacts.csv, tags.csv", call["progress_html"])
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
            with mock.patch(f"{BRIDGE_MODULE}.requests.post", side_effect=self._bridge(calls)):
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
        with mock.patch(f"{BRIDGE_MODULE}.requests.post", side_effect=self._bridge(calls, status=422, payload=payload)):
            self.env["crm.migration"]._cron_run_jobs()
        migration.invalidate_recordset()
        self.assertEqual(migration.job_message.count("contacts.csv"), 1)

    def test_upload_bridge_down(self):
        """The bridge stops answering between the wizard and the job: a clear message, no traceback."""
        wizard = self._wizard()
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
        action = wizard.action_upload()
        self.assertEqual(action["res_id"], mig.id)
        self.assertEqual((mig.source_system, mig.job, mig.job_state), ("generic_csv", "upload", "queued"))
        with self.assertRaisesRegex(UserError, "already has a job"):
            mig._queue_job("commit")

    # ------------------------------------------------------------------ asynchronous jobs
    def _started(self, **wizard_vals):
        """A migration whose upload job the bridge took (202) and works on in the background."""
        calls = []
        migration = self._upload(self._wizard(**wizard_vals), self._bridge(calls, stage=False, finish=False))
        return migration.with_user(self.manager), calls

    def test_upload_job_runs_in_the_bridge(self):
        """The bridge answers 202 at once: the job stays running, the form follows the bridge's
        reports (phase, object, done / total) and the "done" report ends it."""
        migration, calls = self._started()
        self.assertEqual(len(calls), 1)
        self.assertEqual((migration.job_state, migration.job_phase, migration.job_object),
                         ("running", "reading", "contacts.csv, tags.csv"))
        self.assertFalse(migration.job_finished)
        token = migration.job_token
        self.assertEqual(calls[0]["data"]["job"], token)
        migration.api_stage_json(json.dumps([self.tag("Async Tag"), self.contact("a1", "Al Async", "al@example.com")]))
        migration.api_job_progress({"job": token, "phase": "staging", "object": "contact", "done": 500, "total": 1500})
        migration.invalidate_recordset()
        self.assertEqual((migration.job_phase, migration.job_object, migration.job_done_count,
                          migration.job_total_count), ("staging", "contact", 500, 1500))
        self.assertIn("Staging contact: 500 / 1500 records sent to Odoo", str(migration.progress_html))
        self.assertIn('style="width: 33%"', str(migration.progress_html))
        migration.api_finish_staging()
        migration.api_job_progress({"job": token, "phase": "done", "message": "2 records staged"})
        migration.invalidate_recordset()
        self.assertEqual((migration.job_state, migration.state), ("done", "mapped"))
        self.assertTrue(migration.job_finished)
        self.assertIn("2 file(s) uploaded: 2 records staged, 0 with errors", migration.job_message)
        # the job is over: a late report on it is refused
        with self.assertRaisesRegex(UserError, "not running this job anymore"):
            migration.api_job_progress({"job": token, "phase": "staging", "done": 1})

    def test_upload_job_failure_names_file_row_field(self):
        """The bridge's background work fails: the job fails with the file, row and field; the
        migration stays a draft with nothing staged."""
        migration, _calls = self._started()
        migration.api_job_progress({"job": migration.job_token, "phase": "failed", "file": "deals.csv", "row": 14,
                                    "field": "Amount", "message": 'not a number: "12,5O"'})
        migration.invalidate_recordset()
        self.assertEqual((migration.job_state, migration.state), ("failed", "draft"))
        self.assertEqual(migration.job_message, 'deals.csv, row 14, field "Amount": not a number: "12,5O"')
        self.assertFalse(migration.job_resumable)
        self.assertFalse(migration.record_ids)

    def test_job_progress_checks(self):
        migration, _calls = self._started()
        token = migration.job_token
        with self.assertRaisesRegex(UserError, "runs another job"):
            migration.api_job_progress({"job": "someone-else", "phase": "staging"})
        for bad, pattern in (({"job": token, "phase": "sleeping"}, "phase must be one of"),
                             ({"job": token, "phase": "staging", "done": -1}, "whole number"),
                             ({"job": token, "phase": "staging", "done": "5"}, "whole number"),
                             ({"job": token, "phase": "staging", "colour": "red"}, "unknown key"),
                             ({"phase": "staging"}, "the job's token")):
            with self.assertRaisesRegex(Exception, pattern):
                migration.api_job_progress(bad)
        # the admin stops the job: the bridge's next report is refused (which stops it there)
        migration.action_reset_job()
        self.assertEqual(migration.job_state, "failed")
        with self.assertRaisesRegex(UserError, "not running this job anymore"):
            migration.api_job_progress({"job": token, "phase": "staging", "done": 10})
        plain = self.env["res.users"].create({"name": "Plain", "login": "plain_progress",
                                              USER_GROUPS: [(6, 0, [self.env.ref("base.group_user").id])]})
        with self.assertRaises(AccessError):
            migration.with_user(plain).api_job_progress({"job": "x" * 10, "phase": "reading"})

    def test_bridge_busy(self):
        migration = self._upload(self._wizard(), self._bridge([], status=409, payload={"error": "job_running"}))
        self.assertEqual(migration.job_state, "failed")
        self.assertIn("still running a job", migration.job_message)

    # ------------------------------------------------------------------ sources from the bridge
    def test_wizard_offers_the_bridge_sources(self):
        Wizard = self.env["crm.migration.upload.wizard"].with_user(self.manager)
        selection = Wizard.fields_get(["source_system"], ["selection"])["source_system"]["selection"]
        self.assertEqual(selection, [(s["name"], s["label"]) for s in SOURCES])
        self.assertEqual(Wizard.default_get(["source_system"])["source_system"], "kartra", "the bridge's first")
        self.assertEqual(len([g for g in self.gets if g.endswith("/sources")]), 1, "the answer is cached")
        # a source the bridge added: no addon upgrade, offered once the cache expires
        self.sources = SOURCES + [{"name": "newcrm", "label": "New CRM", "input": "csv-upload", "credentials": []}]
        clear_sources_cache()
        wizard = self._wizard(source_system="newcrm")
        self.assertEqual((wizard.source_system, wizard.source_input), ("newcrm", "csv"))
        # 17's ORM refuses a value outside the selection itself, before the constraint
        refused = (ValueError, "Wrong value for .*source_system: 'zoho'") if ODOO_VERSION < 18 \
            else (ValidationError, "zoho is not a source the migration bridge offers")
        with self.assertRaisesRegex(*refused):
            self._wizard(source_system="zoho")
        # what the bridge lists that Odoo cannot use is left out
        self.sources = [{"name": "", "input": "api"}, {"name": "x", "input": "fax"}, SOURCES[0]]
        clear_sources_cache()
        self.assertEqual(Wizard._selection_source_system(), [("kartra", "Kartra")])

    def test_wizard_bridge_down_offers_nothing(self):
        self.Params.set_param("crm_migration.bridge_url", DOWN_URL)
        Wizard = self.env["crm.migration.upload.wizard"].with_user(self.manager)
        self.assertEqual(Wizard._selection_source_system(), [])
        wizard = Wizard.new({"name": "Down"})
        self.assertIn(f"The migration bridge at {DOWN_URL} does not answer", wizard.bridge_down)

    # ------------------------------------------------------------------ API sources
    def _api_wizard(self, api_key="k-123", region="eu"):
        wizard = self.env["crm.migration.upload.wizard"].with_user(self.manager).create(
            {"name": "Through the API", "source_system": "test_api"})
        self.assertEqual(wizard.source_input, "api")
        lines = {line.name: line for line in wizard.credential_ids}
        self.assertEqual(set(lines), {"api_key", "region"})
        self.assertTrue(lines["api_key"].secret)
        self.assertEqual((lines["region"].secret, lines["region"].options), (False, "eu, us"))
        lines["api_key"].secret_value = api_key
        lines["region"].value = region
        return wizard

    def test_api_source_credentials(self):
        with self.assertRaisesRegex(UserError, "Fill in API key"):
            self._api_wizard(api_key="").action_upload()
        with self.assertRaisesRegex(UserError, "Region must be one of eu, us"):
            self._api_wizard(region="mars").action_upload()
        calls = []
        migration = self._upload(self._api_wizard(), self._bridge(calls))
        self.assertEqual(calls[0]["url"], f"http://bridge.test:3000/migrations/{migration.id}/extract")
        self.assertIsNone(calls[0]["files"])
        body = calls[0]["json"]
        self.assertEqual((body["source"], body["credentials"], body["resume"], body["job"]),
                         ("test_api", {"api_key": "k-123", "region": "eu"}, False, migration.job_token))
        self.assertEqual(migration.job_state, "done")
        self.assertIn("Staging done: 2 records staged", migration.job_message)
        # stored for Migration Managers, the secret never shown back
        manager_view = migration.with_user(self.manager)
        self.assertEqual(manager_view.credential_ids.mapped("value_display"), [SECRET_MASK, "eu"])
        self.assertEqual(manager_view._credentials_dict(), {"api_key": "k-123", "region": "eu"})
        view = self.env.ref("crm_migration.crm_migration_view_form")
        self.assertNotIn('name="value"', view.arch.split('name="credential_ids"')[1].split("</field>")[0])

    def test_api_source_optional_credentials(self):
        """A credential the source marks optional (one of two ways to sign in) may stay empty: it is
        neither required by the wizard nor sent or stored."""
        self.sources = SOURCES + [{"name": "two_ways", "label": "Two ways", "input": "api", "credentials": [
            {"name": "login_url", "label": "Login URL", "secret": False},
            {"name": "password", "label": "Password", "secret": True, "optional": True},
            {"name": "access_token", "label": "Access token", "secret": True, "optional": True},
        ]}]
        clear_sources_cache()
        wizard = self.env["crm.migration.upload.wizard"].with_user(self.manager).create(
            {"name": "Token only", "source_system": "two_ways"})
        lines = {line.name: line for line in wizard.credential_ids}
        lines["access_token"].secret_value = "tok-1"
        with self.assertRaisesRegex(UserError, "Fill in Login URL"):
            wizard.action_upload()
        lines["login_url"].value = "https://login.example"
        calls = []
        migration = self._upload(wizard, self._bridge(calls))
        self.assertEqual(calls[0]["json"]["credentials"],
                         {"login_url": "https://login.example", "access_token": "tok-1"})
        self.assertEqual(sorted(migration.credential_ids.mapped("name")), ["access_token", "login_url"])

    def test_api_credentials_unreadable_without_the_group(self):
        migration = self._upload(self._api_wizard(), self._bridge([]))
        user = self.env["res.users"].create({"name": "Sales only", "login": "sales_only_creds", USER_GROUPS: [
            (6, 0, [self.env.ref("base.group_user").id, self.env.ref("sales_team.group_sale_salesman").id])]})
        creds = self.env["crm.migration.credential"].search([("migration_id", "=", migration.id)])
        self.assertEqual(len(creds), 2)
        with self.assertRaises(AccessError):
            creds.with_user(user).read(["name"])
        with self.assertRaises(AccessError):
            creds.with_user(user).read(["value"])
        with self.assertRaises(AccessError):
            migration.with_user(user).read(["credential_ids"])
        self.assertNotIn("value", self.env["crm.migration.credential"].with_user(user).fields_get())

    def test_resume_a_stopped_extraction(self):
        calls = []
        migration = self._upload(self._api_wizard(), self._bridge(calls, stage=False, finish=False))
        migration = migration.with_user(self.manager)
        migration.api_job_progress({"job": migration.job_token, "phase": "extracting", "object": "contacts",
                                    "done": 2000})
        self.assertIn("reading contacts from the source: 2000 records so far", str(migration.progress_html))
        with self.assertRaisesRegex(UserError, "no stopped extraction"):
            migration.action_resume_extraction()
        migration.api_job_progress({"job": migration.job_token, "phase": "failed", "resumable": True,
                                    "message": "the bridge stopped on an unexpected error: socket hang up"})
        self.assertEqual((migration.job_state, migration.job_resumable), ("failed", True))
        migration.action_resume_extraction()
        self.assertEqual((migration.job_state, migration.job_resume), ("queued", True))
        self.assertIn("Waiting to resume the extraction", str(migration.progress_html))
        with mock.patch(f"{BRIDGE_MODULE}.requests.post", side_effect=self._bridge(calls)):
            self.env["crm.migration"]._cron_run_jobs()
        migration.invalidate_recordset()
        self.assertEqual(len(calls), 2)
        self.assertEqual((calls[1]["json"]["resume"], calls[1]["json"]["credentials"]["api_key"]), (True, "k-123"))
        self.assertEqual((migration.job_state, migration.state, migration.job_resume), ("done", "mapped", False))
        # stopping a running extraction by hand leaves it resumable too
        migration.with_user(self.manager)._queue_job("upload")
        migration.write({"job_state": "running", "job_phase": "extracting"})
        migration.action_reset_job()
        self.assertTrue(migration.job_resumable)

    def test_api_create_source(self):
        """The bridge names its source in ``source``; the addon knows no source by name."""
        known = self.Migration.browse(self.Migration.api_create({"name": "K", "source": "kartra"}))
        self.assertEqual((known.source, known.source_system, known._source_name()), ("kartra", False, "kartra"))
        self.assertFalse(self.gets, "creating a migration asks the bridge nothing")
        self.assertEqual(known.source_label, "Kartra", "the form names the source as the bridge does")
        other = self.Migration.browse(self.Migration.api_create({"name": "O", "source": "hubspot export"}))
        self.assertEqual(other.source_label, "hubspot export")
