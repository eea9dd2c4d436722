import csv
import io

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import MigrationCase


def profile(contact_rows=6, company_rows=2):
    return {
        "source": "testsrc",
        "files": [
            {"file": "companies.csv", "object": "company", "encoding": "utf-8", "rows": company_rows,
             "unknownColumns": []},
            {"file": "contacts_1.csv", "object": "contact", "encoding": "utf-8", "rows": contact_rows - 2,
             "unknownColumns": []},
            {"file": "contacts_2.csv", "object": "contact", "encoding": "utf-8", "rows": 2, "unknownColumns": []},
        ],
        "objects": {"contact": {"model": "res.partner", "records": 5, "withErrors": 1, "withWarnings": 0}},
        "duplicatesMerged": [
            {"object": "contact", "kept": "testsrc:contact:r1", "keptAt": {"file": "contacts_1.csv", "row": 2},
             "merged": {"key": "testsrc:contact:r9", "file": "contacts_2.csv", "row": 3}, "by": "email"},
        ],
    }


@tagged("post_install", "-at_install")
class TestReport(MigrationCase):
    def committed_migration(self, name="Report test"):
        """companies.csv: 2 rows (one fails); contacts: 6 rows (one merged duplicate, one created, one
        matched, one skipped, one failed, one in error); one tag derived from the contacts."""
        self.Partner.create({"name": "Existing Rep", "email": "existing.rep@example.com"})
        mig = self.new_migration(name)
        mig.api_set_profile({"profile": profile(), "inventory_markdown": "# Inventory\n"})
        mig.api_stage([
            self.company("bad", "Rep Bad Co", type="bogus"),
            self.company("good", "Rep Good Co", row=2),
            self.contact("r1", "Rep Ok", "ok.rep@example.com", company="good", tags=["Rep VIP"]),
            self.contact("r2", "Rep Orphan", "orphan.rep@example.com", company="bad", row=2),
            self.contact("r3", None, "noname.rep@example.com", row=3, type="contact"),
            self.staged("testsrc:contact:r4", "contact", "res.partner", {"name": "Rep Broken", "email": "broken"},
                        row=4, issues=[{"level": "error", "field": "email", "message": "not an email",
                                        "file": "contacts_1.csv", "row": 4}]),
            self.contact("r5", "Rep Existing", "existing.rep@example.com", row=5),
            self.tag("Rep VIP"),
        ])
        mig.api_finish_staging()
        with mute_logger("odoo.sql_db"):
            mig.api_commit()
        return mig

    def assert_counts(self, mig, row, obj):
        Record = self.env["crm.migration.record"]
        for state in ("staged", "error", "waiting", "committed", "matched", "skipped", "failed", "rolled_back"):
            self.assertEqual(row[state], Record.search_count(
                [("migration_id", "=", mig.id), ("object", "=", obj), ("state", "=", state)]), f"{obj} {state}")
        self.assertEqual(row["staged_total"], Record.search_count(
            [("migration_id", "=", mig.id), ("object", "=", obj)]))

    def test_rows_add_up(self):
        mig = self.committed_migration()
        self.assertEqual(mig.state, "partial")
        rows = mig._report_rows()
        self.assertEqual([r["object"] for r in rows], ["company", "contact", "tag", "Total"])
        company, contact, tag, total = rows
        for row in (company, contact, tag):
            self.assert_counts(mig, row, row["object"])

        self.assertEqual((contact["source"], contact["merged"], contact["staged_total"]), (6, 1, 5))
        self.assertEqual((contact["committed"], contact["matched"], contact["skipped"], contact["failed"],
                          contact["error"], contact["staged"]), (1, 1, 1, 1, 1, 0))
        self.assertEqual(contact["model"], "res.partner")
        self.assertEqual((company["source"], company["staged_total"], company["committed"], company["failed"]),
                         (2, 2, 1, 1))
        # a derived object: its source count is what was staged
        self.assertFalse(tag["from_file"])
        self.assertEqual((tag["source"], tag["staged_total"], tag["committed"]), (1, 1, 1))
        for row in rows:
            self.assertTrue(row["reconciled"], row)
            self.assertEqual(row["notes"], "")
        self.assertEqual((total["source"], total["merged"], total["staged_total"], total["committed"],
                          total["matched"], total["skipped"], total["failed"], total["error"]),
                         (9, 1, 8, 3, 1, 1, 2, 1))
        self.assertEqual(total["committed"], mig.committed_count)
        self.assertEqual(total["failed"], mig.failed_count)

        html = str(mig.report_html)
        for text in ("company", "contact", "tag", "Total", "text-bg-success"):
            self.assertIn(text, html)

        # a source row that went nowhere: the object and the total do not add up, and say why
        mig.api_set_profile({"profile": profile(contact_rows=7), "inventory_markdown": "# Inventory\n"})
        rows = mig._report_rows()
        contact, total = rows[1], rows[-1]
        self.assertFalse(contact["reconciled"])
        self.assertIn("1 source row(s) neither staged nor merged", contact["notes"])
        self.assertTrue(rows[0]["reconciled"])
        self.assertFalse(total["reconciled"])
        self.assertIn("1 object(s)", total["notes"])
        self.assertIn("table-warning", str(mig.report_html))

        # rolled back: every record is accounted for as rolled back
        mig.api_rollback({"on_conflict": "undo"})
        mig.api_set_profile({"profile": profile(), "inventory_markdown": "# Inventory\n"})
        rows = mig._report_rows()
        self.assertEqual(mig.state, "rolled_back")
        self.assertTrue(mig.rolled_back_count)
        self.assertEqual(rows[-1]["rolled_back"], mig.rolled_back_count)
        for row in rows[:-1]:
            self.assert_counts(mig, row, row["object"])
            self.assertTrue(row["reconciled"], row)

    def test_no_profile(self):
        mig = self.new_migration()
        self.assertFalse(mig.report_html)
        self.assertEqual(mig._report_rows()[0]["object"], "Total")
        mig.api_stage([self.tag("Rep Lonely")])
        rows = mig._report_rows()
        self.assertEqual((rows[0]["object"], rows[0]["source"], rows[0]["staged"], rows[0]["reconciled"]),
                         ("tag", 1, 1, True))
        self.assertTrue(mig.report_html)

    def test_csv(self):
        mig = self.committed_migration()
        data = mig._report_csv()
        self.assertIsInstance(data, bytes)
        table = list(csv.reader(io.StringIO(data.decode("utf-8"))))
        header = table[0]
        self.assertEqual(header[:3], ["Object", "Odoo model", "Source rows"])
        self.assertEqual(len(table), 1 + 4)
        rows = {r[0]: dict(zip(header, r, strict=True)) for r in table[1:]}
        self.assertEqual(set(rows), {"company", "contact", "tag", "Total"})
        contact = rows["contact"]
        self.assertEqual((contact["Source rows"], contact["Duplicates merged"], contact["Staged"],
                          contact["Created"], contact["Matched"], contact["Skipped"], contact["Failed"],
                          contact["Errors"], contact["Reconciled"]), ("6", "1", "5", "1", "1", "1", "1", "1", "yes"))
        self.assertEqual(rows["Total"]["Created"], str(mig.committed_count))
        self.assertEqual(mig._report_filename("csv"), f"migration-{mig.id}-report-test-report.csv")

    def test_pdf(self):
        mig = self.committed_migration(name="Report PDF test")
        pdf = mig._report_pdf(compress=False)
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertIn(b"Report PDF test", pdf)
        compressed = mig._report_pdf()
        self.assertTrue(compressed.startswith(b"%PDF"))
        self.assertIn(b"Report PDF test", compressed)  # document title
        self.assertLess(len(compressed), len(pdf))
        # any script in names and errors
        other = self.new_migration("Ümlaut ✓ 測試 <b>&amp;")
        other.api_stage([self.tag("Ünïcode ✓ 測試 <i>")])
        self.assertTrue(other._report_pdf().startswith(b"%PDF"))


