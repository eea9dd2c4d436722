import json
import re

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import MigrationCase

PROFILE = {
    "source": "testsrc",
    "files": [
        {"file": "contacts<script>alert(1)</script>.csv", "object": "contact", "encoding": "utf-8", "rows": 12,
         "unknownColumns": ["Fax", "Pager"]},
    ],
    "objects": {"contact": {"model": "res.partner", "records": 11, "withErrors": 1, "withWarnings": 2}},
    "duplicatesMerged": [
        {"object": "contact", "kept": "testsrc:contact:1", "keptAt": {"file": "contacts.csv", "row": 2},
         "merged": {"key": "testsrc:contact:9", "file": "contacts.csv", "row": 9}, "by": "email"},
    ],
    "missingValues": {"contact": {"name": 3}},
    "flags": {"contact": {"bounced": 4}},
    "customFields": [
        {"object": "contact", "model": "res.partner", "header": "Shoe size", "name": "x_shoe_size",
         "label": "Shoe size", "type": "selection", "options": ["S", "M"], "origin": "inferred from values"},
    ],
    "targets": [
        {"object": "contact", "chosen": "contact", "model": "res.partner", "requires": [], "missingApps": [],
         "decision": "preferred", "choices": []},
        {"object": "subscription", "chosen": None, "model": None, "requires": ["sale_subscription"],
         "missingApps": ["sale_subscription"], "decision": "app missing",
         "choices": ["install sale_subscription", "skip"]},
    ],
    "issues": {"errors": 1, "warnings": 2},
    "notMigratable": [],
    "lossy": [],
}


