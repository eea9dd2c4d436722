"""What a migration may write, checked in Odoo (README, "Security"; issue #12 items 1, 2 and 5).

Staged records, their links and their custom fields arrive from a Migration Manager (over
XML-RPC, through the bridge or the UI), who is not an administrator. Nothing they send decides
which models and fields a migration writes: this module does, from one policy:

- **Target models** (``TARGET_MODELS``): the business models the shipped mappings write
  (partners, tags, leads, stages, teams, events, orders, invoices, products) and the attached
  records (messages, activities, files: ``services/attached.py``). An administrator adds models
  for a new source in the system parameter ``crm_migration.extra_target_models`` (comma list);
  a Migration Manager cannot write system parameters. ``res.users``, ``res.groups``,
  ``ir.config_parameter`` and every other model are refused.
- **Fields** of a target model: any field except Odoo's bookkeeping (``id``, ``create_uid``...),
  one2many fields, fields reserved to administrators (``groups`` of ``base.group_system`` /
  ``base.group_erp_manager`` / ``base.group_no_one`` only), and relational fields pointing to
  ``res.groups``, ``res.users.apikeys`` or any ``ir.*`` model. Attached models keep their own,
  narrower allowlist (``attached.ATTACHED_MODELS``).
- **Custom fields** (schema records, model ``ir.model.fields``): only ``x_`` fields, of a type in
  ``SCHEMA_TYPES``, on a business target model, with the keys ``SCHEMA_VALUE_KEYS``, ``state``
  ``manual``, ``model_id`` looked up on ``ir.model`` by the same model name. They are created (and
  removed by a rollback) by this module with ``sudo()`` once checked (:func:`schema_model`,
  :func:`removable_fields`): the Migration Manager group needs no rights on ``ir.model``.

The checks run at staging (:func:`check_staged`, a ``ValidationError`` naming the record and
the key), again at commit on what is stored (:func:`check_commit`: a commit refuses the whole
migration, nothing written, when a stored record breaks the policy: records are writable by
the group, so what staging accepted is never trusted), and on rollback (:func:`check_links`):
a link on a model outside the policy is refused before anything is read or undone. The rollback
conflict check reads current values with the user's rights and only for allowed fields
(:func:`readable_fields`).
"""

import re

from odoo.exceptions import UserError, ValidationError

from ..compat import field_accessible, is_automatic
from . import attached, paging
from .staging import MODEL_SCHEMA, MODEL_SCHEMA_VALUES, SCHEMA_MODEL, SCHEMA_MODELS_CONTEXT, schema_model_names

# business models the shipped mappings (mappings/*.json) stage records of
TARGET_MODELS = (
    "res.partner",
    "res.partner.category",
    "crm.lead",
    "crm.tag",
    "crm.stage",
    "crm.team",
    "calendar.event",
    "product.product",
    "sale.order",
    "sale.order.line",
    "account.move",
    "account.move.line",
    "project.project",
    "project.tags",
    "project.task",
)
EXTRA_TARGETS_PARAM = "crm_migration.extra_target_models"
# never targets, whatever the system parameter says
NEVER_TARGETS = ("res.users", "res.groups", "res.company", "res.users.apikeys", "ir.config_parameter")
BOOKKEEPING_FIELDS = ("id", "create_uid", "create_date", "write_uid", "write_date", "__last_update")
ADMIN_GROUPS = ("base.group_system", "base.group_erp_manager", "base.group_no_one")
DENIED_COMODELS = ("res.groups", "res.users.apikeys", "res.company")
# custom fields a migration may create
SCHEMA_TYPES = ("char", "text", "html", "integer", "float", "boolean", "date", "datetime", "selection")
SCHEMA_VALUE_KEYS = ("name", "model", "field_description", "ttype", "state", "selection", "help", "relation")
# relational custom fields a migration may create: a many2one to a business target model
SCHEMA_RELATIONAL_TYPES = ("many2one",)
# custom models (``ir.model`` schema records): an ``x_`` model the migration itself declares
CUSTOM_MODEL_RE = re.compile(r"^x_[a-z0-9_]{1,61}$")
SCHEMA_NAME_RE = re.compile(r"^x_[a-z0-9_]{1,61}$")
SCHEMA_LOOKUP = {"model_id": ("ir.model", "model")}
MAX_LISTED = 20
CHECK_CHUNK = 5000


