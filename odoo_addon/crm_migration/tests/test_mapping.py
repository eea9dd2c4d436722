import json
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from ..compat import ODOO_VERSION
from .common import MigrationCase

# a second phone-like field the admin may choose instead of the proposal: 19 has no res.partner.mobile
OTHER_FIELD = "mobile" if ODOO_VERSION < 19 else "function"


def line(column, field, kind="text", action="map", obj="contact", model="res.partner", ttype="char", label=None,
         confidence=0.95, reason="header", samples=("a", "b")):
    return {"object": obj, "model": model, "column": column, "field": field, "action": action, "ttype": ttype,
            "label": label, "kind": kind, "confidence": confidence, "reason": reason, "samples": list(samples)}


LINES = [
    line("Email Address", "email", kind="email", samples=["ada@example.com", "bob@example.com"]),
    line("Phone", "phone", kind="phone", confidence=0.7, reason="values look like phone numbers"),
    line("Shoe size", "x_shoe_size", action="create", label="Shoe size", confidence=0.3, reason="no such field"),
    line("Fax", None, kind="empty", action="ignore", ttype=None, confidence=0.0, reason="always empty", samples=[]),
    line("Company Name", "name", obj="company", confidence=0.9),
]


@tagged("post_install", "-at_install")
class TestMapping(MigrationCase):
    def uploaded_migration(self, lines=LINES, name="Mapping test"):
        """A migration as after a first upload: staged records, mapping lines, state uploaded."""
        mig = self.new_migration(name)
        self.assertIs(mig.api_set_mapping(lines), True)
        mig.api_stage([self.contact("m1", "Mig Map Contact", "map.contact@example.com")])
        mig.api_finish_staging()
        self.assertEqual(mig.state, "uploaded")
        return mig

    def lines_of(self, mig):
        return {(ln.object, ln.column): ln for ln in mig.mapping_line_ids}

    def field(self, model, name):
        return self.env["ir.model.fields"]._get(model, name)

    def allowed(self, mapping_line, model, name):
        field = self.field(model, name)
        self.assertTrue(field, f"{model}.{name}")
        return bool(self.env["ir.model.fields"].search_count(
            [("id", "=", field.id)] + list(mapping_line.field_domain)))

    # ------------------------------------------------------------------ api_set_mapping
    def test_set_mapping_validation(self):
        mig = self.new_migration()
        cases = [
            ("not a list", "api_set_mapping expects a list"),
            (["not a struct"], "line 0"),
            ([dict(LINES[0], color="red")], "color"),
            ([LINES[0], dict(LINES[1], object="")], "line 1: key 'object'"),
            ([dict(LINES[0], column=None)], "key 'column'"),
            ([dict(LINES[0], action="merge")], "key 'action'"),
            ([dict(LINES[0], kind="colour")], "key 'kind'"),
            ([LINES[0], LINES[1], dict(LINES[2], confidence=1.5)], "line 2: key 'confidence'"),
            ([dict(LINES[0], confidence=True)], "key 'confidence'"),
            ([dict(LINES[0], samples="a,b")], "key 'samples'"),
            ([dict(LINES[0], field=None)], "key 'field'"),
            ([dict(LINES[0], label=3)], "key 'label'"),
            ([dict(LINES[2], ttype=7)], "key 'ttype'"),
        ]
        for lines, message in cases:
            with self.subTest(message=message), self.assertRaises(ValidationError) as caught:
                mig.api_set_mapping(lines)
            self.assertIn(message, str(caught.exception))
        self.assertFalse(mig.mapping_line_ids)

    def test_set_mapping_lines(self):
        mig = self.new_migration()
        # a company line between contact lines: lines of one object stay together, in first-seen order
        mig.api_set_mapping([LINES[0], LINES[4], LINES[1], LINES[2], LINES[3]])
        lines = mig.mapping_line_ids
        self.assertEqual(lines.mapped("column"), ["Email Address", "Phone", "Shoe size", "Fax", "Company Name"])
        by_column = self.lines_of(mig)
        email = by_column[("contact", "Email Address")]
        self.assertEqual(email.field_id, self.field("res.partner", "email"))
        self.assertEqual((email.action, email.staged_action, email.proposed_field), ("map", "map", "email"))
        self.assertEqual((email.kind, email.confidence_level), ("email", "high"))
        # a Float field read back: 17's float_round gives 0.9500000000000001 for 0.95
        self.assertAlmostEqual(email.confidence, 0.95, places=9)
        self.assertEqual(email.samples, "ada@example.com | bob@example.com")
        self.assertFalse(email.changed)
        self.assertEqual(by_column[("contact", "Phone")].confidence_level, "medium")
        shoe = by_column[("contact", "Shoe size")]
        # the custom field does not exist yet: the x_ name is kept, with its label and type
        self.assertFalse(shoe.field_id)
        self.assertEqual((shoe.action, shoe.proposed_field, shoe.new_field_label, shoe.new_field_type),
                         ("create", "x_shoe_size", "Shoe size", "char"))
        self.assertEqual(shoe.confidence_level, "low")
        self.assertFalse(shoe.changed)
        fax = by_column[("contact", "Fax")]
        self.assertEqual((fax.action, fax.field_id.id, fax.proposed_field), ("ignore", False, False))
        self.assertEqual(by_column[("company", "Company Name")].field_id, self.field("res.partner", "name"))

        # a custom field type the admin cannot pick here, a staged field this database does not know:
        # both kept as staged
        mig.api_set_mapping([line("Colour", "x_colour", action="create", ttype="selection", label="Colour"),
                             line("Odd", "not_a_field", kind="empty")])
        colour, odd = mig.mapping_line_ids
        self.assertEqual((colour.new_field_type, colour.staged_ttype, colour.changed), (False, "selection", False))
        self.assertEqual(colour._decision(), {"object": "contact", "column": "Colour", "action": "create",
                                              "field": "x_colour", "ttype": "selection", "label": "Colour"})
        self.assertEqual((odd.field_id.id, odd.changed), (False, False))
        self.assertEqual(odd._decision()["field"], "not_a_field")
        (colour | odd)._check_decision()

        # replaced as a whole by the next call
        mig.api_set_mapping([LINES[1]])
        self.assertEqual(mig.mapping_line_ids.mapped("column"), ["Phone"])
        mig.api_set_mapping([])
        self.assertFalse(mig.mapping_line_ids)

    def test_compatible_fields(self):
        mig = self.new_migration()
        mig.api_set_mapping([
            LINES[0],
            line("Opted in", "is_company", kind="boolean", ttype="boolean"),
            line("Country", "country_id", kind="text", ttype="many2one"),
            line("Notes", None, kind="empty", action="ignore", ttype=None),
        ])
        by_column = self.lines_of(mig)
        email, opted, country, notes = (by_column[("contact", c)] for c in ("Email Address", "Opted in", "Country",
                                                                            "Notes"))
        # an email column: text fields only
        self.assertTrue(self.allowed(email, "res.partner", "email"))
        self.assertTrue(self.allowed(email, "res.partner", "comment"))  # html
        self.assertFalse(self.allowed(email, "res.partner", "is_company"))  # boolean
        self.assertFalse(self.allowed(email, "res.partner", "color"))  # integer
        self.assertFalse(self.allowed(email, "res.partner", "parent_id"))  # relational, not proposed
        self.assertFalse(self.allowed(email, "res.partner", "create_date"))  # bookkeeping
        self.assertFalse(self.allowed(email, "res.partner", "commercial_company_name"))  # computed, read-only
        self.assertFalse(self.allowed(email, "crm.lead", "email_from"))  # another model
        # a boolean column: boolean (and char) fields
        self.assertTrue(self.allowed(opted, "res.partner", "is_company"))
        self.assertTrue(self.allowed(opted, "res.partner", "active"))
        self.assertTrue(self.allowed(opted, "res.partner", "email"))
        self.assertFalse(self.allowed(opted, "res.partner", "source_create_date"))
        # a relational field is offered when it is what was staged
        self.assertEqual(country.field_id, self.field("res.partner", "country_id"))
        self.assertTrue(self.allowed(country, "res.partner", "country_id"))
        self.assertFalse(self.allowed(country, "res.partner", "state_id"))
        self.assertTrue(self.allowed(country, "res.partner", "type"))  # selection for text
        # an empty column: any simple field
        for name in ("email", "is_company", "color", "source_create_date", "comment"):
            self.assertTrue(self.allowed(notes, "res.partner", name), name)
        self.assertFalse(self.allowed(notes, "res.partner", "category_id"))
        # custom fields of another purpose are not offered, those a migration created are
        partner_model = self.env["ir.model"]._get_id("res.partner")
        other, migrated = self.env["ir.model.fields"].create([
            {"name": "x_mig_other_purpose", "field_description": "Other purpose", "ttype": "char",
             "model_id": partner_model, "state": "manual"},
            {"name": "x_mig_from_source", "field_description": "From source", "ttype": "char",
             "model_id": partner_model, "state": "manual"},
        ])
        self.Link.create({"migration_id": mig.id, "key": "testsrc:field:from_source", "model": "ir.model.fields",
                          "res_id": migrated.id, "action": "created"})
        email.invalidate_recordset(["field_domain"])
        self.assertFalse(self.allowed(email, "res.partner", other.name))
        self.assertTrue(self.allowed(email, "res.partner", migrated.name))
        # the choice is checked against the same rule
        with self.assertRaises(ValidationError):
            email.field_id = self.field("res.partner", "is_company")
        opted.field_id = self.field("res.partner", "active")
        self.assertTrue(opted.changed)

    # ------------------------------------------------------------------ confirm
    def test_confirm_unchanged(self):
        mig = self.uploaded_migration()
        with self.assertRaises(UserError):  # commits wait for the mapping
            mig.api_commit()
        self.assertFalse(mig.mapping_changed)
        calls = []
        with patch.object(type(mig), "_queue_job", lambda self_, kind: calls.append(kind), create=True):
            mig.action_confirm_mapping()
        self.assertEqual(calls, [])
        self.assertEqual(mig.state, "mapped")
        self.assertTrue(mig.mapping_confirmed)
        self.assertFalse(mig.upload_mapping_json)

        saved = self.env["crm.migration.saved.map"].search([("source", "=", "testsrc")])
        self.assertEqual(len(saved), len(LINES))
        email = saved.filtered(lambda s: s.column == "Email Address")
        self.assertEqual((email.object, email.action, email.field_name, email.ttype, email.migration_id),
                         ("contact", "map", "email", "char", mig))
        shoe = saved.filtered(lambda s: s.column == "Shoe size")
        self.assertEqual((shoe.action, shoe.field_name, shoe.ttype, shoe.label),
                         ("create", "x_shoe_size", "char", "Shoe size"))
        fax = saved.filtered(lambda s: s.column == "Fax")
        self.assertEqual((fax.action, fax.field_name), ("ignore", False))

        decisions = mig._saved_decisions()
        self.assertEqual(len(decisions), len(LINES))
        self.assertIn({"object": "contact", "column": "Email Address", "action": "map", "field": "email",
                       "ttype": "char", "label": email.label}, decisions)
        self.assertIn({"object": "contact", "column": "Shoe size", "action": "create", "field": "x_shoe_size",
                       "ttype": "char", "label": "Shoe size"}, decisions)
        self.assertIn({"object": "contact", "column": "Fax", "action": "ignore", "field": None, "ttype": None,
                       "label": None}, decisions)
        # a later migration of the same source gets them; another source does not
        self.assertEqual(sorted(map(json.dumps, self.new_migration("Later")._saved_decisions())),
                         sorted(map(json.dumps, decisions)))
        other = self.Migration.browse(self.Migration.api_create({"name": "Other", "source": "othersrc"}))
        self.assertEqual(other._saved_decisions(), [])

        # committing is allowed now; confirming again is not once sampled or committed
        mig.api_commit()
        with self.assertRaises(UserError):
            mig.action_confirm_mapping()

    def test_confirm_changed(self):
        mig = self.uploaded_migration()
        by_column = self.lines_of(mig)
        by_column[("contact", "Email Address")].action = "ignore"
        by_column[("contact", "Phone")].field_id = self.field("res.partner", OTHER_FIELD)
        by_column[("contact", "Fax")].write({"action": "create", "new_field_label": "Fax number",
                                             "new_field_type": "char"})
        self.assertEqual(mig.mapping_line_ids.filtered("changed").mapped("column"),
                         ["Email Address", "Phone", "Fax"])
        self.assertTrue(mig.mapping_changed)

        calls = []
        with patch.object(type(mig), "_queue_job", lambda self_, kind: calls.append((self_, kind)), create=True):
            mig.action_confirm_mapping()
        self.assertEqual(calls, [(mig, "upload")])
        self.assertEqual(mig.state, "uploaded")  # the bridge stages again, then api_finish_staging
        self.assertTrue(mig.mapping_confirmed)
        decisions = json.loads(mig.upload_mapping_json)
        self.assertEqual(decisions, [ln._decision() for ln in mig.mapping_line_ids])
        self.assertEqual(decisions, [
            {"object": "contact", "column": "Email Address", "action": "ignore", "field": None, "ttype": None,
             "label": None},
            {"object": "contact", "column": "Phone", "action": "map", "field": OTHER_FIELD, "ttype": "char",
             "label": self.field("res.partner", OTHER_FIELD).field_description},
            {"object": "contact", "column": "Shoe size", "action": "create", "field": "x_shoe_size",
             "ttype": "char", "label": "Shoe size"},
            {"object": "contact", "column": "Fax", "action": "create", "field": "x_fax_number", "ttype": "char",
             "label": "Fax number"},
            {"object": "company", "column": "Company Name", "action": "map", "field": "name", "ttype": "char",
             "label": self.field("res.partner", "name").field_description},
        ])
        Saved = self.env["crm.migration.saved.map"]
        self.assertEqual(Saved.search_count([("source", "=", "testsrc")]), len(LINES))

        # the bridge stages again with the decisions: new lines, confirmed -> mapped
        mig.api_set_mapping([dict(LINES[0], action="ignore", field=None, ttype=None),
                             dict(LINES[1], field=OTHER_FIELD), LINES[2],
                             line("Fax", "x_fax_number", action="create", label="Fax number"), LINES[4]])
        mig.api_finish_staging()
        self.assertEqual(mig.state, "mapped")
        self.assertFalse(mig.mapping_changed)

        # confirming again updates the saved rows, no duplicates
        by_column = self.lines_of(mig)
        by_column[("contact", "Phone")].field_id = self.field("res.partner", "phone")
        with patch.object(type(mig), "_queue_job", lambda self_, kind: calls.append((self_, kind)), create=True):
            mig.action_confirm_mapping()
        self.assertEqual(len(calls), 2)
        saved = Saved.search([("source", "=", "testsrc")])
        self.assertEqual(len(saved), len(LINES))
        self.assertEqual(saved.filtered(lambda s: s.column == "Phone").field_name, "phone")
        self.assertEqual(saved.filtered(lambda s: s.column == "Fax").mapped("field_name"), ["x_fax_number"])

    def test_confirm_incomplete_or_wrong_state(self):
        mig = self.new_migration()
        mig.api_set_mapping(LINES)
        with self.assertRaises(UserError):  # draft: nothing uploaded yet
            mig.action_confirm_mapping()
        mig = self.uploaded_migration(name="Incomplete")
        self.lines_of(mig)[("contact", "Phone")].field_id = False
        with self.assertRaises(UserError) as caught:
            mig.action_confirm_mapping()
        self.assertIn("Phone", str(caught.exception))
        self.lines_of(mig)[("contact", "Phone")].action = "create"
        self.lines_of(mig)[("contact", "Phone")].new_field_type = False
        with self.assertRaises(UserError):
            mig.action_confirm_mapping()
        self.assertEqual(mig.state, "uploaded")
        self.assertFalse(self.env["crm.migration.saved.map"].search_count([("migration_id", "=", mig.id)]))

    def test_onchange_action_prefills(self):
        mig = self.uploaded_migration()
        fax = self.lines_of(mig)[("contact", "Fax")]
        fax.action = "create"
        fax._onchange_action()
        self.assertEqual((fax.new_field_label, fax.new_field_type), ("Fax", "char"))
        email = self.lines_of(mig)[("contact", "Email Address")]
        email.write({"action": "ignore", "field_id": False})
        email.action = "map"
        email._onchange_action()
        self.assertEqual(email.field_id, self.field("res.partner", "email"))
        self.assertFalse(email.changed)

    def test_same_column_twice_saved_once(self):
        mig = self.uploaded_migration(lines=LINES + [dict(LINES[0], field="email", confidence=0.5)])
        mig.action_confirm_mapping()
        saved = self.env["crm.migration.saved.map"].search([("source", "=", "testsrc")])
        self.assertEqual(len(saved), len(LINES))

    def test_date_order_decision(self):
        """A date column the values leave open: the admin names the order; it goes with the decision
        (the bridge reads the dates so) and is saved for the next migration of the source."""
        mig = self.uploaded_migration(LINES + [line(
            "Signup Date", "x_signup_date", kind="date", action="create", label="Signup Date", confidence=0.4,
            reason="to confirm: day/month order unknown (all 2 values fit both dd/mm and mm/dd)",
            samples=["04/03/2021", "05/12/2020"])])
        signup = self.lines_of(mig)[("contact", "Signup Date")]
        self.assertFalse(signup.changed)
        self.assertNotIn("dateOrder", signup._decision())
        signup.write({"date_order": "dmy", "new_field_type": "datetime"})
        self.assertTrue(signup.changed, "naming the order stages the column again")
        self.assertEqual(signup._decision()["dateOrder"], "dmy")
        calls = []
        with patch.object(type(mig), "_queue_job", lambda self_, kind: calls.append((self_, kind)), create=True):
            mig.action_confirm_mapping()
        self.assertEqual(calls, [(mig, "upload")])
        sent = [d for d in json.loads(mig.upload_mapping_json) if d["column"] == "Signup Date"]
        self.assertEqual(sent, [{"object": "contact", "column": "Signup Date", "action": "create",
                                 "field": "x_signup_date", "ttype": "datetime", "label": "Signup Date",
                                 "dateOrder": "dmy"}])
        saved = self.env["crm.migration.saved.map"].search([("source", "=", "testsrc"), ("column", "=", "Signup Date")])
        self.assertEqual(saved.date_order, "dmy")
        self.assertEqual(saved._decision()["dateOrder"], "dmy")
