"""Reconciliation report of a migration: for each object, the rows read from the source files
and where every one of them went (staged, merged as a duplicate, created, matched, skipped,
failed, waiting for an owner, in error, rolled back), with a check that the numbers add up.
Shown on the Report page of the form, served as CSV and PDF by controllers/main.py."""

import csv
import io
import os
import re
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from odoo import api, fields, models

from .crm_migration_record import RECORD_STATES

MAX_PROBLEMS = 200
# columns of the report after object/model/source/merged/staged: one per record state
COUNT_STATES = ("staged", "error", "waiting", "committed", "matched", "skipped", "failed", "conflict", "rolled_back")
PDF_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
PDF_FONT = "CrmMigrationSans"


def _as_dict(value):
    return value if isinstance(value, dict) else {}


def _as_list(value):
    return value if isinstance(value, list) else []


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    report_html = fields.Html(string="Reconciliation", compute="_compute_report_html", sanitize=False)

    # ------------------------------------------------------------------ rows
    def _report_columns(self):
        """(key, label) of the report's columns, in order."""
        _ = self.env._
        return [
            ("object", _("Object")),
            ("model", _("Odoo model")),
            ("source", _("Source rows")),
            ("merged", _("Duplicates merged")),
            ("staged_total", _("Staged")),
            ("staged", _("Not committed yet")),
            ("error", _("Errors")),
            ("waiting", _("Waiting for owner")),
            ("committed", _("Created")),
            ("matched", _("Matched")),
            ("skipped", _("Skipped")),
            ("failed", _("Failed")),
            ("conflict", _("Delta conflicts")),
            ("rolled_back", _("Rolled back")),
            ("reconciled", _("Reconciled")),
            ("notes", _("What does not add up")),
        ]

    def _report_rows(self):
        """One dict per object, then the total row (``object`` = "Total", ``is_total`` True).

        ``source``: rows of the object's files (profile); for an object without a file of its own
        (derived from other files: tags, companies of contacts, custom fields...) the staged count.
        ``staged_total``: every staged record; ``staged``..``rolled_back``: records per state.
        ``reconciled``: source == staged_total + merged and staged_total == the sum of the states;
        ``notes`` says what does not add up."""
        self.ensure_one()
        _ = self.env._
        profile = _as_dict(self.profile_json)
        file_rows, file_objects, describes = self._report_profile_files(profile)
        merged = {}
        for dup in _as_list(profile.get("duplicatesMerged")):
            obj = _as_dict(dup).get("object")
            if isinstance(obj, str) and obj:
                merged[obj] = merged.get(obj, 0) + 1
        profile_models = {name: _as_dict(o).get("model") for name, o in _as_dict(profile.get("objects")).items()}

        counts, models_ = {}, {}
        for obj, model, state, count in self.env["crm.migration.record"]._read_group(
            [("migration_id", "=", self.id)], ["object", "model", "state"], ["__count"]
        ):
            counts.setdefault(obj, dict.fromkeys((s for s, _label in RECORD_STATES), 0))
            counts[obj][state] = counts[obj].get(state, 0) + count
            models_.setdefault(obj, model)

        objects = file_objects + sorted(set(counts) - set(file_objects))
        rows = []
        for obj in objects:
            by_state = counts.get(obj, {})
            staged_total = sum(by_state.values())
            from_file = obj in file_rows
            row = {
                "object": obj,
                "model": models_.get(obj) or profile_models.get(obj) or "",
                "from_file": from_file,
                "source": file_rows[obj] if from_file else staged_total,
                "merged": merged.get(obj, 0),
                "staged_total": staged_total,
                "is_total": False,
            }
            for state in COUNT_STATES:
                row[state] = by_state.get(state, 0)
            rows.append(self._reconcile_row(row, by_state))
        for obj, (count, target) in describes.items():
            row = {"object": obj, "model": "", "from_file": True, "source": count, "merged": 0, "staged_total": 0,
                   "is_total": False, "reconciled": True,
                   "notes": _("rows describe %(target)s records (counted there), not records of their own",
                              target=target)}
            row.update(dict.fromkeys(COUNT_STATES, 0))
            rows.append(row)

        rows.append(self._report_total_row(rows, describes))
        return rows

    @staticmethod
    def _report_profile_files(profile):
        """``(rows read per object, objects in file order, {object: (rows, described object)})``
        of the profile's files; a file whose rows describe other records (a custom-field list)
        is reported apart."""
        file_rows, file_objects, describes = {}, [], {}
        for file_ in _as_list(profile.get("files")):
            file_ = _as_dict(file_)
            obj = file_.get("object")
            if isinstance(obj, str) and obj and file_.get("describes"):
                describes[obj] = (describes.get(obj, (0, file_["describes"]))[0] + _int(file_.get("rows")),
                                  file_["describes"])
                continue
            if isinstance(obj, str) and obj:
                if obj not in file_rows:
                    file_objects.append(obj)
                file_rows[obj] = file_rows.get(obj, 0) + _int(file_.get("rows"))
        return file_rows, file_objects, describes

    def _report_total_row(self, rows, describes):
        _ = self.env._
        total = {"object": _("Total"), "model": "", "from_file": True, "is_total": True}
        for key in ("source", "merged", "staged_total") + COUNT_STATES:
            total[key] = sum(row[key] for row in rows if key != "source" or row["object"] not in describes)
        total["reconciled"] = all(row["reconciled"] for row in rows)
        total["notes"] = "" if total["reconciled"] else _(
            "%(count)s object(s) do not add up", count=sum(1 for row in rows if not row["reconciled"]))
        return total

    def _report_file_rows(self):
        """One dict per uploaded file (profile order): ``file``, ``object``, ``rows`` read from it,
        ``staged`` (records of the file's object whose source file it is), ``merged`` (its rows
        merged as duplicates into another row), ``errors``, ``in_odoo`` (committed or matched),
        ``left_out`` (rows left out by the admin's choice), ``reconciled`` (rows == staged + merged
        + left out) and ``notes``. Rows of a file that describes other records (a custom-field
        list) are counted where they land, not here."""
        self.ensure_one()
        _ = self.env._
        profile = _as_dict(self.profile_json)
        skipped = {_as_dict(t).get("object") for t in _as_list(profile.get("targets"))
                   if _as_dict(t).get("decision") == "skipped by choice"}
        merged = {}
        for dup in _as_list(profile.get("duplicatesMerged")):
            dup = _as_dict(dup)
            where = (dup.get("object"), _as_dict(dup.get("merged")).get("file"))
            merged[where] = merged.get(where, 0) + 1
        staged = {}
        for source_file, obj, state, count in self.env["crm.migration.record"]._read_group(
            [("migration_id", "=", self.id)], ["source_file", "object", "state"], ["__count"]
        ):
            entry = staged.setdefault((obj, source_file or ""), {})
            entry[state] = entry.get(state, 0) + count
        rows = []
        for file_ in _as_list(profile.get("files")):
            file_ = _as_dict(file_)
            name, obj = file_.get("file"), file_.get("object")
            if not isinstance(name, str) or not isinstance(obj, str) or file_.get("describes"):
                continue
            by_state = staged.get((obj, name), {})
            row = {
                "file": name, "object": obj, "rows": _int(file_.get("rows")),
                "staged": sum(by_state.values()), "merged": merged.get((obj, name), 0),
                "errors": by_state.get("error", 0),
                "in_odoo": by_state.get("committed", 0) + by_state.get("matched", 0),
            }
            row["left_out"] = row["rows"] - row["staged"] - row["merged"] if obj in skipped else 0
            diff = row["rows"] - row["staged"] - row["merged"] - row["left_out"]
            row["reconciled"] = diff == 0
            notes = []
            if row["left_out"]:
                notes.append(_("%(count)s row(s) left out by choice", count=row["left_out"]))
            if diff > 0:
                notes.append(_("%(count)s row(s) neither staged nor merged", count=diff))
            elif diff < 0:
                notes.append(_("%(count)s more staged or merged than rows", count=-diff))
            row["notes"] = "; ".join(notes)
            rows.append(row)
        return rows

    def api_report_files(self):
        """Per uploaded file: its rows reconciled against what was staged (``_report_file_rows``)."""
        self.ensure_one()
        self._check_manager()
        return self._report_file_rows()

    def _reconcile_row(self, row, by_state):
        _ = self.env._
        notes = []
        accounted = row["staged_total"] + row["merged"]
        if row["from_file"] and row["source"] != accounted:
            diff = row["source"] - accounted
            if diff > 0:
                notes.append(_("%(count)s source row(s) neither staged nor merged", count=diff))
            else:
                notes.append(_("%(count)s more staged or merged than source rows", count=-diff))
        by_states = sum(row[state] for state in COUNT_STATES)
        if by_states != row["staged_total"]:
            other = {state: n for state, n in by_state.items() if state not in COUNT_STATES and n}
            notes.append(_("%(count)s staged record(s) in no reported state %(states)s",
                           count=row["staged_total"] - by_states,
                           states=", ".join(f"{s}: {n}" for s, n in other.items())))
        row["reconciled"] = not notes
        if row["staged"] and self.state in ("committed", "partial"):
            notes.append(_("%(count)s staged record(s) not committed yet", count=row["staged"]))
        row["notes"] = "; ".join(notes)
        return row

    def _report_problems(self, limit=MAX_PROBLEMS):
        """Failed and skipped records (first ``limit``): key, object, state, file:row, error."""
        self.ensure_one()
        records = self.env["crm.migration.record"].search(
            [("migration_id", "=", self.id), ("state", "in", ("failed", "skipped"))], order="id", limit=limit)
        states = dict(RECORD_STATES)
        return [{
            "key": record.key,
            "object": record.object,
            "state": states.get(record.state, record.state),
            "where": ":".join(str(p) for p in (record.source_file, record.source_row) if p),
            "error": record.error_message or "",
        } for record in records]

    def _report_cell(self, row, key):
        value = row.get(key)
        if key == "reconciled":
            return self.env._("yes") if value else self.env._("no")
        return "" if value is None else value

    def _report_filename(self, extension):
        self.ensure_one()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", self.name or "").strip("-").lower() or "migration"
        return f"migration-{self.id}-{slug[:60]}-report.{extension}"

    # ------------------------------------------------------------------ HTML
    @api.depends("record_ids.state", "profile_json", "state")
    def _compute_report_html(self):
        for migration in self:
            migration.report_html = migration._render_report_html() if migration.id else False

    def _render_report_html(self):
        """The Report page (template ``crm_migration.report_page``): one row per object and the
        total, then the per-file table; False before anything was staged."""
        columns = [c for c in self._report_columns() if c[0] != "model"]
        rows = self._report_rows()
        if len(rows) == 1 and not rows[0]["staged_total"] and not rows[0]["source"]:
            return False
        return self.env["ir.qweb"]._render("crm_migration.report_page", {
            "columns": columns,
            "rows": [{
                "class": "fw-bold table-light" if row["is_total"] else ("" if row["reconciled"] else "table-warning"),
                "reconciled": row["reconciled"],
                "cells": [(key, self._report_cell(row, key)) for key, _label in columns],
            } for row in rows],
            "files": self._report_files_table(),
        })

    def _report_files_table(self):
        """The per-file table's columns and rows: each uploaded file's rows against what was
        staged from it (template ``crm_migration.report_files``), or None."""
        _ = self.env._
        rows = self._report_file_rows()
        if not rows:
            return None
        labels = [("file", _("File")), ("object", _("Object")), ("rows", _("Rows")), ("staged", _("Staged")),
                  ("merged", _("Duplicates merged")), ("left_out", _("Left out")), ("errors", _("Errors")),
                  ("in_odoo", _("In Odoo")), ("reconciled", _("Reconciled")), ("notes", _("What does not add up"))]
        return {"columns": labels, "rows": [{
            "class": "" if row["reconciled"] else "table-warning",
            "reconciled": row["reconciled"],
            "cells": [(key, (_("yes") if row["reconciled"] else _("no")) if key == "reconciled" else row[key])
                      for key, _label in labels],
        } for row in rows]}

    # ------------------------------------------------------------------ CSV / PDF
    def _report_csv(self):
        """The report as CSV (UTF-8 bytes): a header row, one row per object and the total."""
        self.ensure_one()
        columns = self._report_columns()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([label for _key, label in columns])
        for row in self._report_rows():
            writer.writerow([self._report_cell(row, key) for key, _label in columns])
        return out.getvalue().encode("utf-8")

    @api.model
    def _report_pdf_fonts(self):
        """(regular, bold): DejaVu Sans (covers far more than Latin-1) when installed, else Helvetica."""

        if PDF_FONT not in pdfmetrics.getRegisteredFontNames():
            for folder in PDF_FONT_DIRS:
                regular = os.path.join(folder, "DejaVuSans.ttf")
                bold = os.path.join(folder, "DejaVuSans-Bold.ttf")
                if os.path.isfile(regular) and os.path.isfile(bold):
                    try:
                        pdfmetrics.registerFont(TTFont(PDF_FONT, regular))
                        pdfmetrics.registerFont(TTFont(f"{PDF_FONT}-Bold", bold))
                    except Exception:  # noqa: BLE001 - unreadable font file: fall back to the core fonts
                        return "Helvetica", "Helvetica-Bold"
                    break
            else:
                return "Helvetica", "Helvetica-Bold"
        return PDF_FONT, f"{PDF_FONT}-Bold"

    def _report_pdf(self, compress=True):
        """The report as PDF bytes (reportlab): title, migration, the table, failed/skipped records."""
        self.ensure_one()

        font, bold = self._report_pdf_fonts()
        styles = getSampleStyleSheet()
        for style in styles.byName.values():
            if hasattr(style, "fontName"):
                style.fontName = bold if "Bold" in style.fontName else font
        small = styles["BodyText"].clone("crm_small", fontSize=7, leading=8.5)
        pdf = {"styles": styles, "small": small, "small_bold": small.clone("crm_small_bold", fontName=bold),
               "para": lambda text, style=small: Paragraph(xml_escape(str(text)), style)}

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
            bottomMargin=12 * mm, title=self.env._("Migration report: %(name)s", name=self.name),
            author=self.env.user.name, subject=self.name, invariant=1, pageCompression=1 if compress else 0,
        )
        pdf["width"] = doc.width
        doc.build(self._report_pdf_header(pdf) + self._report_pdf_table(pdf) + self._report_pdf_problems(pdf))
        return buffer.getvalue()

    def _report_pdf_header(self, pdf):
        """Title and the migration's name, source, state and dates."""

        _ = self.env._
        para, body = pdf["para"], pdf["styles"]["BodyText"]
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        story = [
            Paragraph(xml_escape(_("Migration report")), pdf["styles"]["Title"]),
            para(_("Migration: %(name)s", name=self.name), body),
            para(_("Source: %(system)s", system=self.source or "-"), body),
            para(_("State: %(state)s", state=state_labels.get(self.state, self.state)), body),
            para(_("Created: %(date)s", date=fields.Datetime.to_string(self.create_date) or "-"), body),
            para(_("Last commit: %(date)s", date=fields.Datetime.to_string(self.commit_date) or "-"), body),
        ]
        if self.rollback_date:
            story.append(para(_("Rolled back on: %(date)s", date=fields.Datetime.to_string(self.rollback_date)),
                              body))
        story.append(Spacer(1, 5 * mm))
        return story

    def _report_pdf_table(self, pdf):
        """The reconciliation table (rows that do not add up on a yellow background)."""

        para = pdf["para"]
        columns = [c for c in self._report_columns() if c[0] != "model"]
        rows = self._report_rows()
        data = [[para(label) for _key, label in columns]]
        data += [[para(self._report_cell(row, key), pdf["small_bold"] if row["is_total"] else pdf["small"])
                  for key, _label in columns] for row in rows]
        widths = [26 * mm] + [17 * mm] * (len(columns) - 2) + [0]
        widths[-1] = pdf["width"] - sum(widths[:-1])
        table = Table(data, colWidths=widths, repeatRows=1)
        table_style = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
            ("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1), colors.HexColor("#f8f9fa")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        for index, row in enumerate(rows, start=1):
            if not row["reconciled"]:
                table_style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#fff3cd")))
        table.setStyle(TableStyle(table_style))
        return [table]

    def _report_pdf_problems(self, pdf):
        """The failed and skipped records (the first ``MAX_PROBLEMS``)."""

        _ = self.env._
        para, body = pdf["para"], pdf["styles"]["BodyText"]
        problems = self._report_problems()
        story = [Spacer(1, 6 * mm), Paragraph(xml_escape(_("Failed and skipped records")), pdf["styles"]["Heading2"])]
        if not problems:
            return story + [para(_("None."), body)]
        total = self.failed_count + self.skipped_count
        if total > len(problems):
            story.append(para(_("The first %(shown)s of %(total)s.", shown=len(problems), total=total), body))
        problem_data = [[para(h) for h in (_("Key"), _("Object"), _("State"), _("File:row"), _("Error"))]]
        problem_data += [[para(p["key"]), para(p["object"]), para(p["state"]), para(p["where"]),
                          para(p["error"])] for p in problems]
        problem_widths = [60 * mm, 25 * mm, 20 * mm, 40 * mm, 0]
        problem_widths[-1] = pdf["width"] - sum(problem_widths[:-1])
        problem_table = Table(problem_data, colWidths=problem_widths, repeatRows=1)
        problem_table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        return story + [problem_table]

    # ------------------------------------------------------------------ UI
    def _report_url(self, extension):
        self.ensure_one()
        return f"/crm_migration/{self.id}/report.{extension}"

    def action_download_report_csv(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self._report_url("csv"), "target": "download"}

    def action_download_report_pdf(self):
        self.ensure_one()
        return {"type": "ir.actions.act_url", "url": self._report_url("pdf"), "target": "download"}
