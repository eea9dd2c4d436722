"""Field mapping of a migration (docs/journey.md): the bridge sends what it staged
for each column of the source files (``api_set_mapping``), the admin reviews it on the Mapping
page and confirms (``action_confirm_mapping``). Confirmed decisions are remembered per source
system (``crm.migration.saved.map``) and sent with the next upload of that source."""

import json
import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression

from .. import compat
from ..services import contract
from ..services.custom_fields import migrated_fields

MAPPING_ACTIONS = [("map", "Map to a field"), ("create", "Create a custom field"), ("ignore", "Ignore")]
NEW_FIELD_TYPES = [
    ("char", "Text (single line)"),
    ("text", "Text (multi-line)"),
    ("integer", "Integer"),
    ("float", "Decimal"),
    ("boolean", "Checkbox"),
    ("date", "Date"),
    ("datetime", "Date & time"),
]
# how a numeric date like 04/03/2021 reads, when its values and headers leave it open
DATE_ORDERS = [("dmy", "Day first (dd/mm)"), ("mdy", "Month first (mm/dd)")]
VALUE_KINDS = ("email", "phone", "date", "datetime", "number", "boolean", "url", "text", "empty")
SIMPLE_TYPES = ("char", "text", "html", "selection", "integer", "float", "monetary", "boolean", "date",
                "datetime")
# the field types a column can go to, from what its values look like
KIND_TYPES = {
    "email": ("char", "text", "html"),
    "phone": ("char", "text", "html"),
    "url": ("char", "text", "html"),
    "text": ("char", "text", "html", "selection"),
    "number": ("integer", "float", "monetary", "char"),
    "boolean": ("boolean", "char"),
    "date": ("date", "datetime", "char"),
    "datetime": ("date", "datetime", "char"),
    "empty": SIMPLE_TYPES,
}
# never offered: bookkeeping of Odoo and of the migration itself
EXCLUDED_FIELDS = ("id", "display_name", "create_uid", "create_date", "write_uid", "write_date", "source_key")
LINE_KEYS = ("object", "model", "column", "field", "action", "ttype", "label", "kind", "confidence", "reason",
             "samples")
MAX_SAMPLES = 3


def custom_field_name(label):
    """``x_`` technical name of a custom field created from ``label``."""
    slug = re.sub(r"[^a-z0-9]+", "_", (label or "").lower()).strip("_")
    return f"x_{slug or 'field'}"[:63]


