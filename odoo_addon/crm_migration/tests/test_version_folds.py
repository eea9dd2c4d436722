"""What an Odoo version changed in its standard models is folded into each staged record, with a
warning on the record (services/version_folds.py): fields it removed (19: ``mobile`` of partners
and leads) go where their value now lives; a contact with its own address under a company keeps it
on 19, which gives a company's contacts the company's address."""

from unittest import mock

from odoo.tests import tagged

from ..compat import ODOO_VERSION
from ..services import version_folds
from .common import MigrationCase

# a stand-in for a removed field, so every version runs the fold (on 19, ``mobile`` itself)
GONE = "x_gone_mobile"


@tagged("post_install", "-at_install")
class TestRemovedFields(MigrationCase):
    def _stage(self, mig, key, **values):
        record = self.contact(key, f"Fold {key}", f"fold-{key}@example.com", **values)
        mig.api_stage([record])
        return self.record_of(mig, record["key"])

    @mock.patch.dict(version_folds.REMOVED_FIELDS, {("res.partner", GONE): ("phone", "comment")})
    def test_fold_into_phone_then_notes(self):
        mig = self.new_migration()
        alone = self._stage(mig, "alone", **{GONE: "+33 6 12 34 56 78"})
        same = self._stage(mig, "same", phone="+33 6 00 00 00 01", **{GONE: "+33 6 00 00 00 01"})
        second = self._stage(mig, "second", phone="+33 1 00 00 00 02", comment="<p>VIP</p>",
                             **{GONE: "+33 6 00 00 00 03"})
        self.assertEqual(alone.values_json.get("phone"), "+33 6 12 34 56 78")
        self.assertNotIn(GONE, alone.values_json)
        self.assertEqual(same.values_json.get("phone"), "+33 6 00 00 00 01")
        self.assertNotIn("comment", same.values_json)
        self.assertEqual(second.values_json.get("phone"), "+33 1 00 00 00 02")
        self.assertEqual(second.values_json.get("comment"), "<p>VIP</p><p>X_gone_mobile: +33 6 00 00 00 03</p>")
        for record, where in ((alone, "went into Phone"), (same, "equals Phone"), (second, "went into Notes")):
            with self.subTest(key=record.key):
                self.assertEqual([i["level"] for i in record.issues_json], ["warning"])
                self.assertIn(where, record.issues_json[0]["message"])
                self.assertEqual(record.state, "staged")
        mig.api_commit()
        partner = self.partner("fold-second@example.com")
        self.assertEqual(partner.phone, "+33 1 00 00 00 02")
        self.assertIn("+33 6 00 00 00 03", partner.comment)
        self.assertEqual(self.partner("fold-alone@example.com").phone, "+33 6 12 34 56 78")
        mig.api_rollback()
        self.assertFalse(self.partner("fold-second@example.com"))

    def test_mobile_on_this_version(self):
        """``mobile`` arrives as ``mobile`` where Odoo has it (17, 18), in ``phone`` where not (19)."""
        mig = self.new_migration()
        record = self._stage(mig, "mobile", mobile="+33 6 98 76 54 32")
        mig.api_commit()
        partner = self.partner("fold-mobile@example.com")
        if "mobile" in self.Partner._fields:
            self.assertEqual(partner.mobile, "+33 6 98 76 54 32")
            self.assertFalse(record.issues_json)
        else:
            self.assertEqual(partner.phone, "+33 6 98 76 54 32")
            self.assertIn("'mobile'", record.issues_json[0]["message"])

    def test_own_address_under_a_company(self):
        """Two contacts of one company with addresses of their own keep them on every version."""
        mig = self.new_migration()
        mig.api_stage([
            self.company("acme", "Fold Acme"),
            self.contact("ada", "Fold Ada", "fold-ada@example.com", company="acme", street="1 Ada St", city="London"),
            self.contact("bob", "Fold Bob", "fold-bob@example.com", company="acme", street="2 Bob Rd", city="Leeds"),
            self.contact("cy", "Fold Cy", "fold-cy@example.com", company="acme"),
        ])
        ada = self.record_of(mig, "testsrc:contact:ada")
        cy = self.record_of(mig, "testsrc:contact:cy")
        self.assertFalse(cy.issues_json, "no address of its own: nothing to keep")
        if ODOO_VERSION >= 19:
            self.assertEqual(ada.values_json.get("type"), "other")
            self.assertIn("its own address", ada.issues_json[0]["message"])
        else:
            self.assertNotIn("type", ada.values_json)
            self.assertFalse(ada.issues_json)
        mig.api_commit()
        for email, street, city in (("fold-ada@example.com", "1 Ada St", "London"),
                                    ("fold-bob@example.com", "2 Bob Rd", "Leeds")):
            partner = self.partner(email)
            self.assertEqual((partner.street, partner.city), (street, city), email)
            self.assertEqual(partner.parent_id.name, "Fold Acme")
        self.assertFalse(self.Partner.search([("name", "=", "Fold Acme")]).street, "the company's own address stays")