@tagged("post_install", "-at_install")
class TestProfile(MigrationCase):
    def _attachments(self, mig):
        return self.env["ir.attachment"].search([("res_model", "=", "crm.migration"), ("res_id", "=", mig.id)])

    def test_installed_apps(self):
        installed = self.env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
        answer = self.Migration.api_installed_apps(["crm", "sale", "nosuchmodule"])
        self.assertEqual(answer, {"crm": True, "sale": "sale" in installed, "nosuchmodule": False})
        self.assertEqual(self.Migration.api_installed_apps([]), {})
        with self.assertRaises(ValidationError):
            self.Migration.api_installed_apps("crm")
        user = new_test_user(self.env, login="mig_plain_apps", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.Migration.with_user(user).api_installed_apps(["crm"])

    def test_set_profile_and_replace(self):
        mig = self.new_migration()
        self.assertFalse(mig.profile_html)
        markdown = "# Inventory\n\n| object | rows |\n| --- | --- |\n| contact | 12 |\nÜmlaut ✓\n"
        self.assertIs(mig.api_set_profile({"profile": PROFILE, "inventory_markdown": markdown}), True)
        self.assertEqual(mig.profile_json, PROFILE)
        attachment = mig.inventory_attachment_id
        self.assertEqual(self._attachments(mig), attachment)
        self.assertEqual(attachment.name, f"inventory-{mig.id}.md")
        self.assertEqual(attachment.mimetype, "text/markdown")
        self.assertEqual(attachment.raw.decode("utf-8"), markdown)

        profile2 = dict(PROFILE, source="second")
        mig.api_set_profile({"profile": profile2, "inventory_markdown": "# Second\n"})
        self.assertEqual(mig.profile_json["source"], "second")
        self.assertEqual(len(self._attachments(mig)), 1)
        self.assertEqual(mig.inventory_attachment_id.raw, b"# Second\n")

        action = mig.action_download_inventory()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(action["url"], f"/web/content/{mig.inventory_attachment_id.id}?download=true")

    def test_set_profile_as_json_text(self):
        """``profile_json`` (what the bridge sends: one string, cheap to marshal at a million rows)
        stores the same profile; it is checked the same way, and is one or the other."""
        mig = self.new_migration()
        self.assertIs(mig.api_set_profile({"profile_json": json.dumps(PROFILE), "inventory_markdown": "x"}), True)
        self.assertEqual(mig.profile_json, PROFILE)
        for vals, needle in (
            ({"profile_json": "{not json", "inventory_markdown": ""}, "'profile_json' is not JSON"),
            ({"profile_json": {}, "inventory_markdown": ""}, "'profile_json' must be a string"),
            ({"profile_json": "[]", "inventory_markdown": ""}, "'profile' must be a struct"),
            ({"profile_json": json.dumps({"files": "x"}), "inventory_markdown": ""}, "'profile.files' must be a list"),
            ({"profile": {}, "profile_json": "{}", "inventory_markdown": ""}, "not both"),
        ):
            with self.subTest(needle=needle), self.assertRaisesRegex(ValidationError, re.escape(needle)):
                mig.api_set_profile(vals)
        self.assertEqual(mig.profile_json, PROFILE)

    def test_profile_html(self):
        mig = self.new_migration()
        mig.api_set_profile({"profile": PROFILE, "inventory_markdown": "x"})
        html = str(mig.profile_html)
        self.assertNotIn("<script>", html)
        self.assertIn("contacts&lt;script&gt;alert(1)&lt;/script&gt;.csv", html)
        for needle in ("Fax, Pager", "res.partner", "x_shoe_size", "S, M", "inferred from values", "bounced",
                       "sale_subscription", "install sale_subscription, skip", "Duplicates merged (1)"):
            self.assertIn(needle, html)
        self.assertIn("app missing", html)
        self.assertIn("table-danger", html)

    def test_profile_defensive(self):
        """A profile is checked with the contract's JSON Schema (schemas/profile.json): a malformed
        one is refused, naming the key; any section may be missing (nothing to show)."""
        mig = self.new_migration()
        for profile, needle in (
            ({"files": "not a list"}, "'profile.files' must be a list, not a string"),
            ({"objects": {"contact": None}}, "'profile.objects.contact' must be a struct/dict, not null"),
            ({"targets": [{"object": "deal"}]}, "'profile.targets.0': required key 'chosen'"),
            ({"source": "x", "colour": "red"}, "key 'profile': unknown key(s) 'colour'"),
        ):
            with self.subTest(needle=needle), self.assertRaisesRegex(ValidationError, re.escape(needle)):
                mig.api_set_profile({"profile": profile, "inventory_markdown": ""})
        self.assertFalse(mig.profile_json)
        mig.api_set_profile({"profile": {}, "inventory_markdown": ""})
        self.assertFalse(mig.profile_html)

    def test_set_profile_validation_and_access(self):
        mig = self.new_migration()
        for vals in ([], {"profile": {}}, {"profile": [], "inventory_markdown": ""},
                     {"profile": {}, "inventory_markdown": "", "extra": 1}):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                mig.api_set_profile(vals)
        user = new_test_user(self.env, login="mig_plain_profile", groups="base.group_user")
        with self.assertRaises(AccessError):
            mig.with_user(user).api_set_profile({"profile": {}, "inventory_markdown": ""})
        self.assertFalse(mig.profile_json)
        self.assertFalse(mig.inventory_attachment_id)

    def test_profile_page_in_form(self):
        arch = self.Migration.get_view(self.env.ref("crm_migration.crm_migration_view_form").id, "form")["arch"]
        self.assertIn('name="profile_html"', arch)
        self.assertIn('name="action_download_inventory"', arch)


@tagged("post_install", "-at_install")
class TestProfileExisting(MigrationCase):
    def test_duplicates_against_odoo(self):
        """The profile says which staged records an existing Odoo record already has (same email,
        any case): they will be matched and filled, not duplicated."""
        self.Partner.create({"name": "Already Here", "email": "already.here@example.com"})
        mig = self.new_migration()
        mig.api_stage([self.contact("p1", "Already Here", "Already.Here@example.com"),
                       self.contact("p2", "Brand New", "brand.new.pf@example.com")])
        mig.api_set_profile({"profile": {"source": "testsrc", "files": []}, "inventory_markdown": "x"})
        self.assertEqual(mig._existing_matches(), [("contact", "res.partner", "email", 2, 1)])
        mig.invalidate_recordset(["profile_html"])
        self.assertIn("Already in Odoo", str(mig.profile_html))
        mig.api_commit()
        self.assertEqual(mig._existing_matches(), [], "committed records are no longer counted")
        self.assertEqual(self.Partner.search_count([("email", "=ilike", "already.here@example.com")]), 1)
