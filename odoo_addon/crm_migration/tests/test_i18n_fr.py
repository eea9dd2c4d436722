"""The French translation (i18n/fr.po) loads and is used (README, "Translations"): a menu, field
labels, a selection, a button of a view and messages raised or written by the code read in French
for a French user, and in English for an English one."""

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestI18nFr(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["crm_migration"], ["fr_FR"], overwrite=True)
        cls.env.invalidate_all()
        cls.env.registry.clear_cache()
        cls.fr = cls.env(context=dict(cls.env.context, lang="fr_FR"))
        cls.en = cls.env(context=dict(cls.env.context, lang="en_US"))

    def test_menu(self):
        xmlid = "crm_migration.menu_crm_migration_record"
        self.assertEqual(self.en.ref(xmlid).name, "Staged Records")
        self.assertEqual(self.fr.ref(xmlid).name, "Enregistrements préparés")
        self.assertEqual(self.fr.ref("crm_migration.menu_crm_migration_owner").name, "Propriétaires à rapprocher")

    def test_field_labels_selection_and_help(self):
        fields = self.fr["crm.migration"].fields_get(["record_count", "state", "source_system"])
        self.assertEqual(fields["record_count"]["string"], "Enregistrements")
        self.assertEqual(fields["source_system"]["string"], "CRM source")
        self.assertIn(["partial", "Partiellement validé"], [list(s) for s in fields["state"]["selection"]])
        help_text = self.fr["res.config.settings"].fields_get(["crm_migration_bridge_url"])[
            "crm_migration_bridge_url"]["help"]
        self.assertTrue(help_text.startswith("Où Odoo joint la passerelle de migration"), help_text)
        self.assertEqual(self.en["crm.migration"].fields_get(["record_count"])["record_count"]["string"], "Records")

    def test_view_buttons(self):
        arch = self.fr["crm.migration"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('string="Confirmer la correspondance"', arch)
        self.assertIn('string="Arrêter la tâche"', arch)
        self.assertNotIn('string="Confirm mapping"', arch)
        arch_en = self.en["crm.migration"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('string="Confirm mapping"', arch_en)

    def test_error_and_job_messages(self):
        migration = self.env["crm.migration"].create({"name": "Essai"})
        migration.write({"state": "rolled_back"})
        with self.assertRaises(UserError) as caught:
            migration.with_env(self.fr).action_commit()
        self.assertEqual(str(caught.exception),
                         "La migration Essai est annulée : préparez et validez une nouvelle migration.")
        with self.assertRaises(UserError) as caught:
            migration.with_env(self.en).action_commit()
        self.assertIn("is rolled back: stage and commit a new migration", str(caught.exception))
        # a term of models/crm_migration_job.py (kept in fr.po, see scripts/i18n-export.sh)
        migration.write({"state": "draft", "job": "commit", "job_state": "queued"})
        migration.with_env(self.fr).action_reset_job()
        self.assertEqual(migration.job_message, "Arrêtée par %s." % self.env.user.name)
