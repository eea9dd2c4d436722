"""Installed apps, pre-migration profile and inventory (docs/staging-contract.md, "Installed apps,
profile and inventory"). The profile is the bridge's ``Profile`` (bridge/src/mapping/profile.ts);
it is rendered defensively: a missing or malformed section is left out, every text is escaped
(QWeb template ``crm_migration.profile_page``, views/crm_migration_profile_templates.xml)."""

import json
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services import contract, paging
from ..services.text_search import search_text_rows

MAX_APP_NAMES = 200


def _as_dict(value):
    return value if isinstance(value, dict) else {}


def _as_list(value):
    return value if isinstance(value, list) else []


def _text(value):
    """Display text of a JSON scalar or list (lists joined by commas); QWeb escapes it."""
    if value is None or value is False:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if v is not None)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    profile_json = fields.Json(string="Profile (JSON)", readonly=True, copy=False,
                               help="Pre-migration profile sent by the bridge: files, objects, duplicates, "
                                    "missing values, custom fields and target models.")
    existing_matches_json = fields.Json(readonly=True, copy=False,
                                        help="Duplicates against Odoo when the profile arrived (_existing_matches).")
    profile_html = fields.Html(string="Profile", compute="_compute_profile_html", sanitize=True)
    inventory_attachment_id = fields.Many2one("ir.attachment", string="Inventory", readonly=True, copy=False,
                                              ondelete="set null",
                                              help="Inventory document (Markdown) of the source export.")

    # ------------------------------------------------------------------ RPC API
    @api.model
    def api_installed_apps(self, names):
        """``[module names]`` -> ``{name: bool}``: whether each module is installed."""
        self._check_manager()
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ValidationError(self.env._("api_installed_apps expects a list of module names."))
        if len(names) > MAX_APP_NAMES:
            raise ValidationError(self.env._("api_installed_apps accepts at most %(max)s names.", max=MAX_APP_NAMES))
        installed = set(self.env["ir.module.module"].sudo().search(
            [("name", "in", names), ("state", "=", "installed")]
        ).mapped("name"))
        return {name: name in installed for name in names}

    def api_set_profile(self, vals):
        """``{"profile": {...}, "inventory_markdown": "..."}``: store the profile and (re)place the
        inventory attachment ``inventory-<id>.md``. Returns True. ``"profile_json": "..."`` (the
        profile as one JSON string) may stand for ``profile``: a profile of a million rows lists
        thousands of merged duplicates, which as nested XML-RPC structs cost the bridge about
        80 MB to marshal (issue #11); as one string, what ``api_stage_json`` does for records."""
        self.ensure_one()
        self._check_manager()
        vals = self._check_struct(vals, "api_set_profile", ("profile", "profile_json", "inventory_markdown"))
        profile = vals.get("profile")
        if "profile_json" in vals:
            if "profile" in vals:
                raise ValidationError(self.env._("api_set_profile: give 'profile' or 'profile_json', not both."))
            if not isinstance(vals["profile_json"], str):
                raise ValidationError(self.env._("api_set_profile: key 'profile_json' must be a string."))
            try:
                profile = json.loads(vals["profile_json"])
            except ValueError as exc:
                raise ValidationError(self.env._("api_set_profile: 'profile_json' is not JSON (%(error)s).",
                                                 error=str(exc))) from None
        markdown = vals.get("inventory_markdown")
        if not isinstance(profile, dict):
            raise ValidationError(self.env._("api_set_profile: key 'profile' must be a struct."))
        wrong = contract.problem("profile", profile, prefix=("profile",))
        if wrong:
            raise ValidationError(self.env._("api_set_profile: %(problem)s", problem=wrong))
        if not isinstance(markdown, str):
            raise ValidationError(self.env._("api_set_profile: key 'inventory_markdown' must be a string."))
        attachment_vals = {
            "name": f"inventory-{self.id}.md",
            "raw": markdown.encode("utf-8"),
            "mimetype": "text/markdown",
            "res_model": self._name,
            "res_id": self.id,
        }
        attachment = self.inventory_attachment_id.exists()
        if attachment:
            attachment.write(attachment_vals)
        else:
            attachment = self.env["ir.attachment"].create(attachment_vals)
        # the records are staged before their profile arrives: count the duplicates against Odoo
        # once here, not on every read of the form
        self.write({"profile_json": profile, "inventory_attachment_id": attachment.id,
                    "existing_matches_json": [list(row) for row in self._existing_matches()]})
        return True

    # ------------------------------------------------------------------ UI
    def action_download_inventory(self):
        self.ensure_one()
        if not self.inventory_attachment_id:
            raise UserError(self.env._("This migration has no inventory."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.inventory_attachment_id.id}?download=true",
            "target": "download",
        }

    @api.depends("profile_json", "existing_matches_json")
    def _compute_profile_html(self):
        for migration in self:
            profile = migration.profile_json
            migration.profile_html = migration._render_profile(profile) if isinstance(profile, dict) else False

    # ------------------------------------------------------------------ rendering
    def _existing_matches(self):
        """Duplicates against Odoo: per object matched on one field (contacts by email), how many
        records still to commit have a value some existing Odoo record already has (compared as
        the commit does, case-insensitively). ``[(object, model, field, staged, in_odoo)]``."""
        self.ensure_one()
        values = defaultdict(list)  # (object, model, field) -> values of the records
        # page by page: a million staged records are never in memory at once (issue #11)
        for page in paging.pages(self.env["crm.migration.record"], [
                ("migration_id", "=", self.id), ("state", "in", ("staged", "error", "waiting"))],
                ["object", "model", "values_json", "match_json"]):
            for row in page:
                rule = next((r for r in (row.match_json or []) if isinstance(r, list) and len(r) == 1), None)
                value = (row.values_json or {}).get(rule[0]) if rule else None
                if isinstance(value, str) and value.strip():
                    values[(row.object, row.model, rule[0])].append(value.strip())
        result = []
        for (obj, model_name, fname), staged in sorted(values.items()):
            if model_name not in self.env or fname not in self.env[model_name]._fields:
                continue
            model = self.env[model_name].sudo().with_context(active_test=False)
            found = {r[fname].strip().lower() for r in search_text_rows(model, [(fname, set(staged), True)], [fname])
                     if isinstance(r[fname], str)}
            hits = sum(1 for v in staged if v.lower() in found)
            if hits:
                result.append((obj, model_name, fname, len(staged), hits))
        return result

    def _render_profile(self, profile):
        """The Profile page (template ``crm_migration.profile_page``), or False when the profile
        has nothing to show."""
        _ = self.env._
        source = profile.get("source")
        issues = _as_dict(profile.get("issues"))
        values = {
            "source": source if isinstance(source, str) and source else False,
            "issues": {"errors": _text(issues.get("errors", 0)), "warnings": _text(issues.get("warnings", 0))}
            if issues else False,
            "tables": [t for t in self._profile_source_tables(profile) + self._profile_target_tables(profile)
                       if t["rows"]],
        }
        if not (values["source"] or values["issues"] or values["tables"]):
            return False
        return self.env["ir.qweb"]._render("crm_migration.profile_page", values)

    @staticmethod
    def _profile_table(title, headers, rows, row_classes=None):
        """One titled table of the Profile page; a cell is a value (shown as text) or a
        ``{"badge": css class, "text": ...}``."""
        return {"title": title, "headers": headers, "row_classes": row_classes or {},
                "rows": [[cell if isinstance(cell, dict) else _text(cell) for cell in row] for row in rows]}

    def _profile_source_tables(self, profile):
        """What the source holds: files, objects, duplicates, matches in Odoo, missing values, flags."""
        _ = self.env._
        table = self._profile_table
        files = [_as_dict(f) for f in _as_list(profile.get("files"))]
        objects = _as_dict(profile.get("objects"))
        per_object = defaultdict(int)
        duplicates = [_as_dict(d) for d in _as_list(profile.get("duplicatesMerged"))]
        for dup in duplicates:
            per_object[dup.get("object") or ""] += 1
        missing = _as_dict(profile.get("missingValues"))
        flags = _as_dict(profile.get("flags"))
        return [
            table(_("Files"), [_("File"), _("Object"), _("Rows"), _("Encoding"), _("Unknown columns")],
                  [[f.get("file"), f.get("object"), f.get("rows"), f.get("encoding"),
                    _as_list(f.get("unknownColumns"))] for f in files if f]),
            table(_("Objects"), [_("Object"), _("Model"), _("Records"), _("With errors"), _("With warnings")],
                  [[name, _as_dict(o).get("model"), _as_dict(o).get("records"), _as_dict(o).get("withErrors"),
                    _as_dict(o).get("withWarnings")] for name, o in sorted(objects.items())]),
            table(_("Duplicates merged (%(count)s)", count=len(duplicates)), [_("Object"), _("Merged")],
                  [[obj, count] for obj, count in sorted(per_object.items())]),
            table(_("Already in Odoo: matched on commit, filled, not duplicated"),
                  [_("Object"), _("Model"), _("Matched on"), _("Staged records"), _("Already in Odoo")],
                  [list(row) for row in self.existing_matches_json or []]),
            table(_("Missing required values"), [_("Object"), _("Field"), _("Records")],
                  [[obj, field, count] for obj, fields_ in sorted(missing.items())
                   for field, count in sorted(_as_dict(fields_).items())]),
            table(_("Flags"), [_("Object"), _("Flag"), _("Records")],
                  [[obj, flag, count] for obj, flags_ in sorted(flags.items())
                   for flag, count in sorted(_as_dict(flags_).items())]),
        ]

    def _profile_target_tables(self, profile):
        """Where it goes: custom fields to create, targets, what is not migrated or lossy."""
        _ = self.env._
        table = self._profile_table
        custom = [_as_dict(c) for c in _as_list(profile.get("customFields"))]
        targets = [t for t in (_as_dict(t) for t in _as_list(profile.get("targets"))) if t]
        target_rows, target_classes = [], {}
        for index, target in enumerate(targets):
            decision = target.get("decision")
            if decision == "app missing":
                decision = {"badge": "text-bg-danger", "text": _text(decision)}
                target_classes[index] = "table-danger"
            target_rows.append([target.get("object"), decision, target.get("model"),
                                _as_list(target.get("missingApps")), _as_list(target.get("choices"))])
        not_migratable = [_as_dict(n) for n in _as_list(profile.get("notMigratable"))]
        lossy = [_as_dict(entry) for entry in _as_list(profile.get("lossy"))]
        return [
            table(_("Custom fields to create"),
                  [_("Model"), _("Name"), _("Label"), _("Type"), _("Options"), _("Origin")],
                  [[c.get("model"), c.get("name"), c.get("label"), c.get("type"), _as_list(c.get("options")),
                    c.get("origin")] for c in custom if c]),
            table(_("Targets"), [_("Object"), _("Decision"), _("Model"), _("Missing apps"), _("Choices")],
                  target_rows, target_classes),
            table(_("Not migrated"), [_("What"), _("Why")],
                  [[n.get("what"), n.get("why")] for n in not_migratable if n]),
            table(_("Lossy columns"), [_("Object"), _("Column"), _("Reason")],
                  [[entry.get("object"), entry.get("column"), entry.get("reason")] for entry in lossy if entry]),
        ]
