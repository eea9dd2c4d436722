"""What a Migration Manager who is not an administrator can and cannot do (services/guard.py,
README "Security"; issue #12 items 1, 2, 3 and 5). The e2e probes over XML-RPC are
test/e2e/faults-security.e2e.test.ts; these cover what XML-RPC cannot set up: a forged link already in
the database (made before links were read-only, or by SQL)."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..compat import USER_GROUPS_FIELD as USER_GROUPS
from .common import MigrationCase


@tagged("post_install", "-at_install")
class TestSecurity(MigrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="migration_manager_probe",
            groups="base.group_user,crm_migration.group_crm_migration_manager,sales_team.group_sale_manager,"
                   "base.group_partner_manager")
        assert not cls.manager.has_group("base.group_system")
        assert not cls.manager.has_group("base.group_erp_manager")
        cls.secret = cls.env["ir.config_parameter"].sudo().get_param("database.secret")

    def as_manager(self, records):
        return records.with_user(self.manager)

    def committed_migration(self):
        migration = self.as_manager(self.new_migration("Security"))
        migration.api_stage([self.contact("1", "Ada", "ada@sec.example")])
        migration.api_commit()
        self.assertEqual(migration.state, "committed")
        return migration

    # ------------------------------------------------------------------ item 1
    def test_forged_link_is_refused_and_prints_no_secret(self):
        migration = self.committed_migration()
        param = self.env["ir.config_parameter"].sudo().search([("key", "=", "database.secret")])
        # a forged link in the database (the group cannot create one any more: see below)
        self.env["crm.migration.link"].sudo().create({
            "migration_id": migration.id, "key": "forged", "model": "ir.config_parameter", "res_id": param.id,
            "action": "updated", "values_after_json": {"value": "x"}, "values_before_json": {"value": "x"},
            "written_at": "2000-01-01 00:00:00", "sequence": 99,
        })
        with self.assertRaises(UserError) as caught:
            migration.api_rollback_conflicts()
        self.assertIn("forged: ir.config_parameter is not a model a migration writes", str(caught.exception))
        self.assertNotIn(self.secret, str(caught.exception))
        # an admin's rollback is refused too, nothing undone, the parameter untouched
        with self.assertRaises(UserError):
            migration.with_user(self.env.ref("base.user_admin")).api_rollback({"on_conflict": "undo"})
        self.assertEqual(param.value, self.secret)
        self.assertTrue(self.partner("ada@sec.example"))

    def test_forged_field_on_an_allowed_model_is_refused(self):
        migration = self.committed_migration()
        link = self.link_of(migration, "testsrc:contact:1")
        link.sudo().write({"action": "updated", "values_before_json": {"create_uid": 1}})
        with self.assertRaises(UserError) as caught:
            migration.api_rollback_conflicts()
        self.assertIn("res.partner.create_uid is not a field a migration writes", str(caught.exception))

    def test_links_are_read_only_for_the_group(self):
        migration = self.committed_migration()
        link = self.as_manager(self.link_of(migration, "testsrc:contact:1"))
        self.assertTrue(link.key)
        with self.assertRaises(AccessError):
            link.write({"model": "ir.config_parameter"})
        with self.assertRaises(AccessError):
            link.unlink()
        with self.assertRaises(AccessError):
            self.as_manager(self.Link).create({"migration_id": migration.id, "key": "x", "model": "res.users",
                                               "res_id": 1, "action": "matched"})

    # ------------------------------------------------------------------ item 2
    def test_staging_refuses_models_and_fields_outside_the_policy(self):
        migration = self.as_manager(self.new_migration("Security staging"))
        cases = [
            (self.staged("s:user:1", "user", "res.users", {"name": "Eve", "login": "eve"},
                         lookups={USER_GROUPS: {"model": "res.groups", "field": "name", "value": "Settings"}}),
             "'s:user:1': refused: model 'res.users' is not a model a migration may write"),
            (self.staged("s:param:1", "param", "ir.config_parameter", {"key": "k", "value": "v"}),
             "'s:param:1': refused: model 'ir.config_parameter'"),
            (self.staged("s:c:1", "contact", "res.partner", {"name": "P"},
                         lookups={"write_uid": {"model": "res.users", "field": "login", "value": "admin"}}),
             "'s:c:1': refused: field 'write_uid' is Odoo's bookkeeping"),
            (self.staged("s:cf:1", "custom_field", "ir.model.fields",
                         {"name": "x_evil", "model": "res.users", "field_description": "Evil", "ttype": "char",
                          "state": "manual"},
                         lookups={"model_id": {"model": "ir.model", "field": "model", "value": "res.users"}},
                         match=[["name", "model"]]),
             "model 'res.users' is not a model a migration may add fields to"),
            (self.staged("s:cf:2", "custom_field", "ir.model.fields",
                         {"name": "email2", "model": "res.partner", "field_description": "E", "ttype": "char",
                          "state": "manual"},
                         lookups={"model_id": {"model": "ir.model", "field": "model", "value": "res.partner"}}),
             "name 'email2' must be x_"),
        ]
        for record, message in cases:
            with self.subTest(key=record["key"]), self.assertRaises(ValidationError) as caught:
                migration.api_stage([record])
            self.assertIn(message, str(caught.exception))
        self.assertFalse(migration.record_ids)

    def test_commit_checks_stored_records_again(self):
        """A staged record rewritten by the group into a res.users with Settings: an admin's commit
        refuses it, nothing written."""
        migration = self.as_manager(self.new_migration("Security tamper"))
        migration.api_stage([self.contact("1", "Ada", "ada@tamper.example")])
        record = self.record_of(migration, "testsrc:contact:1")
        record.write({"model": "res.users", "values_json": {"name": "Eve", "login": "eve-tamper"},
                      "lookups_json": {USER_GROUPS: {"model": "res.groups", "field": "name", "value": "Settings"}},
                      "match_json": []})
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(UserError) as caught:
            migration.with_user(admin).api_commit()
        self.assertIn("testsrc:contact:1: model 'res.users' is not a model a migration may write",
                      str(caught.exception))
        self.assertFalse(self.env["res.users"].with_context(active_test=False).search([("login", "=", "eve-tamper")]))
        self.assertFalse(migration.link_ids)

    def test_commit_refuses_stored_json_of_another_shape(self):
        """values_json rewritten by the group into a list naming allowed fields: staging's shape
        checks are made again at commit (a list would pass the field check), nothing written."""
        migration = self.as_manager(self.new_migration("Security shape"))
        migration.api_stage([self.contact("1", "Ada", "ada@shape.example"),
                             self.contact("2", "Bob", "bob@shape.example")])
        self.record_of(migration, "testsrc:contact:1").write({"values_json": ["name", "email"]})
        self.record_of(migration, "testsrc:contact:2").write({"match_json": {"email": 1}})
        before = self.Partner.search_count([])
        with self.assertRaises(UserError) as caught:
            migration.api_commit_plan({"workers": 2})
        self.assertIn("testsrc:contact:1: values_json must be a JSON object", str(caught.exception))
        self.assertIn("testsrc:contact:2: match_json must be a JSON list", str(caught.exception))
        self.assertEqual(self.Partner.search_count([]), before)
        self.assertFalse(migration.link_ids)

    def test_manager_stages_numbered_batches_and_commits_in_chunks(self):
        """The staging calls' numbers and a plan for two workers, as a Migration Manager: the
        records committed in the order of the numbers, whatever the order of the calls."""
        migration = self.as_manager(self.new_migration("Security batches"))
        migration.api_stage([self.contact("2", "Bob", "bob@batch.example")], 2)
        migration.api_stage([self.contact("1", "Ada", "ada@batch.example")], 1)
        plan = migration.api_commit_plan({"batch_size": 10, "workers": 2})
        for wave in plan["waves"]:
            for chunk in wave:
                migration.api_commit_chunk(chunk)
        self.assertEqual(migration.api_commit_finish(plan)["state"], "committed")
        ada, bob = (self.record_of(migration, f"testsrc:contact:{k}") for k in ("1", "2"))
        self.assertEqual((ada.stage_batch, bob.stage_batch), (1, 2))
        self.assertLess(ada.res_id, bob.res_id)  # batch 1 created first, though staged second
        with self.assertRaises(ValidationError):
            migration.api_stage([self.contact("3", "Cy", "cy@x.example")], -1)
        self.assertEqual(len(migration.record_ids), 2)

    # ------------------------------------------------------------------ item 3
    def test_audit_is_append_only_and_committed_migrations_stay(self):
        migration = self.committed_migration()
        audit = self.as_manager(migration.audit_ids)
        self.assertTrue(audit)
        with self.assertRaises(AccessError):
            audit.unlink()
        with self.assertRaises(AccessError):
            audit[:1].write({"action": "match"})
        with self.assertRaises(UserError):
            migration.unlink()
        migration.api_rollback({"on_conflict": "undo"})
        self.assertEqual(migration.state, "rolled_back")
        with self.assertRaises(UserError) as caught:
            migration.unlink()
        self.assertIn("audit trail", str(caught.exception))
        # not even the superuser's cascade: the foreign key restricts
        self.assertEqual(self.env["crm.migration.audit"]._fields["migration_id"].ondelete, "restrict")

    def test_a_migration_that_never_wrote_can_be_deleted(self):
        migration = self.as_manager(self.new_migration("Draft"))
        migration.api_stage([self.contact("1", "Ada", "ada@draft.example")])
        migration.unlink()
        self.assertFalse(migration.exists())

    # ------------------------------------------------------------------ item 5
    def test_manager_alone_creates_and_removes_custom_fields(self):
        Fields = self.env["ir.model.fields"]
        with self.assertRaises(AccessError):
            Fields.with_user(self.manager).create({
                "name": "x_direct", "model_id": self.env["ir.model"]._get_id("res.partner"), "ttype": "char",
                "field_description": "Direct"})
        migration = self.as_manager(self.new_migration("Custom fields"))
        schema = self.staged("testsrc:custom_field:res.partner.x_sec_level", "custom_field", "ir.model.fields",
                             {"name": "x_sec_level", "model": "res.partner", "field_description": "Level",
                              "ttype": "char", "state": "manual"},
                             lookups={"model_id": {"model": "ir.model", "field": "model", "value": "res.partner"}},
                             match=[["name", "model"]])
        contact = self.contact("1", "Ada", "ada@cf.example", x_sec_level="gold")
        contact["deps"] = [schema["key"]]
        migration.api_stage([schema, contact])
        migration.api_commit()
        self.assertEqual(migration.state, "committed", migration.api_report())
        field = Fields._get("res.partner", "x_sec_level")
        self.assertTrue(field)
        self.assertEqual(self.partner("ada@cf.example").x_sec_level, "gold")
        migration.api_rollback({"on_conflict": "undo"})
        self.assertFalse(Fields._get("res.partner", "x_sec_level").exists())

    def test_manager_sets_the_mapping(self):
        """The mapping lines' field check reads ir.model.fields for the manager (who cannot)."""
        migration = self.as_manager(self.new_migration("Mapping"))
        migration.api_set_mapping([{"object": "contact", "model": "res.partner", "column": "E-mail", "field": "email",
                                    "action": "map", "ttype": "char", "kind": "email", "confidence": 1}])
        line = migration.mapping_line_ids
        self.assertEqual(line.sudo().field_id.name, "email")
        line.field_id = self.env["ir.model.fields"]._get("res.partner", "ref")
        self.assertEqual(line.sudo().field_id.name, "ref")
