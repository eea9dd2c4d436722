"""Issue #12, "Data": uploads as one unit (7, 8), dead commit jobs (10), key claims (6), what
Odoo derived undone by rollback (11). The fault cases with killed processes are the e2e tests
test/e2e/faults-*.e2e.test.ts; these pin the rules in Odoo itself."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.crm_migration_upload import UPLOAD_CONTEXT_KEY
from ..services.key_claim import CLAIM_TABLE, claim_keys
from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestFaults(MigrationCase):
    def as_upload(self, migration, token):
        return migration.with_context(**{UPLOAD_CONTEXT_KEY: token})

    def test_upload_is_one_unit(self):
        migration = self.new_migration()
        self.assertEqual(migration.api_begin_upload({"token": "upload-aaaa"})["token"], "upload-aaaa")
        up = self.as_upload(migration, "upload-aaaa")
        up.api_stage([self.tag("Alpha")])
        self.assertEqual(migration.record_ids.upload_token, "upload-aaaa")
        with self.assertRaisesRegex(UserError, "receiving another upload"):
            migration.api_begin_upload({"token": "upload-bbbb"})
        with self.assertRaisesRegex(UserError, "receiving another upload"):
            migration.api_stage([self.tag("Beta")])  # a caller without the upload's token
        with self.assertRaisesRegex(UserError, "did not finish"):
            migration.api_commit()
        self.assertTrue(migration.api_report()["upload_open"])
        up.api_finish_staging()
        self.assertFalse(migration.upload_token)
        with self.assertRaisesRegex(UserError, "not open anymore"):
            up.api_stage([self.tag("Gamma")])
        self.assertEqual(migration.api_commit()["state"], "committed")

    def test_discard_removes_only_its_own_records(self):
        migration = self.new_migration()
        migration.api_stage([self.tag("Earlier")])  # an earlier upload's record
        migration.api_begin_upload({"token": "upload-cccc"})
        self.as_upload(migration, "upload-cccc").api_stage([self.tag("Mine")])
        report = self.as_upload(migration, "upload-cccc").api_discard_upload()
        self.assertEqual(migration.record_ids.mapped("key"), ["testsrc:tag:earlier"])
        self.assertFalse(report["upload_open"])

    def test_stale_upload_is_taken_over(self):
        migration = self.new_migration()
        migration.api_begin_upload({"token": "upload-dead"})
        self.as_upload(migration, "upload-dead").api_stage([self.tag("Half")])
        migration.write({"upload_heartbeat": fields.Datetime.now() - timedelta(hours=1)})
        answer = migration.api_begin_upload({"token": "upload-new1"})
        self.assertEqual((answer["took_over"], answer["discarded"]), ("upload-dead", 1))
        self.assertFalse(migration.record_ids)

    def test_dead_commit_job_is_resumed(self):
        migration = self.new_migration()
        migration.api_stage([self.tag("Resumed"), self.contact("r1", "Resumed One", "resumed.1@example.com",
                                                               tags=["Resumed"])])
        migration.api_finish_staging()
        # a commit job that was running when Odoo stopped: its first batch committed, then nothing
        migration.write({"job": "commit", "job_state": "running", "job_user_id": self.env.uid,
                         "job_started": fields.Datetime.now() - timedelta(minutes=5)})
        self.env["crm.migration"]._cron_run_jobs()
        self.assertEqual(migration.job_state, "done", migration.job_message)
        self.assertIn("interrupted", migration.job_message)
        self.assertEqual(migration.state, "committed")
        self.assertEqual(self.Partner.search_count([("email", "=", "resumed.1@example.com")]), 1)

    def test_key_claims(self):
        claim_keys(self.env, 1, ["testsrc:contact:x", "testsrc:contact:y"])
        claim_keys(self.env, 2, ["testsrc:contact:x"])  # a visible claim is taken over
        self.env.cr.execute(SQL("SELECT key, migration_id FROM %s WHERE key LIKE %s ORDER BY key",
                                SQL.identifier(CLAIM_TABLE), "testsrc:contact:%"))
        self.assertEqual(self.env.cr.fetchall(), [("testsrc:contact:x", 2), ("testsrc:contact:y", 1)])

    def test_rollback_gives_back_what_odoo_derived(self):
        company = self.Partner.create({"name": "Derived Company", "is_company": True})
        migration = self.new_migration()
        company_rec = self.staged("testsrc:company:d", "company", "res.partner",
                                  {"name": "Derived Company", "is_company": True}, match=[["name"]])
        contact = self.contact("d1", "First Contact", "first@derived.example", street="1 Derived Street",
                               city="Derivedville")
        contact["refs"] = {"parent_id": "testsrc:company:d"}
        with self.odoo_contact_addresses():
            migration.api_stage([company_rec, contact])
        migration.api_commit()
        self.assertEqual(company.street, "1 Derived Street", "Odoo gave the company its first contact's address")
        report = migration.api_rollback({"on_conflict": "undo"})
        company.invalidate_recordset()
        self.assertFalse(company.street)
        self.assertFalse(company.city)
        self.assertEqual(report["rollback_remains"], [])
