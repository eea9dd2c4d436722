from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..compat import enter_registry_test_mode
from .common import MigrationCase

MODEL = "x_mig_pets"
MODEL_KEY = "testsrc:custom_model:x_mig_pets"


@tagged("post_install", "-at_install")
class TestCustomModel(MigrationCase):
    """A custom object staged as an ir.model schema record, its x_ fields (a many2one lookup to
    partners) and its rows: created by the commit, rolled back exactly; only models a
    migration declares accept rows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        enter_registry_test_mode(cls)

    def setUp(self):
        self.addCleanup(self.registry.reset_changes)
        self.addCleanup(self.registry.clear_all_caches)
        super().setUp()

    def model_record(self, model=MODEL, key=MODEL_KEY):
        return self.staged(key, "custom_model", "ir.model", {"model": model, "name": "Pets", "state": "manual"},
                           match=[["model"]])

    def field(self, name, ttype, relation=None, model=MODEL):
        values = {"name": name, "model": model, "field_description": name, "ttype": ttype, "state": "manual"}
        if relation:
            values["relation"] = relation
        record = self.staged(f"testsrc:custom_field:{model}.{name}", "custom_field", "ir.model.fields", values,
                             lookups={"model_id": {"model": "ir.model", "field": "model", "value": model}},
                             match=[["name", "model"]])
        record["deps"] = [MODEL_KEY]
        return record

    def pet(self, key, name, owner=None, weight=None):
        values = {"x_name": name, "x_mig_weight": weight}
        record = self.staged(f"testsrc:pets:{key}", "pets", MODEL, values,
                             refs={"x_mig_owner_id": f"testsrc:contact:{owner}"} if owner else {})
        record["deps"] = [MODEL_KEY, f"testsrc:custom_field:{MODEL}.x_mig_weight",
                          f"testsrc:custom_field:{MODEL}.x_mig_owner_id"]
        return record

    def test_custom_model_created_used_and_rolled_back(self):
        self.assertFalse(self.env["ir.model"]._get(MODEL))
        access_before = self.env["ir.model.access"].search_count([])
        mig = self.new_migration()
        # the model and its fields in one call, the rows (before the model exists) in the next
        self.assertEqual(mig.api_stage([
            self.model_record(), self.field("x_mig_weight", "float"),
            self.field("x_mig_owner_id", "many2one", relation="res.partner"),
            self.contact("ada", "Ada Pets", "ada.pets@example.com"),
        ]), {"staged": 4, "errors": 0})
        self.assertEqual(mig.api_stage([self.pet("1", "Rex", owner="ada", weight=31.5), self.pet("2", "Nemo")]),
                         {"staged": 2, "errors": 0})
        report = mig.api_commit({"batch_size": 1})
        self.assertEqual(report["state"], "committed", report)
        model = self.env["ir.model"]._get(MODEL)
        self.assertEqual((model.state, model.name), ("manual", "Pets"))
        self.assertEqual(self.env[MODEL]._fields["x_mig_owner_id"].comodel_name, "res.partner")
        rows = self.env[MODEL].search([], order="id")
        self.assertEqual(rows.mapped("x_name"), ["Rex", "Nemo"])
        self.assertEqual(rows[0].x_mig_owner_id, self.partner("ada.pets@example.com"))
        self.assertEqual(rows[0].x_mig_weight, 31.5)
        self.assertEqual(self.env["ir.model.access"].search_count([("model_id", "=", model.id)]), 1)
        seq = {link.key: link.sequence for link in mig.link_ids}
        self.assertLess(seq[MODEL_KEY], seq[f"testsrc:custom_field:{MODEL}.x_mig_weight"])
        self.assertLess(seq[f"testsrc:custom_field:{MODEL}.x_mig_weight"], seq["testsrc:pets:1"])

        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(report["kept_fields"], [])
        self.assertFalse(self.env["ir.model"]._get(MODEL))
        self.assertNotIn(MODEL, self.env)
        self.assertEqual(self.env["ir.model.access"].search_count([]), access_before)
        self.assertFalse(self.partner("ada.pets@example.com"))

    def test_only_declared_custom_models(self):
        mig = self.new_migration()
        with self.assertRaisesRegex(ValidationError, "custom model this migration does not declare"):
            mig.api_stage([self.pet("1", "Rex")])
        with self.assertRaisesRegex(ValidationError, "creates a custom model"):
            mig.api_stage([self.model_record(model="res.partner.pets")])
        with self.assertRaisesRegex(ValidationError, "takes only"):
            mig.api_stage([self.staged(MODEL_KEY, "custom_model", "ir.model",
                                       {"model": MODEL, "name": "Pets", "transient": True}, match=[["model"]])])
        with self.assertRaisesRegex(ValidationError, "custom model this migration does not declare"):
            mig.api_stage([self.field("x_mig_weight", "float")])
        # another migration's custom model stays closed to this one
        other = self.new_migration("Other")
        other.api_stage([self.model_record()])
        with self.assertRaisesRegex(ValidationError, "custom model this migration does not declare"):
            mig.api_stage([self.pet("1", "Rex")])