class CrmMigrationMappingLine(models.Model):
    """One column of a source file: what the bridge staged with it, and the admin's choice."""

    _name = "crm.migration.mapping.line"
    _description = "CRM Migration Mapping Line"
    _order = "migration_id, sequence, id"

    migration_id = fields.Many2one("crm.migration", required=True, ondelete="cascade", index=True, readonly=True)
    sequence = fields.Integer(readonly=True)
    object = fields.Char(required=True, readonly=True, help="Source object (contact, company, deal...).")
    model = fields.Char(required=True, readonly=True, string="Odoo Model")
    column = fields.Char(required=True, readonly=True, help="Header of the column, as in the file.")
    kind = fields.Selection([(kind, kind.capitalize()) for kind in VALUE_KINDS], readonly=True,
                            help="What the values of the column look like.")
    samples = fields.Char(readonly=True, help="Example values of the column.")
    confidence = fields.Float(readonly=True, digits=(3, 2), help="How sure the proposal is (0 to 1).")
    reason = fields.Char(readonly=True, help="Why this field was proposed.")
    proposed_field = fields.Char(readonly=True, help="Field the staged records fill from this column.")
    staged_action = fields.Selection(MAPPING_ACTIONS, readonly=True, string="Staged Action",
                                     help="What the staged records already do with this column.")
    staged_ttype = fields.Char(readonly=True, string="Staged Field Type")
    staged_label = fields.Char(readonly=True, string="Staged Field Label")

    action = fields.Selection(MAPPING_ACTIONS, required=True, default="map")
    field_id = fields.Many2one("ir.model.fields", string="Odoo Field", ondelete="set null",
                               help="Only the fields that can hold the column's values are offered.")
    field_domain = fields.Binary(compute="_compute_field_domain",
                                 help="Fields of the model the column can go to, given its values.")
    new_field_label = fields.Char(string="New Field Label")
    new_field_type = fields.Selection(NEW_FIELD_TYPES, string="New Field Type")
    date_order = fields.Selection(DATE_ORDERS, string="Day/Month Order",
                                  help="A date column whose values fit both orders: how to read 04/03/2021.")
    changed = fields.Boolean(compute="_compute_changed", help="The choice differs from what was staged.")
    confidence_level = fields.Selection([("high", "High"), ("medium", "Medium"), ("low", "Low")],
                                        compute="_compute_confidence_level")
    proposal = fields.Char(compute="_compute_proposal", string="Proposed")

    # ------------------------------------------------------------------ compute
    def _compatible_fields_domain(self, custom_ids=None):
        """Domain on ir.model.fields: the fields of ``model`` this column can be mapped to: stored,
        writable, of a type that fits ``kind``, not Odoo's bookkeeping; custom (``x_``) fields only
        when a migration created them; relational fields only when already staged."""
        self.ensure_one()
        types = KIND_TYPES.get(self.kind or "empty", SIMPLE_TYPES)
        if custom_ids is None:
            custom_ids = migrated_fields(self.env, [self.model])[self.model].ids if self.model else []
        domain = [
            ("model", "=", self.model or False),
            ("store", "=", True),
            ("readonly", "=", False),
            ("ttype", "in", list(types)),
            ("name", "not in", list(EXCLUDED_FIELDS)),
            "|", ("state", "=", "base"), ("id", "in", custom_ids),
        ]
        staged = self._staged_field()
        if staged:
            domain = expression.OR([domain, [("id", "=", staged.id)]])
        return domain

    def _staged_field(self):
        """ir.model.fields of the field the bridge staged (or proposed), if it exists."""
        self.ensure_one()
        if not self.model or not self.proposed_field:
            return self.env["ir.model.fields"]
        return self.env["ir.model.fields"]._get(self.model, self.proposed_field)

    @api.depends("model", "kind", "proposed_field")
    def _compute_field_domain(self):
        models_ = [m for m in set(self.mapped("model")) if m]
        custom = migrated_fields(self.env, models_) if models_ else {}
        for line in self:
            custom_ids = custom[line.model].ids if line.model in models_ else []
            line.field_domain = line._compatible_fields_domain(custom_ids)

    @api.depends("action", "field_id", "new_field_label", "new_field_type", "staged_action", "proposed_field",
                 "staged_label", "staged_ttype", "model", "date_order")
    def _compute_changed(self):
        for line in self:
            if line.action != line.staged_action or (line.date_order and line.action != "ignore"):
                line.changed = True
            elif line.action == "map":
                # a staged field this database does not list cannot be picked: unchanged without one
                line.changed = (line.field_id.name or False) != (line.proposed_field or False) and bool(
                    line.field_id or line._staged_field())
            elif line.action == "create":
                line.changed = ((line.new_field_label or False) != (line.staged_label or False)
                                or (line.new_field_type or line.staged_ttype or False) != (line.staged_ttype or False))
            else:
                line.changed = False

    @api.depends("confidence")
    def _compute_confidence_level(self):
        for line in self:
            if line.confidence >= 0.9:
                line.confidence_level = "high"
            elif line.confidence >= 0.6:
                line.confidence_level = "medium"
            else:
                line.confidence_level = "low"

    @api.depends("staged_action", "proposed_field", "staged_label")
    def _compute_proposal(self):
        labels = dict(MAPPING_ACTIONS)
        for line in self:
            if line.staged_action == "map":
                line.proposal = line.proposed_field or ""
            elif line.staged_action == "create":
                line.proposal = self.env._("new: %(label)s", label=line.staged_label or line.proposed_field or "")
            else:
                line.proposal = labels.get(line.staged_action, "")

    # ------------------------------------------------------------------ onchange / constraints
    @api.onchange("action")
    def _onchange_action(self):
        for line in self:
            if line.action == "create":
                line.new_field_label = line.new_field_label or line.staged_label or line.column
                line.new_field_type = line.new_field_type or line._default_new_type()
            elif line.action == "map" and not line.field_id:
                line.field_id = line._staged_field()

    def _default_new_type(self):
        return {"number": "float", "boolean": "boolean", "date": "date", "datetime": "datetime"}.get(
            self.kind, "char")

    @api.constrains("field_id", "model", "kind", "proposed_field")
    def _check_field_id(self):
        # the data model is only looked at, to check the choice: a Migration Manager has no read
        # access to ir.model.fields (README, "Security")
        Field = self.env["ir.model.fields"].sudo()
        lines = self.filtered("field_id")
        models_ = [m for m in set(lines.mapped("model")) if m]
        custom = migrated_fields(self.env, models_) if models_ else {}  # once per model, not per line
        for line in lines:
            custom_ids = custom[line.model].ids if line.model in custom else []
            if not Field.search_count(expression.AND([[("id", "=", line.field_id.id)],
                                                      line._compatible_fields_domain(custom_ids)]), limit=1):
                raise ValidationError(self.env._(
                    "Column %(column)s (%(object)s): field %(field)s cannot hold %(kind)s values.",
                    column=line.column, object=line.object, field=line.field_id.name, kind=line.kind or "empty"))

    # ------------------------------------------------------------------ decisions
    def _check_decision(self):
        """UserError when the admin's choice is incomplete."""
        for line in self:
            if line.action == "map" and not line.field_id and (line.changed or not line.proposed_field):
                raise UserError(self.env._(
                    "Column %(column)s (%(object)s): choose the Odoo field, or ignore the column.",
                    column=line.column, object=line.object))
            if line.action == "create" and not (line.new_field_label and (line.new_field_type or line.staged_ttype)):
                raise UserError(self.env._(
                    "Column %(column)s (%(object)s): give the new field a label and a type.",
                    column=line.column, object=line.object))

    def _new_field_name(self):
        self.ensure_one()
        if self.proposed_field and self.proposed_field.startswith("x_") and self.staged_action == "create":
            return self.proposed_field
        return custom_field_name(self.new_field_label or self.column)

    def _decision(self):
        """The line as a Decision (docs/journey.md)."""
        self.ensure_one()
        decision = {"object": self.object, "column": self.column, "action": self.action,
                    "field": None, "ttype": None, "label": None}
        if self.action == "map":
            decision.update(field=self.field_id.name or self.proposed_field or None,
                            ttype=self.field_id.ttype or self.staged_ttype or None,
                            label=self.field_id.field_description or None)
        elif self.action == "create":
            decision.update(field=self._new_field_name(), ttype=self.new_field_type or self.staged_ttype or None,
                            label=self.new_field_label or None)
        if self.date_order and self.action != "ignore":
            decision["dateOrder"] = self.date_order
        return decision


