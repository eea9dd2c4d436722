import json

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestStaging(MigrationCase):
    def test_upsert_by_key(self):
        mig = self.new_migration()
        mig.api_stage([self.tag("Mig Upsert")])
        mig.api_stage([self.tag("Mig Upsert"), self.tag("Mig Upsert 2")])
        self.assertEqual(len(mig.record_ids), 2)
        rec = self.record_of(mig, "testsrc:tag:mig upsert")
        self.assertEqual(rec.values_json, {"name": "Mig Upsert"})
        self.assertEqual(len(rec.hash), 64)  # computed when the bridge sends none

    def test_bad_shape(self):
        mig = self.new_migration()
        good = self.tag("Mig Shape")
        cases = [
            ({k: v for k, v in good.items() if k != "object"}, "'object'"),
            (dict(good, values={"no_such_field": 1}), "no_such_field"),
            (dict(good, model="no.such.model"), "no.such.model"),
            (dict(good, values={"name": ["x"]}), "values.name"),
            (dict(good, refs={"name": "k"}), "refs.name"),
            (dict(good, match="email"), "'match'"),
            (dict(good, issues=[{"level": "fatal", "message": "x"}]), "level"),
        ]
        for record, needle in cases:
            with self.subTest(needle=needle), self.assertRaisesRegex(ValidationError, needle):
                mig.api_stage([record])
        with self.assertRaises(ValidationError):
            mig.api_stage([good] * 1001)
        with self.assertRaises(ValidationError):
            self.Migration.api_create({"name": ""})
        self.assertFalse(mig.record_ids)

    def test_committed_key_cannot_be_restaged(self):
        mig = self.new_migration()
        mig.api_stage([self.tag("Mig Locked")])
        mig.api_commit()
        with self.assertRaisesRegex(UserError, "testsrc:tag:mig locked"):
            mig.api_stage([self.tag("Mig Locked")])

    def test_access(self):
        user = new_test_user(self.env, login="mig_no_group", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Migration.with_user(user).api_create({"name": "x", "source": "y"})
        self.assertTrue(self.env.ref("base.user_admin").has_group("crm_migration.group_crm_migration_manager"))

    def test_report_is_marshalable(self):
        mig = self.new_migration()
        mig.api_stage([self.tag("Mig Report")])
        report = mig.api_report()
        self.assertEqual(set(report), {"id", "name", "source", "state", "counts", "objects", "failed", "skipped",
                                       "links", "delta_round", "delta", "upload_open"})
        self.assertEqual((report["delta_round"], report["delta"]), (0, {}))

        def check(value):
            if isinstance(value, dict):
                for k, v in value.items():
                    self.assertIsInstance(k, str)
                    check(v)
            elif isinstance(value, list):
                for v in value:
                    check(v)
            else:
                self.assertIsInstance(value, (str, int, bool))

        check(report)
        self.assertEqual(report["objects"]["tag"]["staged"], 1)

    def test_stage_json(self):
        """api_stage_json: same records as one JSON string, same validation and answer."""
        mig = self.new_migration()
        records = [
            self.tag("Mig Json"),
            self.staged("testsrc:contact:json-err", "contact", "res.partner", {"name": "Mig Json Err", "email": None},
                        issues=[{"level": "error", "message": "bad row"}, {"level": "warning", "message": "w"}]),
        ]
        self.assertEqual(mig.api_stage_json(json.dumps(records)), {"staged": 2, "errors": 1})
        err = self.record_of(mig, "testsrc:contact:json-err")
        self.assertEqual(err.state, "error")
        self.assertEqual(err.values_json, {"name": "Mig Json Err", "email": None})
        self.assertEqual((err.issue_count, err.has_error_issue, err.has_warning), (2, True, True))
        tag = self.record_of(mig, "testsrc:tag:mig json")
        self.assertEqual((tag.state, tag.issue_count, tag.has_error_issue, tag.has_warning),
                         ("staged", 0, False, False))
        self.assertEqual(tag.match_json, [["name"]])
        # upsert by key, as api_stage
        self.assertEqual(mig.api_stage_json(json.dumps([self.tag("Mig Json")])), {"staged": 1, "errors": 0})
        self.assertEqual(len(mig.record_ids), 2)
        # same validation
        with self.assertRaisesRegex(ValidationError, "no_such_field"):
            mig.api_stage_json(json.dumps([dict(self.tag("Mig Json 2"), values={"no_such_field": 1})]))
        for bad in ("{not json", json.dumps({"key": "x"}), json.dumps([self.tag("x")] * 1001)):
            with self.assertRaises(ValidationError):
                mig.api_stage_json(bad)
        with self.assertRaises(ValidationError):
            mig.api_stage_json(records)
        self.assertEqual(len(mig.record_ids), 2)
        mig.api_commit()
        self.assertEqual(len(self.Tag.search([("name", "=", "Mig Json")])), 1)
