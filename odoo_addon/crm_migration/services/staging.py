"""Validation and normalisation of staged records (see docs/staging-contract.md).

A staged record arrives as a plain dict over XML-RPC (or JSON). ``normalize_record`` checks its
shape with the contract's JSON Schema (``schemas/staged-record.json``, generated from the bridge's
zod schema: services/contract.py), then against the target model, and returns the values for a
``crm.migration.record``. Bad input
raises ``ValidationError`` with a message naming the record and the offending key, so the
caller (the bridge) can fix its mapping; data problems found by the bridge travel in
``issues`` instead.
"""

import hashlib
import json

from odoo.exceptions import ValidationError

from . import contract
from .attached import check_attached
from .version_folds import fold_version_changes

# staged records of this model create custom fields (docs/staging-contract.md, "Schema records")
SCHEMA_MODEL = "ir.model.fields"
# required lookups queue their value for reconciliation (crm.migration.owner): users only
OWNER_MODEL = "res.users"
# context key: [(model, field name)] of the custom fields created by schema records of the migration
SCHEMA_FIELDS_CONTEXT = "crm_migration_schema_fields"
# staged records of this model create custom models (an ``x_`` model per custom object)
MODEL_SCHEMA = "ir.model"
# context key: the custom models that ``ir.model`` schema records of the migration declare
SCHEMA_MODELS_CONTEXT = "crm_migration_schema_models"
# the values an ``ir.model`` schema record may carry; Odoo adds the model's ``x_name`` itself
MODEL_SCHEMA_VALUES = ("model", "name", "state", "info")
CUSTOM_PREFIX = "x_"
REF_TYPES = ("many2one", "many2many")
MAX_RECORDS_PER_CALL = 1000


def canonical_hash(model, values, refs, lookups, attach_to=None, blob=None):
    """sha256 of the canonical JSON of {model, values, refs, lookups} plus ``attach_to`` and
    ``blob`` when given (used when the bridge sends no hash; the bridge's contentHash is the same)."""
    payload = {"model": model, "values": values, "refs": refs, "lookups": lookups}
    if attach_to is not None:
        payload["attach_to"] = attach_to
    if blob is not None:
        payload["blob"] = blob
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue_flags(issues):
    """Stored flags of crm.migration.record computed from its issues (its compute method, and
    the values api_stage gives directly)."""
    issues = issues or []
    return {
        "issue_count": len(issues),
        "has_error_issue": any(i.get("level") == "error" for i in issues),
        "has_warning": any(i.get("level") == "warning" for i in issues),
    }


def ref_keys(refs):
    """All keys referenced by a refs dict, in order."""
    keys = []
    for value in (refs or {}).values():
        if isinstance(value, list):
            keys.extend(value)
        elif value:
            keys.append(value)
    return keys


def schema_model_names(values_list):
    """Names of the custom models that schema records (values of staged ``ir.model`` records)
    create."""
    names = set()
    for values in values_list:
        model_name = values.get("model") if isinstance(values, dict) else None
        if isinstance(model_name, str) and model_name.startswith(CUSTOM_PREFIX):
            names.add(values["model"])
    return names


class _PendingModel:
    """A custom model an ``ir.model`` schema record of the migration creates: it does not exist
    yet, its fields are the ones schema records create (and ``x_name``, which Odoo adds)."""

    _fields = {}

    def __init__(self, name):
        self._name = name


def schema_field_pairs(values_list):
    """(model, field name, type, comodel) of the custom fields that schema records (values of
    staged ``ir.model.fields`` records) create (type and comodel ``""`` when not given)."""
    pairs = set()
    for values in values_list:
        if isinstance(values, dict):
            name, model = values.get("name"), values.get("model")
            if isinstance(name, str) and isinstance(model, str) and name.startswith("x_"):
                ttype, relation = values.get("ttype"), values.get("relation")
                pairs.add((model, name, ttype if isinstance(ttype, str) else "",
                           relation if isinstance(relation, str) else ""))
    return pairs