@tagged("post_install", "-at_install")
class TestReportDownload(HttpCase):
    def test_routes(self):
        Migration = self.env["crm.migration"]
        mig = Migration.browse(Migration.api_create({"name": "Route test", "source": "testsrc"}))
        mig.api_stage([MigrationCase.staged("testsrc:tag:route", "tag", "res.partner.category", {"name": "Route"})])
        self.authenticate("admin", "admin")
        response = self.url_open(f"/crm_migration/{mig.id}/report.csv")
        self.assertEqual(response.status_code, 200)
        self.assertIn("text/csv", response.headers["Content-Type"])
        self.assertIn("attachment", response.headers["Content-Disposition"])
        self.assertIn(f"migration-{mig.id}-route-test-report.csv", response.headers["Content-Disposition"])
        self.assertIn("tag", response.content.decode("utf-8"))
        response = self.url_open(f"/crm_migration/{mig.id}/report.pdf")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        with mute_logger("odoo.http"):
            self.assertEqual(self.url_open(f"/crm_migration/{mig.id + 100000}/report.csv").status_code, 404)
        new_test_user(self.env, login="mig_report_plain", groups="base.group_user")
        self.authenticate("mig_report_plain", "mig_report_plain")
        with mute_logger("odoo.http"):
            self.assertEqual(self.url_open(f"/crm_migration/{mig.id}/report.csv").status_code, 403)


