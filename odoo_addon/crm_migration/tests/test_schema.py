from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..compat import enter_registry_test_mode
from ..services.custom_fields import migrated_fields_view
from .common import MigrationCase

FIELD = "x_mig_color"
OPTIONS = "[('Blue', 'Blue'), ('Red', 'Red')]"


@tagged("post_install", "-at_install")
class TestSchema(MigrationCase):
    """Custom fields staged as ir.model.fields records: created through the commit engine,
    shown on a generated form view, removed by a rollback only when unused."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # custom fields change the registry: each test resets it from its own cursor
        enter_registry_test_mode(cls)

    def setUp(self):
        self.addCleanup(self.registry.reset_changes)
        self.addCleanup(self.registry.clear_all_caches)
        super().setUp()

    def schema(self, key="testsrc:custom_field:res.partner.x_mig_color", name=FIELD, ttype="selection",
               selection=OPTIONS, label="Favourite colour"):
        values = {"name": name, "model": "res.partner", "field_description": label, "ttype": ttype,
                  "state": "manual"}
        if selection:
            values["selection"] = selection
        return self.staged(key, "custom_field", "ir.model.fields", values,
                           lookups={"model_id": {"model": "ir.model", "field": "model", "value": "res.partner"}},
                           match=[["name", "model"]])

    def colored(self, key, name, email, color, field_key="testsrc:custom_field:res.partner.x_mig_color"):
        record = self.contact(key, name, email, **{FIELD: color})
        record["deps"] = [field_key]
        return record

    def field_record(self, name=FIELD):
        return self.env["ir.model.fields"]._get("res.partner", name)

    def form_arch(self):
        View = self.env["ir.ui.view"]
        return View.browse(View.default_view("res.partner", "form"))._get_combined_arch()

    def _assert_migrated_fields_page(self):
        """One generated view, a "Migrated fields" page of the partner form showing the field."""
        view = migrated_fields_view(self.env, "res.partner")
        self.assertEqual(len(view), 1)
        self.assertEqual(view.name, "crm_migration.res.partner.migrated_fields")
        self.assertIn(f'name="{FIELD}"', view.arch_db)
        arch = self.form_arch()
        page = arch.xpath("//page[@name='crm_migration_migrated_fields']")
        self.assertEqual(len(page), 1)
        self.assertEqual(page[0].get("string"), "Migrated fields")
        self.assertEqual(len(page[0].xpath(f".//field[@name='{FIELD}']")), 1)
        self.env["res.partner"].get_view(view_type="form")  # the form still renders

    def test_field_created_used_and_rolled_back(self):
        self.assertFalse(self.field_record())
        mig = self.new_migration()
        # the schema record in one call, the contacts using its field in a later one
        self.assertEqual(mig.api_stage([self.schema()]), {"staged": 1, "errors": 0})
        self.assertEqual(mig.api_stage([
            self.colored("blue", "Mig Blue", "blue.schema@example.com", "Blue"),
            self.colored("red", "Mig Red", "red.schema@example.com", "Red"),
        ]), {"staged": 2, "errors": 0})
        report = mig.api_commit({"batch_size": 1})
        self.assertEqual(report["state"], "committed")
        self.assertEqual(report["counts"]["committed"], 3)

        field = self.field_record()
        self.assertTrue(field)
        self.assertEqual((field.state, field.ttype, field.field_description),
                         ("manual", "selection", "Favourite colour"))
        self.assertIn(FIELD, self.env["res.partner"]._fields)
        self.assertEqual(self.env["res.partner"]._fields[FIELD].selection, [("Blue", "Blue"), ("Red", "Red")])
        self.assertEqual(field.selection_ids.mapped("value"), ["Blue", "Red"])
        self.assertEqual(self.partner("blue.schema@example.com")[FIELD], "Blue")
        self.assertEqual(self.partner("red.schema@example.com")[FIELD], "Red")
        self.assertEqual(self.link_of(mig, "testsrc:custom_field:res.partner.x_mig_color").res_id, field.id)
        # the field before the contacts
        seq = {link.key: link.sequence for link in mig.link_ids}
        self.assertLess(seq["testsrc:custom_field:res.partner.x_mig_color"], seq["testsrc:contact:blue"])

        self._assert_migrated_fields_page()

        # a second migration of the same source: the field is matched (rule name+model), nothing created
        fields_before = self.env["ir.model.fields"].search_count([])
        partners_before = self.Partner.search_count([])
        mig2 = self.new_migration("Second run")
        mig2.api_stage([
            self.schema(key="othersrc:custom_field:x_mig_color"),
            self.colored("blue", "Mig Blue", "blue.schema@example.com", "Blue",
                         field_key="othersrc:custom_field:x_mig_color"),
        ])
        report2 = mig2.api_commit()
        self.assertEqual(report2["counts"]["matched"], 2)
        self.assertEqual(report2["links"], {"created": 0, "matched": 2, "updated": 0})
        self.assertEqual(self.link_of(mig2, "othersrc:custom_field:x_mig_color").res_id, field.id)
        self.assertEqual(self.env["ir.model.fields"].search_count([]), fields_before)
        self.assertEqual(self.Partner.search_count([]), partners_before)
        self.assertEqual(len(migrated_fields_view(self.env, "res.partner")), 1)

        # rollbacks, last in first out: the matched field stays, then the unused field goes
        self.assertEqual(mig2.api_rollback()["kept_fields"], [])
        self.assertTrue(self.field_record())
        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertEqual(report["kept_fields"], [])
        self.assertFalse(self.field_record())
        self.assertNotIn(FIELD, self.env["res.partner"]._fields)
        self.assertFalse(migrated_fields_view(self.env, "res.partner"))
        self.assertFalse(self.form_arch().xpath("//page[@name='crm_migration_migrated_fields']"))
        self.assertFalse(self.partner("blue.schema@example.com"))
        self.env["res.partner"].get_view(view_type="form")

    def test_field_kept_while_used(self):
        mig = self.new_migration()
        mig.api_stage([
            self.colored("blue", "Mig Blue", "blue.kept@example.com", "Blue"),
            self.schema(),  # same call, after the record that uses it
        ])
        mig.api_commit()
        self.assertEqual(self.partner("blue.kept@example.com")[FIELD], "Blue")
        # a record the migration did not create uses the field
        mine = self.Partner.create({"name": "Mig Own Partner", FIELD: "Red", "active": False})

        report = mig.api_rollback()
        self.assertEqual(report["state"], "rolled_back")
        self.assertFalse(self.partner("blue.kept@example.com"))
        field = self.field_record()
        self.assertTrue(field)
        self.assertEqual(report["kept_fields"], [{"model": "res.partner", "name": FIELD, "records_using": 1}])
        self.assertEqual(mine[FIELD], "Red")
        self.assertEqual(self.record_of(mig, "testsrc:custom_field:res.partner.x_mig_color").res_id, field.id)
        # the view keeps showing the kept field
        self.assertIn(f'name="{FIELD}"', migrated_fields_view(self.env, "res.partner").arch_db)

        # still used: nothing removed
        report = mig.api_remove_unused_fields()
        self.assertEqual(report["removed_fields"], [])
        self.assertTrue(self.field_record())

        mine[FIELD] = False
        report = mig.api_remove_unused_fields()
        self.assertEqual(report["removed_fields"], [{"model": "res.partner", "name": FIELD}])
        self.assertEqual(report["kept_fields"], [])
        self.assertFalse(self.field_record())
        self.assertNotIn(FIELD, self.env["res.partner"]._fields)
        self.assertFalse(migrated_fields_view(self.env, "res.partner"))
        self.assertEqual(self.record_of(mig, "testsrc:custom_field:res.partner.x_mig_color").res_id, 0)
        self.env["res.partner"].get_view(view_type="form")

    def test_boolean_field_usage_and_unknown_field(self):
        # a custom field nobody declares cannot be used in values
        mig = self.new_migration()
        with self.assertRaisesRegex(ValidationError, "x_mig_undeclared"):
            mig.api_stage([self.contact("u", "Mig Undeclared", "u.schema@example.com", x_mig_undeclared="x")])
        # booleans: False is no use of the field
        key = "testsrc:custom_field:res.partner.x_mig_flag"
        flagged = self.contact("f", "Mig Flag", "f.schema@example.com", x_mig_flag=True)
        flagged["deps"] = [key]
        mig.api_stage([self.schema(key=key, name="x_mig_flag", ttype="boolean", selection=None), flagged])
        mig.api_commit()
        self.assertTrue(self.partner("f.schema@example.com").x_mig_flag)
        self.Partner.create({"name": "Mig Unflagged", "x_mig_flag": False})
        report = mig.api_rollback()
        self.assertEqual(report["kept_fields"], [])
        self.assertFalse(self.field_record("x_mig_flag"))