class _Checker:
    def __init__(self, env, record, index):
        self.env = env
        self.record = record
        self.index = index
        pending = [tuple(pair) for pair in env.context.get(SCHEMA_FIELDS_CONTEXT) or ()]
        self.schema_fields = {pair[:2] for pair in pending}
        # (model, name) -> (type, comodel) of the custom fields schema records create
        self.schema_types = {pair[:2]: tuple(pair[2:4]) for pair in pending if len(pair) >= 4}
        self.schema_models = set(env.context.get(SCHEMA_MODELS_CONTEXT) or ())
        for name in self.schema_models:
            self.schema_fields.add((name, "x_name"))
            self.schema_types.setdefault((name, "x_name"), ("char", ""))

    def fail(self, problem):
        key = self.record.get("key") if isinstance(self.record, dict) else None
        label = repr(key if len(key) <= 80 else f"{key[:80]}…") if isinstance(key, str) and key else f"#{self.index}"
        raise ValidationError(self.env._("Staged record %(label)s: %(problem)s", label=label, problem=problem))

    def model(self, name, what):
        if isinstance(name, str) and name.startswith(CUSTOM_PREFIX):
            # a custom model: only one that a schema record of this migration declares (a
            # Migration Manager cannot write into other custom models, Studio's or another app's)
            if name not in self.schema_models:
                self.fail(self.env._(
                    "%(what)s %(model)r is a custom model this migration does not declare (an 'ir.model' "
                    "schema record of the migration creates the custom models its records may target).",
                    what=what, model=name))
            if self.env.registry.get(name) is None:
                return _PendingModel(name)
        model_cls = self.env.registry.get(name)
        if model_cls is None or model_cls._abstract or model_cls._transient:
            self.fail(self.env._("%(what)s %(model)r is not a model of this database.", what=what, model=name))
        return self.env[name]

    def field(self, model, fname, what, schema=False):
        """The field ``fname`` of ``model``; with ``schema``, None for a custom field that a
        schema record of the migration creates (it does not exist yet)."""
        if isinstance(fname, str) and fname in model._fields:
            return model._fields[fname]
        if schema and (model._name, fname) in self.schema_fields:
            return None
        self.fail(self.env._("%(what)s: model %(model)r has no field %(field)r.",
                             what=what, model=model._name, field=fname))

    def path(self, model, path, what):
        """A dotted field path from ``model`` (``country_id.code``) ending on a plain field."""
        if not isinstance(path, str) or not path:
            self.fail(self.env._("%(what)s: field paths must be non-empty strings.", what=what))
        names = path.split(".")
        for index, fname in enumerate(names):
            field = self.field(model, fname, what)
            last = index == len(names) - 1
            if last and field.relational:
                self.fail(self.env._("%(what)s: path %(path)r must end on a plain field, not on the relational "
                                     "field %(field)r.", what=what, path=path, field=fname))
            if not last:
                if not field.relational:
                    self.fail(self.env._("%(what)s: %(field)r in path %(path)r is not relational.",
                                         what=what, field=fname, path=path))
                model = self.env[field.comodel_name]