# ---------------------------------------------------------------------- policy
def business_models(env):
    """Business target models of this database (shipped list + the administrator's extra ones)."""
    extra = env["ir.config_parameter"].sudo().get_param(EXTRA_TARGETS_PARAM) or ""
    names = list(TARGET_MODELS) + [m.strip() for m in extra.split(",") if m.strip()]
    return {m for m in names if m not in NEVER_TARGETS and not m.startswith("ir.") and m != SCHEMA_MODEL}


def target_models(env):
    """Every model a staged record may name: business targets, attached records, custom fields."""
    return business_models(env) | set(attached.ATTACHED_MODELS) | {SCHEMA_MODEL}


def _admin_only(field):
    if not field.groups:
        return False
    groups = [g.strip() for g in field.groups.split(",") if g.strip()]
    allowed = [g for g in groups if not g.startswith("!")]
    return not allowed or all(g in ADMIN_GROUPS or g == "." for g in allowed)


def field_problem(env, model_name, fname):
    """Why the field ``fname`` of the target model ``model_name`` may not be written by a
    migration, or None. A field the model does not have yet (a custom field a schema record of the
    migration creates) is judged by its name: only ``x_`` fields."""
    _ = env._
    model = env[model_name] if model_name in env else None
    field = model._fields.get(fname) if model is not None else None
    if field is None:
        if isinstance(fname, str) and SCHEMA_NAME_RE.match(fname):
            return None
        return _("field %(field)r is not a field of %(model)s", field=fname, model=model_name)
    if fname in BOOKKEEPING_FIELDS or is_automatic(field):
        return _("field %(field)r is Odoo's bookkeeping", field=fname)
    if field.type == "one2many":
        return _("field %(field)r is a one2many", field=fname)
    if _admin_only(field):
        return _("field %(field)r is reserved to administrators", field=fname)
    if field.relational and (field.comodel_name in DENIED_COMODELS or field.comodel_name.startswith("ir.")):
        return _("field %(field)r points to %(comodel)s", field=fname, comodel=field.comodel_name)
    return None


def declared_models(migration):
    """The custom models the ``ir.model`` schema records staged in ``migration`` declare."""
    rows = migration.env["crm.migration.record"].sudo().search_read(
        [("migration_id", "=", migration.id), ("model", "=", MODEL_SCHEMA)], ["values_json"])
    return {m for m in schema_model_names(r["values_json"] for r in rows) if CUSTOM_MODEL_RE.match(m)}


class Policy:
    """The policy of one call (staging call, commit): the business models read once, each
    (model, field) judged once. Custom models (``x_``) are targets only for the migration whose
    ``ir.model`` schema records declare them: given, or read from the staging call's context."""

    def __init__(self, env, custom_models=None):
        self.env = env
        declared = custom_models if custom_models is not None else (env.context.get(SCHEMA_MODELS_CONTEXT) or ())
        self.custom = {m for m in declared if isinstance(m, str) and CUSTOM_MODEL_RE.match(m)}
        self.business = business_models(env) | self.custom
        self._fields = {}

    def field_problem(self, model_name, fname):
        key = (model_name, fname)
        if key not in self._fields:
            self._fields[key] = field_problem(self.env, model_name, fname)
        return self._fields[key]


def _record_problems(policy, model_name, values, refs, lookups, match):
    """Problems (texts) of one staged record's target: model, then each field it names."""
    env, business = policy.env, policy.business
    _ = env._
    if model_name == SCHEMA_MODEL:
        return _schema_problems(env, values, refs, lookups, match, business)
    if model_name == MODEL_SCHEMA:
        return _model_schema_problems(policy, values, refs, lookups, match)
    if model_name not in business and not attached.is_attached(model_name):
        allowed = ", ".join(sorted(business | set(attached.ATTACHED_MODELS)))
        allowed += ", %s (x_ custom fields)" % SCHEMA_MODEL  # no f-string inside _(): babel's extractor stops there
        return [_("model %(model)r is not a model a migration may write (allowed: %(models)s)",
                  model=model_name, models=allowed)]
    problems = []
    names = list(values or {}) + list(refs or {}) + list(lookups or {})
    names += [f for rule in (match or []) if isinstance(rule, list) for f in rule]
    for fname in dict.fromkeys(names):
        problem = policy.field_problem(model_name, fname)
        if problem:
            problems.append(problem)
    return problems


