"""The contract with the bridge (issue #13): staged records, profiles and mapping lines are
checked with the JSON Schemas the bridge generates from its zod schemas (schemas/*.json,
``npm run schemas``). These tests prove the addon refuses what the schemas refuse with a message
naming the record, the key and what is wrong; that the fast check agrees with jsonschema; and that
what the schema gives a default for is filled in."""

import copy
import json
import os

from jsonschema import Draft202012Validator

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..services import contract
from ..services.staging import canonical_hash
from .common import MigrationCase

DOCS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "schemas")


def _bad_records(good):
    """(record, words the error must hold) for every way the schema refuses a staged record."""
    return [
        ({k: v for k, v in good.items() if k != "key"}, "Staged record #0: required key 'key' is missing"),
        (dict(good, colour="red"), "unknown key(s) 'colour'"),
        (dict(good, key="   "), "key 'key' must not be blank"),
        (dict(good, key="k" * 1001), "key 'key' is 1,001 characters long; at most 1,000 are accepted"),
        (dict(good, model="Res Partner"), "key 'model' must match"),
        (dict(good, values=["name"]), "key 'values' must be a struct/dict, not a list"),
        (dict(good, values={"name": {"a": 1}}),
         "'values.name' must be a plain value (string, number, boolean or null)"),
        (dict(good, values={"name": "x" * (16 * 1024 * 1024 + 1)}),
         "'values.name' is 16,777,217 characters long; at most 16,777,216 are accepted"),
        (dict(good, values={"n" * 300: 1}), "'values': a key of 300 characters"),
        (dict(good, values={f"x_{i}": 1 for i in range(4097)}), "key 'values' has 4,097 keys; at most 4,096"),
        (dict(good, refs={"parent_id": 7}), "'refs.parent_id' must be a string or a list, not an integer"),
        (dict(good, refs={"category_id": ["a", ""]}), "'refs.category_id.1' must be a non-empty string"),
        (dict(good, lookups={"country_id": {"model": "res.country", "field": "code"}}),
         "'lookups.country_id': required key 'value' is missing"),
        (dict(good, lookups={"country_id": {"model": "res.country", "field": "code", "value": "US", "x": 1}}),
         "'lookups.country_id': unknown key(s) 'x'"),
        (dict(good, lookups={"user_id": {"model": "res.users", "field": "login", "value": "a", "required": "yes"}}),
         "'lookups.user_id.required' must be a boolean, not a string"),
        (dict(good, match=[[]]), "'match.0' must hold at least 1 item(s)"),
        (dict(good, match="email"), "key 'match' must be a list, not a string"),
        (dict(good, deps=[""]), "'deps.0' must be a non-empty string"),
        (dict(good, source={"file": "a.csv", "row": -1}), "'source.row' must be at least 0, not -1"),
        (dict(good, source={"file": "a.csv", "row": True}), "'source.row' must be an integer, not a boolean"),
        (dict(good, source={"file": "a.csv", "line": 3}), "'source': unknown key(s) 'line'"),
        (dict(good, hash="ABC"), "key 'hash' must be at least 64 characters long"),
        (dict(good, hash="g" * 64), "key 'hash' must match"),
        (dict(good, blob={"sha1": "a" * 40, "size": -1}), "'blob.size' must be at least 0"),
        (dict(good, issues=[{"level": "fatal", "message": "x"}]),
         "'issues.0.level' must be one of 'error', 'warning', not 'fatal'"),
        (dict(good, issues=[{"level": "error"}]), "'issues.0': required key 'message' is missing"),
        (dict(good, issues=[{"level": "error", "message": "m", "row": None}]),
         "'issues.0.row' must be an integer, not null"),
    ]


