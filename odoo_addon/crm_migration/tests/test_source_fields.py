from datetime import datetime

from odoo.tests import tagged

from .common import MigrationCase

CREATED = "2019-03-04 05:06:07"


@tagged("post_install", "-at_install")
class TestSourceFields(MigrationCase):
    def test_fields_on_models(self):
        for model in ("res.partner", "crm.lead", "calendar.event"):
            with self.subTest(model=model):
                fields_ = self.env[model]._fields
                self.assertEqual(fields_["source_key"].type, "char")
                self.assertTrue(fields_["source_key"].index)
                self.assertTrue(fields_["source_key"].readonly)
                self.assertFalse(fields_["source_key"].copy)
                self.assertEqual(fields_["source_create_date"].type, "datetime")
                self.assertEqual(fields_["source_create_date"].string, "Created in source")
                self.assertFalse(fields_["source_create_date"].copy)

    def test_create_keeps_source_values(self):
        expected = datetime(2019, 3, 4, 5, 6, 7)
        partner = self.env["res.partner"].create({
            "name": "Src Partner", "source_key": "testsrc:contact:1", "source_create_date": CREATED,
        })
        lead = self.env["crm.lead"].create({
            "name": "Src Lead", "source_key": "testsrc:deal:1", "source_create_date": CREATED,
        })
        event = self.env["calendar.event"].with_context(no_mail_to_attendees=True, dont_notify=True).create({
            "name": "Src Event", "start": "2024-05-01 10:00:00", "stop": "2024-05-01 11:00:00",
            "source_key": "testsrc:event:1", "source_create_date": CREATED,
        })
        for record, key in ((partner, "testsrc:contact:1"), (lead, "testsrc:deal:1"), (event, "testsrc:event:1")):
            with self.subTest(model=record._name):
                record.invalidate_recordset()
                self.assertEqual(record.source_create_date, expected)
                self.assertEqual(record.source_key, key)
                self.assertNotEqual(record.create_date, expected)
                copy = record.copy()
                self.assertFalse(copy.source_key)
                self.assertFalse(copy.source_create_date)

    def test_commit_stages_source_create_date(self):
        mig = self.new_migration()
        contact = self.contact("src1", "Src Contact", "src1@example.com", source_create_date=CREATED)
        mig.api_stage([contact])
        mig.api_commit()
        partner = self.partner("src1@example.com")
        self.assertEqual(len(partner), 1)
        self.assertEqual(partner.source_create_date, datetime(2019, 3, 4, 5, 6, 7))
        grouped = self.env["res.partner"]._read_group(
            [("id", "=", partner.id)], ["source_create_date:year"], ["__count"])
        self.assertEqual(grouped[0][1], 1)

    def test_views(self):
        for xmlid in ("crm.view_crm_case_leads_filter", "crm.view_crm_case_opportunities_filter"):
            with self.subTest(view=xmlid):
                arch = self.env["crm.lead"].get_view(self.env.ref(xmlid).id, "search")["arch"]
                self.assertIn('date="source_create_date"', arch)
                self.assertIn("'group_by': 'source_create_date:month'", arch)
        for model, xmlid in (("res.partner", "base.view_partner_form"), ("crm.lead", "crm.crm_lead_view_form"),
                             ("calendar.event", "calendar.view_calendar_event_form")):
            with self.subTest(view=xmlid):
                arch = self.env[model].get_view(self.env.ref(xmlid).id, "form")["arch"]
                self.assertIn('name="source_key"', arch)
                self.assertIn('name="source_create_date"', arch)
        # the lead filter actually filters
        lead = self.env["crm.lead"].create({"name": "Old lead", "source_create_date": CREATED})
        self.assertIn(lead, self.env["crm.lead"].search([("source_create_date", "<", "2020-01-01")]))