def _schema_problems(env, values, refs, lookups, match, business):
    _ = env._
    values = values if isinstance(values, dict) else {}
    problems = []
    name, model_name, ttype = values.get("name"), values.get("model"), values.get("ttype")
    extra = sorted(set(values) - set(SCHEMA_VALUE_KEYS))
    if extra:
        problems.append(_("custom field: key(s) %(keys)s not accepted (accepted: %(allowed)s)",
                          keys=", ".join(repr(k) for k in extra), allowed=", ".join(SCHEMA_VALUE_KEYS)))
    if not isinstance(name, str) or not SCHEMA_NAME_RE.match(name):
        problems.append(_("custom field: name %(name)r must be x_ followed by lower-case letters, digits or _",
                          name=name))
    if model_name not in business:
        problems.append(_("custom field: model %(model)r is not a model a migration may add fields to "
                          "(allowed: %(models)s)", model=model_name, models=", ".join(sorted(business))))
    relation = values.get("relation")
    if ttype in SCHEMA_RELATIONAL_TYPES:
        if relation not in business:
            problems.append(_("custom field: a %(type)s must point to a model a migration writes (allowed: %(models)s)",
                              type=ttype, models=", ".join(sorted(business))))
    elif relation:
        problems.append(_("custom field: 'relation' goes with a many2one only"))
    if ttype not in SCHEMA_TYPES + SCHEMA_RELATIONAL_TYPES:
        problems.append(_("custom field: type %(type)r is not one a migration may create (allowed: %(types)s)",
                          type=ttype, types=", ".join(SCHEMA_TYPES)))
    if values.get("state", "manual") != "manual":
        problems.append(_("custom field: state must be 'manual'"))
    if refs:
        problems.append(_("custom field: 'refs' must be empty"))
    for fname, spec in (lookups or {}).items():
        want = SCHEMA_LOOKUP.get(fname)
        if (not want or not isinstance(spec, dict) or (spec.get("model"), spec.get("field")) != want
                or spec.get("value") != model_name or spec.get("where") or spec.get("alt_fields")):
            problems.append(_("custom field: only the lookup model_id = ir.model by 'model' (the field's own "
                              "model) is accepted"))
    for rule in match or []:
        if not isinstance(rule, list) or not set(rule) <= {"name", "model"}:
            problems.append(_("custom field: match rules may only use 'name' and 'model'"))
    return problems


def _model_schema_problems(policy, values, refs, lookups, match):
    """An ``ir.model`` schema record: one ``x_`` custom model the migration declares, its name,
    label and description only (services/staging.py checks the same shape at staging)."""
    _ = policy.env._
    values = values if isinstance(values, dict) else {}
    problems = []
    extra = sorted(set(values) - set(MODEL_SCHEMA_VALUES))
    if extra:
        problems.append(_("custom model: key(s) %(keys)s not accepted (accepted: %(allowed)s)",
                          keys=", ".join(repr(k) for k in extra), allowed=", ".join(MODEL_SCHEMA_VALUES)))
    name = values.get("model")
    if not isinstance(name, str) or not CUSTOM_MODEL_RE.match(name) or name not in policy.custom:
        problems.append(_("custom model: %(model)r must be an x_ model this migration declares", model=name))
    if values.get("state", "manual") != "manual":
        problems.append(_("custom model: state must be 'manual'"))
    if refs or lookups:
        problems.append(_("custom model: no refs or lookups"))
    if (match or []) not in ([], [["model"]]):
        problems.append(_("custom model: match rules may only use 'model'"))
    return problems


# ---------------------------------------------------------------------- staging
def check_staged(env, vals, index, policy=None):
    """Staging: ``vals`` are one normalised record (``normalize_record``); a ValidationError
    names the record when it targets what a migration may not write. A record with an error
    issue is stored as it is (docs/staging-contract.md: its model may not even exist here); it is
    never committed, and the commit checks it again should its state be changed."""
    if vals.get("state") == "error":
        return
    problems = _record_problems(policy or Policy(env), vals["model"], vals["values_json"], vals["refs_json"],
                                vals["lookups_json"], vals["match_json"])
    if problems:
        raise ValidationError(env._("Staged record %(label)s: refused: %(problems)s.",
                                    label=repr(vals["key"]) or "#%s" % index, problems="; ".join(problems)))