@compat.sql_constraints
class CrmMigrationSavedMap(models.Model):
    """A confirmed decision for a column of a source system, reused by later migrations of it."""

    _name = "crm.migration.saved.map"
    _description = "CRM Migration Saved Mapping"
    _order = "source, object, column"
    _rec_name = "column"

    source = fields.Char(required=True, index=True, help="The bridge's name of the source system (GET /sources).")
    object = fields.Char(required=True)
    model = fields.Char(string="Odoo Model")
    column = fields.Char(required=True, help="Header of the column, as in the file.")
    action = fields.Selection(MAPPING_ACTIONS, required=True, default="map")
    field_name = fields.Char(string="Field", help="Odoo field name (for a new custom field: its x_ name).")
    ttype = fields.Char(string="Field Type")
    label = fields.Char(string="Field Label")
    date_order = fields.Selection(DATE_ORDERS, string="Day/Month Order")
    migration_id = fields.Many2one("crm.migration", string="Last Confirmed In", ondelete="set null",
                                   readonly=True)

    _sql_constraints = [
        ("source_object_column_uniq", 'unique(source, object, "column")',
         "A column of a source object has one saved mapping."),
    ]

    def _decision(self):
        self.ensure_one()
        decision = {"object": self.object, "column": self.column, "action": self.action,
                    "field": self.field_name or None, "ttype": self.ttype or None, "label": self.label or None}
        if self.date_order:
            decision["dateOrder"] = self.date_order
        return decision