@tagged("post_install", "-at_install")
class TestContract(MigrationCase):
    def test_schemas_are_the_bridges(self):
        """The copies in this addon are the bridge's files (also checked by the bridge's unit
        test test/unit/contract-schemas.test.ts, which regenerates them from zod)."""
        for name in contract.SCHEMA_NAMES:
            Draft202012Validator.check_schema(contract.SCHEMAS[name])
            self.assertEqual(contract.SCHEMAS[name]["$schema"], "https://json-schema.org/draft/2020-12/schema")
            path = os.path.join(DOCS, f"{name}.json")
            if not os.path.exists(path):
                self.skipTest(f"SKIPPED: docs/schemas is not beside this addon ({path}): run from the repository")
            with open(path, encoding="utf-8") as handle:
                self.assertEqual(json.load(handle), contract.SCHEMAS[name], name)
        record = contract.SCHEMAS["staged-record"]
        self.assertIs(record["additionalProperties"], False)
        self.assertEqual(set(record["required"]), {"key", "object", "model", "values"})

    def test_bad_records_are_refused_by_name(self):
        mig = self.new_migration()
        good = self.contact("c1", "Ann Lee", "ann@example.com")
        self.assertIsNone(contract.problem("staged-record", good))
        for record, words in _bad_records(good):
            with self.subTest(words=words):
                self.assertFalse(contract.is_valid("staged-record", record))
                self.assertFalse(contract.VALIDATORS["staged-record"].is_valid(record))
                with self.assertRaises(ValidationError) as caught:
                    mig.api_stage([good, record])
                message = str(caught.exception)
                self.assertIn(words.replace("#0", "#1"), message)
                if record.get("key") == good["key"]:
                    self.assertIn("Staged record 'testsrc:contact:c1': ", message)
                self.assertLess(len(message), 400, "the message never carries a large value")
        self.assertFalse(mig.record_ids, "nothing of a refused call is staged")

    def test_fast_check_agrees_with_jsonschema(self):
        """services/contract.py answers yes/no without jsonschema (which takes ~4 ms a record):
        on every good and bad case here both answer the same."""
        good = self.contact("c1", "Ann Lee", "ann@example.com", company="acme", tags=("VIP", "New"),
                            lookups={"country_id": {"model": "res.country", "field": "code", "value": "US",
                                                    "alt_fields": ["name"], "where": {"code": "US"}}},
                            phone="+15550100", x_score=1.5, x_flag=True)
        good = dict(good, hash="a" * 64, deps=["testsrc:company:acme"],
                    issues=[{"level": "warning", "file": "c.csv", "row": 2, "field": "Phone", "message": "m"}],
                    source=dict(good["source"], columns={"name": "First Name + Last Name"}))
        attached = self.staged("testsrc:file:1", "file", "ir.attachment", {"name": "a.pdf"})
        attached = dict(attached, attach_to="testsrc:contact:c1", blob={"sha1": "0" * 40, "size": 3})
        validator = contract.VALIDATORS["staged-record"]
        cases = [good, attached, self.tag("T")] + [record for record, _words in _bad_records(good)]
        # every key left out, every value replaced by a value of another type
        for key in list(good):
            cases.append({k: v for k, v in good.items() if k != key})
            for other in (None, True, 1, 1.5, "x", [], ["x"], {}, {"x": "y"}):
                cases.append(dict(good, **{key: other}))
        for key in ("model", "field", "value", "alt_fields", "where"):
            for other in (None, 2, [], {}, [""], {"a": []}):
                bad = copy.deepcopy(good)
                bad["lookups"]["country_id"][key] = other
                cases.append(bad)
        for index, case in enumerate(cases):
            with self.subTest(index=index):
                self.assertEqual(contract.is_valid("staged-record", case), validator.is_valid(case))
        self.assertGreater(sum(1 for case in cases if validator.is_valid(case)), 10)
        self.assertGreater(sum(1 for case in cases if not validator.is_valid(case)), 80)
        for name, instance in (("profile", {"files": "x"}), ("profile", {}), ("mapping-line", {"object": "c"})):
            self.assertEqual(contract.is_valid(name, instance), contract.VALIDATORS[name].is_valid(instance))

    def test_defaults_are_filled_in(self):
        """What normalize_record did besides checking: refs, lookups, match, source and issues
        default to empty, the hash is computed when none is sent."""
        mig = self.new_migration()
        mig.api_stage([{"key": "testsrc:tag:bare", "object": "tag", "model": "res.partner.category",
                        "values": {"name": "Mig Bare"}}])
        rec = self.record_of(mig, "testsrc:tag:bare")
        # empty JSON is stored as NULL by Odoo: read back as False
        self.assertFalse(rec.refs_json or rec.lookups_json or rec.match_json or rec.source_json or rec.issues_json)
        self.assertEqual((rec.source_file, rec.source_row, rec.state, rec.issue_count), (False, 0, "staged", 0))
        self.assertEqual(rec.hash, canonical_hash("res.partner.category", {"name": "Mig Bare"}, {}, {}))
        # an empty hash (a record made by hand) is computed too
        mig.api_stage([dict(self.tag("Mig Empty Hash"), hash="")])
        self.assertEqual(self.record_of(mig, "testsrc:tag:mig empty hash").hash,
                         canonical_hash("res.partner.category", {"name": "Mig Empty Hash"}, {}, {}))
        mig.api_commit()
        self.assertEqual(rec.state, "committed")
        self.assertEqual(len(self.Tag.search([("name", "=", "Mig Bare")])), 1)

    def test_mapping_line_schema(self):
        mig = self.new_migration()
        line = {"object": "contact", "model": "res.partner", "column": "E-mail", "field": "email", "action": "map",
                "ttype": "char", "label": None, "kind": "email", "confidence": 0.9, "reason": "header",
                "samples": ["a@example.com"]}
        for bad, words in (
            (dict(line, samples=[1]), "api_set_mapping: line 0: 'samples.0' must be a string, not an integer"),
            (dict(line, kind=""), "api_set_mapping: line 0: key 'kind' must be one of"),
            (dict(line, confidence=-0.1), "api_set_mapping: line 0: key 'confidence' must be at least 0"),
            (dict(line, samples=["s"] * 101), "key 'samples' holds 101 items; at most 100"),
        ):
            with self.subTest(words=words), self.assertRaises(ValidationError) as caught:
                mig.api_set_mapping([bad])
            self.assertIn(words, str(caught.exception))
        minimal = {"object": "contact", "model": "res.partner", "column": "Fax", "action": "ignore"}
        self.assertIs(mig.api_set_mapping([line, minimal]), True)
        fax = mig.mapping_line_ids.filtered(lambda ln: ln.column == "Fax")
        self.assertEqual((fax.kind, fax.confidence), ("empty", 0.0))