def _check_lookup(chk, model, fname, spec, check):
    """One ``lookups`` entry: {model, field, value} and the optional alt_fields (tried in order
    when ``field`` finds nothing), where (field path -> value, ANDed) and required."""
    _ = chk.env._
    # the shape (keys, types) is the contract's JSON Schema (normalize_record)
    alt_fields = spec.get("alt_fields") or []
    where = spec.get("where") or {}
    required = spec.get("required", False)
    if required and spec["model"] != OWNER_MODEL:
        chk.fail(_("'lookups.%(field)s.required' is only supported for %(model)s lookups (owners).",
                 field=fname, model=OWNER_MODEL))
    if not check:
        return
    field = chk.field(model, fname, "'lookups'", schema=True)
    if field is not None:
        ftype, comodel = field.type, field.comodel_name
    else:
        ftype, comodel = chk.schema_types.get((model._name, fname), ("", ""))
    if ftype not in REF_TYPES:
        chk.fail(_("'lookups.%(field)s': only many2one and many2many fields can be looked up (field type %(type)s).",
                 field=fname, type=ftype))
    target = chk.model(spec["model"], f"'lookups.{fname}.model'")
    if target._name != comodel:
        chk.fail(_("'lookups.%(field)s.model' is %(model)r but the field points to %(comodel)r.",
                 field=fname, model=target._name, comodel=comodel))
    for lfield in [spec["field"], *alt_fields]:
        if chk.field(target, lfield, f"'lookups.{fname}.field'").relational:
            chk.fail(_("'lookups.%(field)s': %(lfield)r is relational; lookups search plain fields.",
                     field=fname, lfield=lfield))
    for path in where:
        chk.path(target, path, f"'lookups.{fname}.where'")


def _check_model_schema(chk, record, values):
    """An ``ir.model`` schema record creates one custom model: ``x_`` name, state ``manual``, only
    its name, label and description; matched by its name (a re-run finds it), no refs/lookups."""
    _ = chk.env._
    unknown = sorted(set(values) - set(MODEL_SCHEMA_VALUES))
    if unknown:
        chk.fail(_("an 'ir.model' schema record takes only %(keys)s in 'values', not %(unknown)s.",
                   keys=", ".join(MODEL_SCHEMA_VALUES), unknown=", ".join(repr(k) for k in unknown)))
    name = values.get("model")
    if not isinstance(name, str) or not name.startswith(CUSTOM_PREFIX) or name not in chk.schema_models:
        chk.fail(_("an 'ir.model' schema record creates a custom model: 'values.model' must start with %(prefix)r.",
                   prefix=CUSTOM_PREFIX))
    if values.get("state", "manual") != "manual":
        chk.fail(_("an 'ir.model' schema record creates a custom model: 'values.state' must be 'manual'."))
    if record.get("refs") or record.get("lookups"):
        chk.fail(_("an 'ir.model' schema record takes no refs or lookups."))
    if (record.get("match") or []) not in ([], [["model"]]):
        chk.fail(_("an 'ir.model' schema record is matched by its model name only: 'match' must be [[\"model\"]]."))


def _check_values(chk, model, values, check):
    """values: plain values (the schema) for fields of the model (or custom fields a schema record creates)."""
    for fname, value in values.items():
        field = chk.field(model, fname, "'values'", schema=True) if check else None
        if field is not None and field.relational and value not in (None, False):
            chk.fail(chk.env._("'values.%(field)s' is relational: use 'refs' or 'lookups', never Odoo ids.",
                               field=fname))


def _check_refs(chk, model, refs):
    """refs: field -> key (many2one) or list of keys (many2many)."""
    _ = chk.env._
    for fname, value in refs.items():
        field = chk.field(model, fname, "'refs'", schema=True)
        ftype = field.type if field is not None else chk.schema_types.get((model._name, fname), ("", ""))[0]
        if ftype == "many2one":
            if not isinstance(value, str):
                chk.fail(_("'refs.%(field)s' is a many2one: its value must be one key (string).", field=fname))
        elif ftype == "many2many":
            if not isinstance(value, list):
                chk.fail(_("'refs.%(field)s' is a many2many: its value must be a list of keys (strings).", field=fname))
        else:
            chk.fail(_("'refs.%(field)s': only many2one and many2many fields can be refs (field type %(type)s).",
                     field=fname, type=ftype or "unknown"))