# ---------------------------------------------------------------------- commit
def check_commit(migration, states, sampled_only=False):
    """Commit: the stored records the commit would process, checked again (the group can write
    ``crm.migration.record``). Any refusal stops the commit before anything is written."""
    env = migration.env
    policy = Policy(env, declared_models(migration))
    domain = [("migration_id", "=", migration.id), ("state", "in", list(states))]
    if sampled_only:
        domain.append(("sampled", "=", True))
    Record = env["crm.migration.record"]
    columns = ["key", "model", "values_json", "refs_json", "lookups_json", "match_json", "attach_to"]
    Record.flush_model(columns + ["state", "sampled", "migration_id"])
    ids = Record.search(domain, order="id").ids
    lines = []
    # read in chunks straight from the table: the JSON of a large migration is big, and the ORM
    # cache of the records (dirty values included) is left as it is
    for start in range(0, len(ids), CHECK_CHUNK):
        found = paging.rows(Record, ids[start:start + CHECK_CHUNK], columns)
        for row in (found[i] for i in ids[start:start + CHECK_CHUNK] if i in found):
            key, model_name, values, refs, lookups, match, attach_to = (row[c] for c in columns)
            # the shapes staging checked (docs/staging-contract.md), which a write may have changed
            shapes = [env._("%(field)s must be a JSON object", field=name)
                      for name, value in (("values_json", values), ("refs_json", refs), ("lookups_json", lookups))
                      if value is not None and not isinstance(value, dict)]
            if match is not None and not isinstance(match, list):
                shapes.append(env._("%(field)s must be a JSON list", field="match_json"))
            problems = shapes or _record_problems(policy, model_name, values or {}, refs or {}, lookups or {},
                                                  match or [])
            if attach_to and not attached.is_attached(model_name):
                problems.append(env._("'attach_to' is only accepted on attached records"))
            if problems:
                lines.append(f"- {key}: {'; '.join(problems)}")
    if lines:
        raise UserError(env._(
            "Migration %(name)s was not committed; nothing was written. These staged records target what a "
            "migration may not write (README, \"Security\"):\n%(lines)s",
            name=migration.display_name, lines="\n".join(lines[:MAX_LISTED])
            + ("\n..." if len(lines) > MAX_LISTED else "")))


def schema_model(model, items, migration):
    """The ``ir.model.fields`` model a commit creates custom fields with: ``sudo()`` (the
    Migration Manager group has no rights on ``ir.model``), after checking each item's create
    values again: an ``x_`` field of an allowed type on a business target model (or a custom
    model the migration declares), ``model_id`` being that model."""
    env = model.env
    business = business_models(env) | declared_models(migration)
    for item in items:
        vals = item.create_vals(model)
        problems = _schema_problems(env, {k: v for k, v in vals.items() if k != "model_id"}, {}, {}, [], business)
        model_id = vals.get("model_id")
        if not model_id or env["ir.model"].sudo().browse(model_id).model != vals.get("model"):
            problems.append(env._("custom field: model_id must be the ir.model of %(model)r", model=vals.get("model")))
        if problems:
            raise UserError(env._("Staged record %(key)s: refused: %(problems)s.", key=repr(item.key),
                                  problems="; ".join(problems)))
    return model.sudo()


def model_schema_model(model, items, migration):
    """The ``ir.model`` model a commit creates custom models with: ``sudo()``, after checking each
    item again (an ``x_`` model this migration declares, name and label only)."""
    policy = Policy(model.env, declared_models(migration))
    for item in items:
        problems = _model_schema_problems(policy, item.values, {}, {}, [])
        if problems:
            raise UserError(model.env._("Staged record %(key)s: refused: %(problems)s.", key=repr(item.key),
                                        problems="; ".join(problems)))
    return model.sudo()


def removable_models(env, models):
    """The custom models a rollback may remove, with ``sudo()``: ``x_`` models made by hand
    (``state`` manual); anything else refuses the rollback."""
    bad = models.sudo().filtered(lambda m: m.state != "manual" or not CUSTOM_MODEL_RE.match(m.model or ""))
    if bad:
        raise UserError(env._("These models are not custom models a migration created; nothing was undone: "
                              "%(models)s", models=", ".join(bad.mapped("model"))))
    return models.sudo()


def prepare_items(engine, items):
    """A commit batch, once its links are known: a record already linked must be of the link's
    model (a staged record rewritten onto another model would update another record with the
    linked id). Custom-field records: their ``model_id`` lookup and ``[name, model]`` match are
    resolved here, with ``sudo()`` on ``ir.model``/``ir.model.fields`` (which the group cannot
    read), so the generic lookup and match code never sees them."""
    env = engine.env
    for item in items:
        if not item.done and item.linked and item.linked.model != item.model:
            item.finish("failed", error=env._(
                "this key is linked to a %(linked)s record, the staged record is a %(model)s: refused",
                linked=item.linked.model, model=item.model))
        if item.done or item.model != SCHEMA_MODEL:
            continue
        model_name = item.values.get("model")
        if model_name not in env:
            item.finish("skipped", error=env._("custom field: model %(model)s does not exist in this database",
                                               model=model_name))
            continue
        if "model_id" in item.lookups:
            item.rel["model_id"] = env["ir.model"].sudo()._get_id(model_name)
        item.lookups = {}
        if item.match:
            existing = env[SCHEMA_MODEL].sudo().search(
                [("model", "=", model_name), ("name", "=", item.values.get("name"))], limit=1)
            item.match_id = existing.id or None
            item.match = []