class CrmMigration(models.Model):
    _inherit = "crm.migration"

    mapping_line_ids = fields.One2many("crm.migration.mapping.line", "migration_id", string="Mapping")
    mapping_changed = fields.Boolean(compute="_compute_mapping_changed",
                                     help="Some mapping lines differ from what was staged.")

    @api.depends("mapping_line_ids.changed")
    def _compute_mapping_changed(self):
        for migration in self:
            migration.mapping_changed = any(migration.mapping_line_ids.mapped("changed"))

    def _mapping_source(self):
        """The source system the saved decisions are kept for."""
        self.ensure_one()
        return (self.source_system or self.source or "").strip()

    # ------------------------------------------------------------------ RPC API
    def api_set_mapping(self, lines):
        """Replace the mapping lines (docs/journey.md, "api_set_mapping"). Returns True."""
        self.ensure_one()
        self._check_manager()
        if self.state in ("committed", "partial", "rolled_back"):
            raise UserError(self.env._("Migration %(name)s is already committed: its mapping cannot change.",
                                       name=self.display_name))
        if not isinstance(lines, list):
            raise ValidationError(self.env._("api_set_mapping expects a list of mapping lines."))
        vals_list = [self._mapping_line_vals(line, index) for index, line in enumerate(lines)]
        # lines of one object together, objects in the order they first appear
        first = {}
        for vals in vals_list:
            first.setdefault(vals["object"], len(first))
        vals_list = sorted(vals_list, key=lambda v: (first[v["object"]], v["sequence"]))
        self.mapping_line_ids.unlink()
        self.env["crm.migration.mapping.line"].create(vals_list)
        return True

    def _mapping_line_vals(self, line, index):
        method = f"api_set_mapping: line {index}"
        line = self._check_struct(line, method, LINE_KEYS)
        wrong = contract.problem("mapping-line", line)  # the contract's JSON Schema (services/contract.py)
        if wrong:
            raise ValidationError(self.env._("%(method)s: %(problem)s", method=method, problem=wrong))

        def fail(key, expected):
            raise ValidationError(self.env._("api_set_mapping: line %(index)s: key %(key)r must be %(expected)s.",
                                             index=index, key=key, expected=expected))

        def text(key, required=False):
            value = line.get(key)
            if value is None or (value == "" and not required):
                if required:
                    fail(key, self.env._("a non-empty string"))
                return False
            if not isinstance(value, str) or (required and not value.strip()):
                fail(key, self.env._("a non-empty string") if required else self.env._("a string or null"))
            return value

        obj, model, column = text("object", True), text("model", True), text("column", True)
        field, ttype, label, reason = text("field"), text("ttype"), text("label"), text("reason")
        action = line.get("action")
        if action not in dict(MAPPING_ACTIONS):
            fail("action", "map, create or ignore")
        kind = line.get("kind") or "empty"
        if kind not in VALUE_KINDS:
            fail("kind", ", ".join(VALUE_KINDS))
        confidence = line.get("confidence", 0)
        if confidence is None:
            confidence = 0
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            fail("confidence", self.env._("a number between 0 and 1"))
        samples = line.get("samples") or []
        if not isinstance(samples, list) or not all(isinstance(s, (str, int, float)) for s in samples):
            fail("samples", self.env._("a list of strings"))
        if action == "map" and not field:
            fail("field", self.env._("a field name when action is 'map'"))

        return self._mapping_line_record_vals(index, obj, model, column, field, ttype, label, reason, action, kind,
                                              confidence, samples)

    def _mapping_line_record_vals(self, index, obj, model, column, field, ttype, label, reason, action, kind,
                                  confidence, samples):
        """The ``crm.migration.mapping.line`` values of a checked line of ``api_set_mapping``."""
        target = self.env["ir.model.fields"]
        if field and model in self.env:
            target = self.env["ir.model.fields"]._get(model, field)
        vals = {
            "migration_id": self.id,
            "sequence": index,
            "object": obj,
            "model": model,
            "column": column,
            "kind": kind,
            "samples": " | ".join(str(s) for s in samples[:MAX_SAMPLES]),
            "confidence": float(confidence),
            "reason": reason,
            "proposed_field": field if action != "ignore" else False,
            "staged_action": action,
            "staged_ttype": ttype if action != "ignore" else False,
            "staged_label": label if action != "ignore" else False,
            "action": action,
            "field_id": target.id if action != "ignore" else False,
        }
        if action == "create":
            # a type the admin cannot pick here (selection with its options...) stays as staged
            vals.update(new_field_label=label or column, staged_label=label or column,
                        new_field_type=ttype if ttype in dict(NEW_FIELD_TYPES) else False)
        return vals

    # ------------------------------------------------------------------ saved decisions
    def _saved_decisions(self):
        """Saved decisions of earlier migrations of the same source (list of Decision)."""
        self.ensure_one()
        source = self._mapping_source()
        if not source:
            return []
        saved = self.env["crm.migration.saved.map"].sudo().search([("source", "=", source)])
        return [row._decision() for row in saved]

    def _save_mapping(self):
        """Upsert the lines as saved decisions of the migration's source."""
        self.ensure_one()
        source = self._mapping_source()
        if not source or not self.mapping_line_ids:
            return self.env["crm.migration.saved.map"]
        Saved = self.env["crm.migration.saved.map"].sudo()
        existing = {(row.object, row.column): row for row in Saved.search(
            [("source", "=", source), ("object", "in", list(set(self.mapping_line_ids.mapped("object"))))])}
        saved = Saved
        to_create = []
        seen = set()
        for line in self.mapping_line_ids:
            if (line.object, line.column) in seen:
                continue  # the same column twice (two files of one object): the first one wins
            seen.add((line.object, line.column))
            decision = line._decision()
            vals = {"source": source, "object": line.object, "model": line.model, "column": line.column,
                    "action": decision["action"], "field_name": decision["field"] or False,
                    "ttype": decision["ttype"] or False, "label": decision["label"] or False,
                    "date_order": decision.get("dateOrder") or False, "migration_id": self.id}
            row = existing.get((line.object, line.column))
            if row:
                row.write(vals)
                saved |= row
            else:
                to_create.append(vals)
        return saved | Saved.create(to_create)

    # ------------------------------------------------------------------ UI
    def action_confirm_mapping(self):
        """Confirm the mapping: remember it for the source; unchanged -> ``mapped``; changed ->
        re-upload the files so the bridge stages them again with the admin's decisions."""
        self.ensure_one()
        self._check_manager()
        if self.state not in ("uploaded", "mapped") or self.sample_state != "none":
            raise UserError(self.env._(
                "The mapping of migration %(name)s can only be confirmed before a sample or a commit.",
                name=self.display_name))
        lines = self.mapping_line_ids
        lines._check_decision()
        self._save_mapping()
        changed = lines.filtered("changed")
        if not changed:
            self.write({"state": "mapped", "mapping_confirmed": True})
            message = self.env._("Mapping confirmed: the staged records are ready for a sample or a commit.")
        else:
            self.write({"mapping_confirmed": True,
                        "upload_mapping_json": json.dumps([line._decision() for line in lines],
                                                          ensure_ascii=False)})
            self._queue_job("upload")
            message = self.env._("Mapping confirmed: %(count)s column(s) changed, the files are staged again "
                                 "with the new mapping.", count=len(changed))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Mapping"),
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