def _check_match(chk, model, match, check):
    """match: list of field-name lists (plain fields compared on their value, many2one fields on
    the id their ref or lookup resolves to)."""
    for rule in match:
        for fname in rule:
            field = chk.field(model, fname, "'match'", schema=True) if check else None
            if field is not None and field.type in ("one2many", "many2many"):
                chk.fail(chk.env._("'match': %(field)r is a %(type)s field; match rules compare plain and many2one "
                                   "fields.", field=fname, type=field.type))


def _stored_values(record, values, attach_to, blob, issues):
    """The ``crm.migration.record`` values of a checked staged record."""
    refs, lookups = record["refs"], record["lookups"]
    # deps: keys that must be committed first; the parent of an attached record counts like a dep
    # (object order, skipped when unresolved)
    deps = list(dict.fromkeys(k for k in (record.get("deps") or []) + ([attach_to] if attach_to else [])
                              if k != record["key"]))
    source = record["source"]
    record_hash = record.get("hash") or canonical_hash(record["model"], values, refs, lookups,
                                                       record.get("attach_to"), record.get("blob"))
    has_error = any(issue["level"] == "error" for issue in issues)
    return {
        "key": record["key"],
        "object": record["object"],
        "model": record["model"],
        "values_json": values,
        "refs_json": refs,
        "lookups_json": lookups,
        "match_json": record["match"],
        "deps_json": deps,
        "attach_to": attach_to,
        "blob_json": blob,
        "source_json": source,
        "source_file": source.get("file") or False,
        "source_row": source.get("row") or 0,
        "hash": record_hash,
        "issues_json": issues,
        **issue_flags(issues),
        "state": "error" if has_error else "staged",
        "error_message": False,
        "res_id": 0,
    }


def normalize_record(env, record, index):
    """Check one staged record; return ``crm.migration.record`` values (without migration_id).

    The shape (keys, types, sizes) is the contract's JSON Schema ``staged-record`` (generated from
    the bridge's zod schema: services/contract.py); what only this database knows (models,
    fields, their types, custom fields and models a schema record declares) is checked here."""
    _ = env._
    chk = _Checker(env, record, index)
    wrong = contract.problem("staged-record", record)
    if wrong:
        chk.fail(wrong)
    # what the schema gives a default for: refs, lookups, match, source, issues
    record = contract.with_defaults("staged-record", record)

    # issues first: a record with an error issue is never committed, so it is stored as it is,
    # without checking that its model and fields exist (e.g. a sale.order row in a database
    # without Sales)
    clean_issues = record["issues"]
    has_error = any(issue["level"] == "error" for issue in clean_issues)
    check = not has_error

    model = chk.model(record["model"], "'model'") if check else None
    values = record["values"]
    if check and not isinstance(model, _PendingModel):
        # what this Odoo version changed in its standard models (19: mobile, contact addresses)
        values, folded = fold_version_changes(env, model, record, values)
        clean_issues = clean_issues + folded
    _check_values(chk, model, values, check)

    if check and record["model"] == MODEL_SCHEMA:
        _check_model_schema(chk, record, values)
    if check and record["model"] == SCHEMA_MODEL and isinstance(values.get("model"), str) \
            and values["model"].startswith(CUSTOM_PREFIX):
        chk.model(values["model"], "'values.model'")  # custom fields only on custom models it declares

    refs = record["refs"]
    if check:
        _check_refs(chk, model, refs)

    # lookups: field -> {model, field, value, alt_fields?, where?, required?}
    lookups = record["lookups"]
    for fname, spec in lookups.items():
        _check_lookup(chk, model, fname, spec, check)

    both = sorted((set(values) & set(refs)) | (set(values) & set(lookups)) | (set(refs) & set(lookups)))
    if both:
        chk.fail(_("field(s) %(fields)s appear in more than one of 'values', 'refs' and 'lookups'.",
                 fields=", ".join(repr(f) for f in both)))

    match = record["match"]
    _check_match(chk, model, match, check)

    attach_to, blob = check_attached(chk, record, values, refs, lookups, match, check)
    return _stored_values(record, values, attach_to, blob, clean_issues)