def removable_fields(env, fields_):
    """The custom fields a rollback may remove, with ``sudo()``: ``x_`` fields created by hand
    (``state`` manual) on a business target model; anything else refuses the rollback."""
    business = business_models(env)
    bad = fields_.sudo().filtered(lambda f: f.state != "manual" or not SCHEMA_NAME_RE.match(f.name or "")
                                  or (f.model not in business and not _is_custom_model(env, f.model)))
    if bad:
        raise UserError(env._("These fields are not custom fields a migration created; nothing was undone: "
                              "%(fields)s", fields=", ".join("%s.%s" % (f.model, f.name) for f in bad)))
    return fields_.sudo()


def _is_custom_model(env, model_name):
    """An ``x_`` model made by hand (``state`` manual), as a migration's ``ir.model`` schema records make."""
    if not isinstance(model_name, str) or not CUSTOM_MODEL_RE.match(model_name):
        return False
    return bool(env["ir.model"].sudo().search_count([("model", "=", model_name), ("state", "=", "manual")]))


# ---------------------------------------------------------------------- links (rollback)
def check_links(migration, links):
    """Links a rollback (or its conflict check) would read or undo: only on target models, and
    custom fields only for ``x_`` ones. Links are written by the engines alone (the group has
    no write access), so another link is forged: the rollback is refused, nothing read."""
    env = migration.env
    business = business_models(env) | declared_models(migration)
    glue = migration._glue_link_models()
    lines = []
    judged = {}
    schema_ids = [link.res_id for link in links if link.model == SCHEMA_MODEL]
    schema = {f.id: f for f in env[SCHEMA_MODEL].sudo().browse(schema_ids).exists()} if schema_ids else {}
    for link in links:
        if link.model == SCHEMA_MODEL:
            field = schema.get(link.res_id)
            if field and not (field.state == "manual" and SCHEMA_NAME_RE.match(field.name or "")
                              and field.model in business):
                lines.append(env._("- %(key)s: %(model)s %(id)s is not a custom field a migration creates",
                                   key=link.key, model=SCHEMA_MODEL, id=link.res_id))
            continue
        if link.model == MODEL_SCHEMA:
            model = env[MODEL_SCHEMA].sudo().browse(link.res_id).exists()
            if model and not (model.state == "manual" and model.model in business):
                lines.append(env._("- %(key)s: %(model)s %(id)s is not a custom model this migration declares",
                                   key=link.key, model=MODEL_SCHEMA, id=link.res_id))
            continue
        if attached.is_attached(link.model) or link.model in glue:
            continue  # their fields are the ATTACHED_MODELS allowlist, parent pair included
        if link.model not in business:
            lines.append(env._("- %(key)s: %(model)s is not a model a migration writes",
                               key=link.key, model=link.model))
            continue
        for fname in list(link.values_after_json or {}) + list(link.values_before_json or {}):
            # each (model, field) judged once (a rollback of 100,000 links names a few dozen)
            if (link.model, fname) not in judged:
                judged[(link.model, fname)] = link.model in env and field_problem(env, link.model, fname)
            if judged[(link.model, fname)]:
                lines.append(env._("- %(key)s: %(model)s.%(field)s is not a field a migration writes",
                                   key=link.key, model=link.model, field=fname))
                break
    if lines:
        raise UserError(env._(
            "Migration %(name)s: refused: links that no commit of a migration can have made:\n%(lines)s",
            name=migration.display_name, lines="\n".join(lines[:MAX_LISTED])))


def readable_fields(model, fnames):
    """``(readable, hidden)`` of ``fnames`` on ``model`` for the current user: fields the policy
    allows and the user may read; the others are named, never their values."""
    readable, hidden = [], []
    for fname in fnames:
        field = model._fields.get(fname)
        if field is None:
            continue
        if field_problem(model.env, model._name, fname) or not field_accessible(field, model):
            hidden.append(fname)
        else:
            readable.append(fname)
    return readable, hidden


def display_name(env, model_name, res_id):
    """The record's name when the user may read it, else ''."""
    if model_name not in env or not res_id:
        return ""
    record = env[model_name].browse(res_id).exists()
    if not record or not record.has_access("read"):
        return ""
    return record.display_name or ""