@tagged("post_install", "-at_install")
class TestReportDescribes(MigrationCase):
    def test_custom_field_list_is_reported_apart(self):
        """A custom-field list file: its rows describe custom fields, they are not records that went
        missing; the total's source rows do not count them twice."""
        mig = self.new_migration("Describes")
        data = profile()
        data["files"].append({"file": "custom_fields.csv", "object": "custom_field_schema", "encoding": "utf-8",
                              "rows": 2, "unknownColumns": [], "describes": "custom_field"})
        mig.api_set_profile({"profile": data, "inventory_markdown": "# Inventory\n"})
        mig.api_stage([self.company("c1", "Desc Co"), self.company("c2", "Desc Co 2", row=2)])
        rows = {row["object"]: row for row in mig._report_rows()}
        schema = rows["custom_field_schema"]
        self.assertTrue(schema["reconciled"])
        self.assertEqual((schema["source"], schema["staged_total"]), (2, 0))
        self.assertIn("custom_field", schema["notes"])
        self.assertEqual(rows["Total"]["source"], rows["company"]["source"] + rows["contact"]["source"])


@tagged("post_install", "-at_install")
class TestReportFiles(MigrationCase):
    def test_every_file_reconciled(self):
        """Each uploaded file: its rows == records staged from it + rows merged as duplicates + rows
        left out by choice; a file whose rows went missing does not add up and says how many."""
        mig = self.new_migration("Files report")
        mig.api_set_profile({"profile": {
            "source": "testsrc",
            "files": [
                {"file": "contacts_a.csv", "object": "contact", "encoding": "utf-8", "rows": 2, "unknownColumns": []},
                {"file": "contacts_b.csv", "object": "contact", "encoding": "utf-8", "rows": 2, "unknownColumns": []},
                {"file": "events.csv", "object": "event", "encoding": "utf-8", "rows": 3, "unknownColumns": []},
                {"file": "calls.csv", "object": "call", "encoding": "utf-8", "rows": 4, "unknownColumns": []},
                {"file": "fields.csv", "object": "custom_field_list", "encoding": "utf-8", "rows": 5,
                 "unknownColumns": [], "describes": "custom_field"},
            ],
            "duplicatesMerged": [
                {"object": "contact", "kept": "testsrc:contact:a1", "keptAt": {"file": "contacts_a.csv", "row": 2},
                 "merged": {"key": "testsrc:contact:a1", "file": "contacts_b.csv", "row": 2}, "by": "key"},
            ],
            "targets": [{"object": "event", "chosen": None, "model": None, "requires": ["calendar"],
                         "missingApps": [], "decision": "skipped by choice", "choices": []}],
        }, "inventory_markdown": "# Inventory\n"})
        mig.api_stage([
            self.staged("testsrc:contact:a1", "contact", "res.partner", {"name": "File A1", "email": "a1@example.com"},
                        row=2, file="contacts_a.csv"),
            self.staged("testsrc:contact:a2", "contact", "res.partner", {"name": "File A2", "email": "a2@example.com"},
                        row=3, file="contacts_a.csv"),
            self.staged("testsrc:contact:b2", "contact", "res.partner", {"name": "File B2", "email": "b2@example.com"},
                        row=3, file="contacts_b.csv"),
            self.staged("testsrc:contact:c1", "call", "res.partner", {"name": "File C1"}, row=2, file="calls.csv",
                        issues=[{"level": "error", "field": "x", "message": "bad row", "file": "calls.csv", "row": 2}]),
        ])
        mig.api_finish_staging()
        mig.api_commit()
        rows = {row["file"]: row for row in mig.api_report_files()}
        self.assertEqual(list(rows), ["contacts_a.csv", "contacts_b.csv", "events.csv", "calls.csv"])
        self.assertEqual({k: rows["contacts_a.csv"][k] for k in ("rows", "staged", "merged", "in_odoo", "reconciled")},
                         {"rows": 2, "staged": 2, "merged": 0, "in_odoo": 2, "reconciled": True})
        self.assertEqual({k: rows["contacts_b.csv"][k] for k in ("rows", "staged", "merged", "reconciled")},
                         {"rows": 2, "staged": 1, "merged": 1, "reconciled": True})
        self.assertEqual({k: rows["events.csv"][k] for k in ("rows", "staged", "left_out", "reconciled")},
                         {"rows": 3, "staged": 0, "left_out": 3, "reconciled": True})
        self.assertIn("left out by choice", rows["events.csv"]["notes"])
        self.assertEqual({k: rows["calls.csv"][k] for k in ("rows", "staged", "errors", "reconciled")},
                         {"rows": 4, "staged": 1, "errors": 1, "reconciled": False})
        self.assertIn("3 row(s) neither staged nor merged", rows["calls.csv"]["notes"])
        html = str(mig.report_html)
        self.assertIn("Source files", html)
        self.assertIn("contacts_b.csv", html)
