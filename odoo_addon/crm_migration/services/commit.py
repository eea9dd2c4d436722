"""Commit engine: staged records -> real Odoo records (docs/staging-contract.md, "Commit semantics").

Order of work::

    objects in topological order of their refs and deps (cycle -> UserError)
      records of one object in passes (a record waits while a same-object ref/dep is pending)
        batches of ``batch_size`` records:
          1. one ``search`` on links for the batch's keys, ref keys and deps (unlinked -> skipped)
          2. lookups: resolved owners first (required lookups), then one ``search`` per
             (model, field, where-paths) group, alt fields in further rounds; a required lookup
             that finds nothing -> fallback user, else the record is ``waiting`` (owners queue)
          3. one ``search_read`` per match rule (many2one rule fields on the resolved id)
          4. already linked / matched records: fill empty fields only (values_before in the link)
          5. one ``create(vals_list)`` per model; on error retried record by record in savepoints
             (custom fields: the registry knows them before the next object is created)
          6. one ``create`` of the batch's links, then the staged records' states in one UPDATE
    the generated "Migrated fields" form view of each model that got custom fields

Everything runs as the calling user (no sudo): ACLs and constraints of the target models apply.
Two exceptions, both bookkeeping of custom fields: the generated "Migrated fields" view, and the
count of records using a custom field (all records, whatever the user may read).

Performance notes: the staged records are read once (one
``search_fetch``, each JSON field decoded once) into ``_Item`` objects; case-insensitive text
comparisons (match rules, lookups) are one ``lower(column) IN (...)`` condition per field added to
the ORM's own query (access rules and ``active`` filtering included) instead of an OR of one
``=ilike`` per value, which PostgreSQL can only evaluate as rows x values pattern matches; the
batch's bookkeeping on ``crm.migration.record`` (our own model) goes through ``_write_multi``, the
ORM's batched UPDATE used by flush, followed by cache invalidation and ``modified``.
"""

import logging
from collections import defaultdict
from datetime import date, datetime

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL
from odoo.tools.mail import is_html_empty

from ..compat import as_validation_error, setup_models
from . import attached, bulk, derived, guard, key_claim, plan as planning
from .staging import MODEL_SCHEMA, OWNER_MODEL, SCHEMA_MODEL, ref_keys

# the same friendly text the RPC layer shows for SQL constraint errors (17/18/19: see compat)
_as_validation_error = as_validation_error

_logger = logging.getLogger(__name__)

QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_notrack": True,
    "mail_create_nosubscribe": True,
    # calendar.event: no invitation/update mails to attendees (calendar.attendee
    # _send_mail_to_attendees), no alarm setup / notification (calendar.event create and write),
    # and never notify the author
    "no_mail_to_attendees": True,
    "dont_notify": True,
    "mail_notify_author": False,
    # no "you have been assigned" mail to the owners of migrated records (project.task, mail.thread)
    "mail_auto_subscribe_no_notify": True,
    # mail.activity: no assignment notification, subscription or bus message (services/attached.py)
    attached.IMPORT_CONTEXT: True,
}
# states of staged records that a commit (re)processes
TODO_STATES = ("staged", "failed", "skipped", "waiting")
# field types whose falsy value is a real value (0, False): never "empty", never filled
NEVER_EMPTY_TYPES = ("boolean", "integer", "float", "monetary")
TEXT_TYPES = ("char", "text", "html", "selection")
# the field filled with the staged key on create, on every model that has it
SOURCE_KEY_FIELD = "source_key"
# generated inherited form view showing the custom fields migrations created on a model
MIGRATED_FIELDS_VIEW_MODULE = "__crm_migration__"
MIGRATED_FIELDS_PAGE = "crm_migration_migrated_fields"


def error_text(env, exc):
    """Odoo's own message for an exception raised while creating/writing/unlinking."""
    if isinstance(exc, psycopg2.IntegrityError) and _as_validation_error:
        try:
            exc = _as_validation_error(env, exc)
        except Exception:  # noqa: BLE001 - keep the raw error below
            pass
    if isinstance(exc, psycopg2.Error):
        text = exc.pgerror or str(exc)
    else:
        # UserError, ValidationError, RedirectWarning, ValueError...: the message is the first arg
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return text.strip() or type(exc).__name__


def is_empty(field, value):
    """Whether an Odoo value counts as empty for "fill empty fields only"."""
    if field.type in NEVER_EMPTY_TYPES:
        return False
    if field.type == "html":
        return is_html_empty(value)
    return not value


def json_value(record, fname):
    """JSON-safe current value of ``record.fname`` (as written back by a rollback)."""
    field = record._fields[fname]
    value = record[fname]
    if field.type == "many2one":
        return value.id or False
    if field.type in ("one2many", "many2many"):
        return value.ids
    if isinstance(value, datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, date):
        return fields.Date.to_string(value)
    if value is None:
        return False
    return str(value) if field.type == "html" and value else value


def json_vals(vals):
    """JSON-safe copy of create/write values: x2many commands become the resulting ids
    (``Command.set``) or the added ids (``Command.link``)."""
    out = {}
    for fname, value in vals.items():
        if isinstance(value, list) and value and all(isinstance(c, (tuple, list)) for c in value):
            ids = []
            for command in value:
                if command[0] == Command.SET:
                    ids = list(command[2])
                elif command[0] == Command.LINK:
                    ids.append(command[1])
            value = ids
        out[fname] = value
    return out


# audit action of each link action written by a commit
AUDIT_ACTIONS = {"created": "create", "updated": "update", "matched": "match"}


def _norm(fname, value):
    """Comparison form of a value for match rules and lookups (a many2one value read by
    ``search_read``, ``(id, name)``, compares on its id)."""
    if isinstance(value, tuple):
        return value[0]
    if isinstance(value, datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, date):
        return fields.Date.to_string(value)
    if isinstance(value, str):
        value = value.strip()
        if "email" in fname:
            return value.lower()
    return value


def _lookup_key(value):
    """Lookups compare text case-insensitively (country codes, logins, emails)."""
    if isinstance(value, str):
        return value.strip().lower()
    return _norm("", value)


def owner_value(value):
    """Normalised value of a row of the owners queue (crm.migration.owner.value)."""
    return str(value).strip().lower()


# fields of crm.migration.record read by a commit (source_json, the large one, only on a warning)
ITEM_FIELDS = ["key", "object", "model", "values_json", "refs_json", "lookups_json", "match_json", "deps_json",
               "hash", "issues_json", *attached.ITEM_FIELDS]
# fields of crm.migration.record read to plan a commit (services/plan.py)
PLAN_FIELDS = ITEM_FIELDS
# fields of crm.migration.record written by the bookkeeping of a batch
BOOKKEEPING_FIELDS = ["state", "res_id", "error_message", "issues_json"]


class _Item:
    """Working state of one staged record during a commit (its JSON fields decoded once)."""

    def __init__(self, record):
        self.record = record
        self.record_id = record.id
        self.key = record.key
        self.object = record.object
        self.model = record.model
        self.values = record.values_json or {}
        self.refs = record.refs_json or {}
        self.lookups = record.lookups_json or {}
        self.match = record.match_json or []
        self.hash = record.hash or ""
        self.issues = record.issues_json or []
        self.ref_keys = ref_keys(self.refs)
        self.deps = record.deps_json or []
        # keys that must be committed first: refs and deps (object order, same-object passes)
        self.dep_keys = list(dict.fromkeys(self.ref_keys + self.deps))
        self.rel = {}  # field -> resolved id (many2one) / ids (many2many), from refs and lookups
        self.new_issues = []
        self.rule_index = 0
        self.linked = None  # crm.migration.link already owning this key
        self.match_id = None  # id found by a match rule
        self.state = None  # final crm.migration.record state
        self.res_id = 0
        self.error = False
        self.link_vals = None
        # attached records (services/attached.py): the parent key, the file's {sha1, size}, and
        # the parent's model/res_id pair once resolved
        self.attach_to = record.attach_to or False
        self.blob = record.blob_json or {}
        self.attach_vals = {}

    @property
    def done(self):
        return self.state is not None

    def warn(self, fname, message):
        source = self.record.source_json or {}
        issue = {"level": "warning", "field": fname, "message": message}
        if source.get("file"):
            issue["file"] = source["file"]
        if source.get("row") is not None:
            issue["row"] = source["row"]
        self.new_issues.append(issue)

    def finish(self, state, res_id=0, error=False):
        self.state, self.res_id, self.error = state, res_id or 0, error

    def next_rule(self, model):
        """Next match rule whose plain fields are all non-empty in values, or None. A many2one
        field of a rule (from refs or lookups) is compared on the id it resolved to; no id
        matches records where the field is empty (a category without parent)."""
        while self.rule_index < len(self.match):
            rule = self.match[self.rule_index]
            self.rule_index += 1
            if all(model._fields[f].type == "many2one" or self.values.get(f) not in (None, False, "")
                   for f in rule):
                return rule
        return None

    def match_value(self, model, fname):
        if model._fields[fname].type == "many2one":
            return self.rel.get(fname) or False
        return self.values[fname]

    def create_vals(self, model):
        vals = {f: v for f, v in self.values.items() if v is not None}
        for fname, value in self.rel.items():
            if model._fields[fname].type == "many2many":
                vals[fname] = [Command.set(value)]
            else:
                vals[fname] = value
        if SOURCE_KEY_FIELD in model._fields and SOURCE_KEY_FIELD not in vals:
            vals[SOURCE_KEY_FIELD] = self.key
        vals.update(self.attach_vals)
        return vals


# ---------------------------------------------------------------------- schema (custom fields)
def field_usage_count(env, field):
    """How many records of the field's model (archived ones included, whatever the user's
    record rules) have a value in the custom field ``field`` (an ir.model.fields record): one
    ``search_count``."""
    if field.model not in env or field.name not in env[field.model]._fields:
        return 0
    model = env[field.model].sudo().with_context(active_test=False)
    domain = [(field.name, "=", True)] if field.ttype == "boolean" else [(field.name, "!=", False)]
    return model.search_count(domain)


def migrated_fields(env, model_names):
    """Custom fields (manual ``x_`` ir.model.fields) on ``model_names`` that migrations point to:
    through their links, or kept by a rollback (rolled-back schema record still holding the
    field's id). ``{model: ir.model.fields}``."""
    ids = set(env["crm.migration.link"].sudo().search([("model", "=", SCHEMA_MODEL)]).mapped("res_id"))
    ids.update(env["crm.migration.record"].sudo().search(
        [("model", "=", SCHEMA_MODEL), ("state", "=", "rolled_back"), ("res_id", "!=", 0)]
    ).mapped("res_id"))
    result = defaultdict(lambda: env["ir.model.fields"].sudo())
    if ids:
        for field in env["ir.model.fields"].sudo().search(
            [("id", "in", list(ids)), ("model", "in", list(model_names)), ("state", "=", "manual")], order="id"
        ):
            if field.name.startswith("x_"):
                result[field.model] |= field
    return result


def _migrated_fields_xmlid(model_name):
    return "migrated_fields_" + model_name.replace(".", "_")


def migrated_fields_view(env, model_name):
    """The generated "Migrated fields" view of a model, or an empty recordset."""
    data = env["ir.model.data"].sudo().search([
        ("module", "=", MIGRATED_FIELDS_VIEW_MODULE), ("name", "=", _migrated_fields_xmlid(model_name)),
        ("model", "=", "ir.ui.view"),
    ], limit=1)
    return env["ir.ui.view"].sudo().browse(data.res_id).exists()


def _migrated_fields_arch(parent, field_names):
    """Arch of the inherited view: a "Migrated fields" page in the form's notebook, or a group
    at the end of the sheet (the form) when it has no notebook."""
    combined = parent._get_combined_arch()
    fields_xml = "".join(f'<field name="{name}"/>' for name in field_names)
    group = f'<group name="{MIGRATED_FIELDS_PAGE}_group">{fields_xml}</group>'
    for expr in ("/form/sheet/notebook", "/form/notebook"):
        if combined.xpath(expr):
            return (f'<data><xpath expr="{expr}" position="inside">'
                    f'<page string="Migrated fields" name="{MIGRATED_FIELDS_PAGE}">{group}</page>'
                    f'</xpath></data>')
    expr = "/form/sheet" if combined.xpath("/form/sheet") else "/form"
    return (f'<data><xpath expr="{expr}" position="inside">'
            f'<group string="Migrated fields" name="{MIGRATED_FIELDS_PAGE}">{group}</group>'
            f'</xpath></data>')


def sync_migrated_fields_views(env, model_names, exclude=()):
    """Make sure each model of ``model_names`` has exactly one generated form view listing the
    custom fields migrations created there (``migrated_fields``, minus the ir.model.fields ids
    in ``exclude``, about to be removed); no such field left -> the view is removed. The view is
    recorded by the XML id ``__crm_migration__.migrated_fields_<model>`` (not a module of the
    database: never touched by module updates)."""
    View = env["ir.ui.view"].sudo()
    by_model = migrated_fields(env, model_names)
    for model_name in sorted(set(model_names)):
        names = [f.name for f in by_model[model_name] if f.id not in exclude]
        view = migrated_fields_view(env, model_name)
        if not names or model_name not in env:
            view.unlink()  # its ir.model.data row goes with it
            continue
        parent = View.browse(View.default_view(model_name, "form"))
        if not parent:
            continue
        arch = _migrated_fields_arch(parent, names)
        if view:
            if view.arch_db != arch or view.inherit_id != parent or not view.active:
                view.write({"arch_db": arch, "inherit_id": parent.id, "mode": "extension", "active": True})
        else:
            view = View.create({
                "name": f"crm_migration.{model_name}.migrated_fields",
                "model": model_name,
                "type": "form",
                "inherit_id": parent.id,
                "mode": "extension",
                "priority": 99,
                "arch": arch,
            })
            env["ir.model.data"].sudo().create({
                "module": MIGRATED_FIELDS_VIEW_MODULE,
                "name": _migrated_fields_xmlid(model_name),
                "model": "ir.ui.view",
                "res_id": view.id,
                "noupdate": True,
            })


class _Lookup:
    """One lookup of one staged record while it is being resolved (field, then alt_fields)."""

    def __init__(self, item, fname, spec):
        self.item = item
        self.fname = fname
        self.spec = spec
        self.model = spec["model"]
        self.value = spec["value"]
        self.fields = [spec["field"], *(spec.get("alt_fields") or [])]
        self.where = spec.get("where") or {}
        self.required = bool(spec.get("required"))
        self.level = 0
        self.found = []

    @property
    def group(self):
        return self.model, self.fields[self.level], tuple(sorted(self.where))


def search_text_rows(model, conditions, fnames):
    """``search_read`` of ``fnames`` on the records of ``model`` where, for each
    ``(fname, values, case_insensitive)`` of ``conditions``, the field's value is one of
    ``values`` (text compared case-insensitively when ``case_insensitive``). Same rows as an
    ``=ilike`` per value (``lower(a) = lower(b)``), but one hashed ``IN`` per field instead of
    rows x values pattern matches. Access rules and ``active`` filtering apply as for any search.
    """
    domain = [(fname, "in", list(values)) for fname, values, ci in conditions if not ci]
    query = model._search(domain)
    if query.is_empty():
        return []
    for fname, values, ci in conditions:
        if ci:
            query.add_where(SQL(
                "lower(%s) IN (SELECT lower(v) FROM unnest(%s::text[]) AS v)",
                model._field_to_sql(query.table, fname, query), list(values),
            ))
    return model.search_read([("id", "in", query)], fnames)


class CommitEngine:
    def __init__(self, migration, batch_size=500, sampled_only=False, on_batch=None):
        migration.ensure_one()
        self.migration = migration
        self.sampled_only = sampled_only  # commit only the records marked ``sampled``
        # called with the number of records of each batch once its bookkeeping is written (the
        # commit job commits the transaction there, so other transactions see the progress)
        self.on_batch = on_batch
        self.env = migration.env
        self.Record = self.env["crm.migration.record"]
        # links are the engines' own bookkeeping: the group may read them, never write them
        self.Link = self.env["crm.migration.link"].sudo()
        self.batch_size = batch_size
        last = self.Link.search([("migration_id", "=", migration.id)], order="sequence desc", limit=1)
        self.sequence = last.sequence or 0
        self.Owner = self.env["crm.migration.owner"]
        self.owner_rows = {}  # (model, field, normalised value) -> crm.migration.owner
        self._owner_rows_loaded = False
        self._plan_items = None  # {record id: _Item} kept by plan() for the serial run
        self.schema_field_ids = set()  # custom fields created or matched by this commit
        # services/derived.py: rows of matched records before the run touched them (per engine:
        # each chunk snapshots what it meets), and the last mail.message id before the run
        self.derived_before = {}
        self.derived_message_floor = None

    # ------------------------------------------------------------------ ordering
    def run(self):
        """The serial commit: the plan's chunks one after the other in this transaction (the
        commit job commits after each, through ``on_batch``), then ``finish``. A parallel or
        queued commit runs the same chunks (services/parallel.py)."""
        self._plan_items = {}  # the serial run reads each staged record once: plan() keeps them
        plan = self.plan()
        if not plan:
            return
        for wave in plan["waves"]:
            for chunk in wave:
                self.commit_chunk(chunk)
        self.finish(plan)

    # ------------------------------------------------------------------ plan, chunks, finish
    # (issue #11: the serial, parallel and queued commits run the same chunks; services/plan.py)
    def plan(self):
        """The commit plan of the records to commit (services/plan.py), or None when there is
        nothing to commit. Reads the staged records once; writes nothing."""
        domain = [("migration_id", "=", self.migration.id), ("state", "in", TODO_STATES)]
        if self.sampled_only:
            domain.append(("sampled", "=", True))
        todo = self.Record.search_fetch(domain, PLAN_FIELDS, order="id")
        if not todo:
            return None
        since = self.env.cr.now()  # start of this run's first transaction
        derived.start_run(self)  # what Odoo derives on matched records (services/derived.py)
        # kept on the migration (a parallel commit's plan goes through the RPC caller: not trusted)
        self.migration.sudo().derived_message_floor = self.derived_message_floor
        edited_before = [link.id for link in self._links_written_after()]
        items = [_Item(rec) for rec in todo]
        by_object = defaultdict(list)
        for item in items:
            by_object[item.object].append(item)
        order = self.object_order(items)
        ordered = [i for obj in order for i in attached.original_order(by_object[obj])]
        waves = planning.build_waves(self, ordered, order, self.batch_size, self.sequence + 1)
        if self._plan_items is not None:
            self._plan_items.update((item.record_id, item) for item in items)
        else:
            self.env.invalidate_all()  # the staged records' JSON is not kept for the chunks
        return {
            "migration": self.migration.id,
            "since": since.isoformat(sep=" "),  # microseconds kept
            "edited_before": edited_before,
            "schema": any(item.model == SCHEMA_MODEL for item in items),
            "total": len(items),
            "waves": waves,
        }

    def commit_chunk(self, chunk):
        """Commit one chunk of the plan (``{"ids", "seq", "skip"?}``) in the current transaction:
        its records still to do (a chunk run again after it committed does nothing), in the
        plan's order. Returns the number of records done."""
        ids = [int(i) for i in chunk["ids"]]
        if self._plan_items:  # the serial run: the items plan() read, not done yet
            items = [self._plan_items.pop(i) for i in ids if i in self._plan_items]
        else:
            domain = [("id", "in", ids), ("migration_id", "=", self.migration.id), ("state", "in", TODO_STATES)]
            position = {rid: n for n, rid in enumerate(ids)}
            items = sorted((_Item(rec) for rec in self.Record.search_fetch(domain, ITEM_FIELDS)),
                           key=lambda item: position[item.record_id])
        if not items:
            return 0
        self.sequence = int(chunk["seq"]) - 1
        if not self._owner_rows_loaded:
            self.owner_rows = {(row.model, row.field, row.value): row
                               for row in self.Owner.search([("migration_id", "=", self.migration.id)])}
            self._owner_rows_loaded = True
        skip = chunk.get("skip")
        if skip:
            for item in items:
                item.finish("skipped", error=skip.get(str(item.record_id)) or skip.get(item.record_id))
            self._save_items(items)
        else:
            self.commit_batch(items)
        self._batch_done(items)
        return len(items)

    def finish(self, plan):
        """After the last chunk: the migration's own side-effect writes are not rollback
        conflicts (``_absorb_own_writes``), and the "Migrated fields" views follow the custom
        fields."""
        since = datetime.fromisoformat(plan["since"])
        # glue modules finish what needs every object in (an invoice posted once its lines are);
        # what they create is linked after every chunk's reserved sequence numbers
        last = self.Link.search([("migration_id", "=", self.migration.id)], order="sequence desc", limit=1)
        self.sequence = max(self.sequence, last.sequence or 0)
        self.migration._after_commit_run(self)
        self._absorb_own_writes(since, set(plan.get("edited_before") or ()))
        self.derived_message_floor = self.migration.sudo().derived_message_floor or None
        derived.finish_run(self)
        field_ids = set(self.schema_field_ids)
        if plan.get("schema"):
            field_ids.update(self.Link.search([("migration_id", "=", self.migration.id),
                                               ("model", "=", SCHEMA_MODEL)]).mapped("res_id"))
        if field_ids:
            # the generated "Migrated fields" form view, once the fields of the model exist
            models = self.env[SCHEMA_MODEL].sudo().browse(sorted(field_ids)).exists().mapped("model")
            sync_migrated_fields_views(self.env, models)

    def _links_written_after(self, since=None):
        """``{link: write_date}`` of this migration's created/updated links whose record was
        written after the link's ``written_at`` (and, given ``since``, at or after it)."""
        links = self.Link.search_fetch([("migration_id", "=", self.migration.id), ("action", "in", ("created", "updated")),
                                        ("model", "!=", SCHEMA_MODEL)], ["model", "res_id", "written_at"])
        by_model = defaultdict(list)
        for link in links:
            by_model[link.model].append(link)
        result = {}
        for model_name, model_links in by_model.items():
            model = self.env[model_name].sudo().with_context(active_test=False) if model_name in self.env else None
            if model is None or not model._log_access:
                continue
            domain = [("id", "in", [l.res_id for l in model_links])] + ([("write_date", ">=", since)] if since else [])
            stamps = {row["id"]: row["write_date"] for row in model.search_read(domain, ["write_date"])}
            for link in model_links:
                stamp = stamps.get(link.res_id)
                if stamp and (not link.written_at or link.written_at < stamp):
                    result[link] = stamp
        return result

    def _absorb_own_writes(self, since, edited_before):
        """Records of this migration that this run wrote as a side effect of its own creates (a
        company whose first contact gives it an address, a sampled deal a later batch fills) are
        not "edited in Odoo since the migration wrote them": their links' ``written_at`` moves to
        their ``write_date``. Only writes since the run started count, and links already edited
        before it (``edited_before``: an edit made between a sample and the full commit) stay
        rollback conflicts."""
        for link, stamp in self._links_written_after(since).items():
            if link.id not in edited_before:
                link.written_at = stamp

    def object_order(self, items):
        """Objects sorted so that an object comes after every object its refs point to."""
        key_object = {i.key: i.object for i in items}
        objects = list(dict.fromkeys(i.object for i in items))
        deps = {obj: set() for obj in objects}
        for item in items:
            for key in item.dep_keys:
                target = key_object.get(key)
                if target and target != item.object:
                    deps[item.object].add(target)
        order, done = [], set()
        while len(order) < len(objects):
            ready = [o for o in objects if o not in done and deps[o] <= done]
            if not ready:
                raise UserError(self._cycle_message(objects, deps, done))
            order.extend(ready)
            done.update(ready)
        return order

    def _cycle_message(self, objects, deps, done):
        stuck = [o for o in objects if o not in done]
        path = [stuck[0]]
        while True:
            nxt = sorted(deps[path[-1]] - done)[0]
            if nxt in path:
                cycle = path[path.index(nxt):] + [nxt]
                break
            path.append(nxt)
        return self.env._(
            "The staged objects reference each other in a cycle: %(cycle)s (objects waiting: %(objects)s). "
            "Stage one side of the cycle without its ref and set it in a later migration.",
            cycle=" → ".join(cycle),
            objects=", ".join(stuck),
        )

    def _batch_done(self, items):
        if self.on_batch:
            self.on_batch(len(items))

    # ------------------------------------------------------------------ one batch
    def commit_batch(self, items):
        # 1. links of the batch's own keys and of every key it refers to: one search
        keys = {item.key for item in items}
        for item in items:
            keys.update(item.dep_keys)
        link_by_key = {}
        for link in self.Link.search_fetch([("key", "in", list(keys))], ["migration_id", "key", "model", "res_id",
                                                                           "action", "hash"], order="id"):
            link_by_key.setdefault(link.key, link)  # the first link of a key owns it
        for item in items:
            item.linked = link_by_key.get(item.key)
        self._resolve_refs(items, link_by_key)
        attached.resolve_parents(self, items, link_by_key)
        guard.prepare_items(self, items)

        # 2. lookups
        self._resolve_lookups([i for i in items if not i.done])

        # 3. match rules for records not linked yet
        self._find_matches([i for i in items if not i.done and not i.linked and i.match])

        # 4. linked or matched records: fill empty fields; a delta round's updates of this
        # migration's own records first (services/delta.py)
        from .delta import apply_updates  # noqa: PLC0415 - delta.py builds on this module

        existing = [i for i in items if not i.done and (i.linked or i.match_id)]
        derived.snapshot_existing(self, existing)
        apply_updates(self, existing)
        self._update_existing([i for i in existing if not i.done])

        # 5. the rest is created
        to_create = defaultdict(list)
        for item in items:
            if not item.done:
                to_create[item.model].append(item)
        # a database-level claim of the keys about to be created (services/key_claim.py): a
        # concurrent commit of the same keys waits, then retries and links instead of creating
        key_claim.claim_keys(self.env, self.migration.id,
                             [item.key for model_items in to_create.values() for item in model_items])
        for model, model_items in to_create.items():
            if attached.is_attached(model):
                attached.create(self, model, model_items)
            else:
                with derived.side_tables(self, model, model_items):
                    self._create(model, model_items)

        # 6. bookkeeping
        link_vals = [item.link_vals for item in items if item.link_vals]
        if link_vals:
            # links and audit rows: one multi-row INSERT each (services/bulk.py says why)
            bulk.insert_links(self.env, link_vals)
            bulk.insert_audit(self.env, [{
                "migration_id": vals["migration_id"],
                "model": vals["model"],
                "res_id": vals["res_id"],
                "key": vals["key"],
                "action": AUDIT_ACTIONS[vals["action"]],
                "values_before_json": vals["values_before_json"] or {},
                "values_after_json": vals["values_after_json"] or {},
            } for vals in link_vals])
            derived.save_batch(self, items)
        self._save_items(items)

    def _save_items(self, items):
        """Write the final state of the items' staged records: one batched UPDATE (the ORM's
        ``_write_multi``, as used by flush) instead of one ``write`` per record, since every
        record gets its own ``res_id``. Caches are invalidated and dependents (issue flags,
        migration counts) marked as modified, as ``write`` would."""
        if not items:
            return
        Record = self.Record
        records = Record.browse([item.record_id for item in items])
        records.check_access("write")
        issues_field = Record._fields["issues_json"]
        vals_list = []
        for item in items:
            vals = {"state": item.state, "res_id": item.res_id or 0, "error_message": item.error or None}
            new_issues = [i for i in item.new_issues if i not in item.issues]
            if new_issues:
                item.issues = item.issues + new_issues
                vals["issues_json"] = issues_field.convert_to_column(item.issues, records)
            vals_list.append(vals)
        # every pending write of these records first (a delta hook may have set other fields, which
        # also dirties write_date, invalidated below)
        records.flush_recordset()
        records._write_multi(vals_list)
        records.invalidate_recordset(BOOKKEEPING_FIELDS + ["write_date", "write_uid"], flush=False)
        records.modified(BOOKKEEPING_FIELDS)

    def add_created_link(self, key, model_name, res_id, values_after=None, record_id=False):
        """A record the run created beside the staged ones (a payment registered on a migrated
        invoice by a glue module): linked and audited like a created record, so a rollback
        removes it first (it comes last in the commit order)."""
        self.sequence += 1
        now = self.env.cr.now()
        link = self.Link.create({
            "migration_id": self.migration.id, "record_id": record_id, "key": key, "model": model_name,
            "res_id": res_id, "action": "created", "values_before_json": {}, "values_after_json": values_after or {},
            "written_at": now, "hash": False, "sequence": self.sequence,
        })
        self.env["crm.migration.audit"].sudo().create({
            "migration_id": self.migration.id, "model": model_name, "res_id": res_id, "key": key,
            "action": "create", "values_before_json": {}, "values_after_json": values_after or {},
        })
        return link

    def _next_link(self, item, res_id, action, values_before=None, values_after=None):
        self.sequence += 1
        item.link_vals = {
            "migration_id": self.migration.id,
            "record_id": item.record_id,
            "key": item.key,
            "model": item.model,
            "res_id": res_id,
            "action": action,
            "values_before_json": values_before or {},
            "values_after_json": values_after or {},
            "written_at": self.env.cr.now(),
            "hash": item.hash,
            "sequence": self.sequence,
        }

    # ------------------------------------------------------------------ refs
    def _resolve_refs(self, items, link_by_key):
        """Refs to ids through the links; deps must be linked too. A ref or dep that is not
        linked, or a field of ``values``/``match`` that does not exist (a custom field whose
        schema record is not committed), makes the record ``skipped``."""
        _ = self.env._
        missing = {k for item in items for k in item.dep_keys if k not in link_by_key}
        missing_state = {}
        if missing:
            for row in self.Record.search_read(
                [("migration_id", "=", self.migration.id), ("key", "in", list(missing))], ["key", "state"]
            ):
                missing_state[row["key"]] = row["state"]

        def not_linked(what, key):
            if key in missing_state:
                return _("%(what)s: %(key)s is not committed (state %(state)s)",
                         what=what, key=key, state=missing_state[key])
            return _("%(what)s: %(key)s is neither staged in this migration nor linked by an earlier one",
                     what=what, key=key)

        for item in items:
            if item.model not in self.env.registry:
                item.finish("skipped", error=_("model %(model)s does not exist in this database", model=item.model))
                continue
            model = self.env[item.model]
            problems = []
            unknown = sorted({f for f in item.values if f not in model._fields}
                             | {f for rule in item.match for f in rule if f not in model._fields})
            if unknown:
                problems.append(_(
                    "field(s) %(fields)s do not exist on %(model)s (custom fields whose schema record is not "
                    "committed?)", fields=", ".join(unknown), model=item.model,
                ))
            for fname, value in item.refs.items():
                field = model._fields[fname]
                ids = []
                for key in value if isinstance(value, list) else [value]:
                    link = link_by_key.get(key)
                    if not link:
                        problems.append(not_linked(_("ref %(field)s", field=fname), key))
                    elif link.model != field.comodel_name:
                        problems.append(_(
                            "ref %(field)s: %(key)s is a %(model)s record but the field expects %(comodel)s",
                            field=fname, key=key, model=link.model, comodel=field.comodel_name,
                        ))
                    elif link.res_id not in ids:
                        ids.append(link.res_id)
                item.rel[fname] = ids if field.type == "many2many" else (ids[0] if ids else False)
            for key in item.deps:
                if key not in link_by_key:
                    problems.append(not_linked(_("dep"), key))
            if problems:
                item.finish("skipped", error="\n".join(problems))

    # ------------------------------------------------------------------ lookups
    def _resolve_lookups(self, items):
        """Lookups in rounds: each round one query per (model, field, where-paths) group; a
        lookup whose field finds nothing tries its next alt field in the next round. Required
        lookups (owners) use the resolved rows of the owners queue first; unresolved, they use
        the migration's fallback user, else the record waits (``waiting``) and the value is
        queued (``pending``)."""
        _ = self.env._
        pending = []
        for item in items:
            for fname, spec in item.lookups.items():
                if spec["value"] in (None, False, ""):
                    continue
                lookup = _Lookup(item, fname, spec)
                if lookup.required:
                    row = self.owner_rows.get(self._owner_key(lookup))
                    if row and row.state == "resolved" and row.user_id:
                        self._set_rel(item, fname, row.user_id.id)
                        continue
                pending.append(lookup)
        done = []
        while pending:
            groups = defaultdict(list)
            for lookup in pending:
                groups[lookup.group].append(lookup)
            pending = []
            for (model_name, lfield, paths), lookups in groups.items():
                self._search_lookups(model_name, lfield, paths, lookups)
                for lookup in lookups:
                    if not lookup.found and lookup.level + 1 < len(lookup.fields):
                        lookup.level += 1
                        pending.append(lookup)
                    else:
                        done.append(lookup)

        waiting = defaultdict(list)
        new_rows = {}
        fallback = self.migration.fallback_user_id
        for lookup in done:
            item, fname, ids = lookup.item, lookup.fname, lookup.found
            if len(ids) == 1:
                self._set_rel(item, fname, ids[0])
                if lookup.required:
                    row = self.owner_rows.get(self._owner_key(lookup))
                    if row and (row.state != "resolved" or not row.user_id):
                        row.write({"user_id": ids[0], "state": "resolved"})
                continue
            what = "/".join(lookup.fields)
            where = "".join(f", {path} = {value!r}" for path, value in sorted(lookup.where.items()))
            if ids:
                problem = _("%(count)s %(model)s records have %(lfield)s = %(value)r%(where)s",
                            count=len(ids), model=lookup.model, lfield=what, value=lookup.value, where=where)
            else:
                problem = _("no %(model)s with %(lfield)s = %(value)r%(where)s",
                            model=lookup.model, lfield=what, value=lookup.value, where=where)
            if not lookup.required:
                item.warn(fname, _("lookup %(field)s: %(problem)s; field left empty", field=fname, problem=problem))
                continue
            key = self._owner_key(lookup)
            row = self.owner_rows.get(key)
            if fallback:
                self._set_rel(item, fname, fallback.id)
                item.warn(fname, _("lookup %(field)s: %(problem)s; the migration's fallback user %(user)s is used",
                                   field=fname, problem=problem, user=fallback.display_name))
                if row:
                    if row.state != "resolved" or not row.user_id:
                        row.write({"user_id": fallback.id, "state": "resolved"})
                else:
                    new_rows[key] = {"user_id": fallback.id, "state": "resolved"}
                continue
            waiting[item].append(_("lookup %(field)s: %(problem)s; waiting for the owner to be reconciled "
                                   "(Migration > Owners to reconcile)", field=fname, problem=problem))
            if not row:
                new_rows.setdefault(key, {"state": "pending"})
        for item, problems in waiting.items():
            item.finish("waiting", error="\n".join(problems))
        if new_rows:
            rows = self.Owner.create([
                dict(vals, migration_id=self.migration.id, model=model, field=field, value=value)
                for (model, field, value), vals in new_rows.items()
            ])
            rows.filtered(lambda r: r.state == "pending").action_propose_user()
            for row in rows:
                self.owner_rows[(row.model, row.field, row.value)] = row

    @staticmethod
    def _owner_key(lookup):
        return lookup.model, lookup.spec["field"], owner_value(lookup.value)

    def _set_rel(self, item, fname, res_id):
        is_m2m = self.env[item.model]._fields[fname].type == "many2many"
        item.rel[fname] = [res_id] if is_m2m else res_id

    def _search_lookups(self, model_name, fname, paths, lookups):
        """One search for the lookups of one group: records whose ``fname`` is one of the
        values (text compared case-insensitively); then, per lookup, those whose ``where``
        paths have the wanted values (text compared case-insensitively, read through the
        prefetch of the found records). Several hits that differ only by case: an exact one
        wins. Sets ``lookup.found``."""
        model = self.env[model_name]
        field = model._fields[fname]
        values = {lookup.value for lookup in lookups}
        text_values = [v for v in values if isinstance(v, str)]
        if field.type in TEXT_TYPES and len(text_values) == len(values):
            rows = search_text_rows(model, [(fname, {v.strip() for v in text_values}, True)], [fname])
        else:
            rows = model.search_read([(fname, "in", list(values))], [fname])
        by_value = defaultdict(list)
        for row in rows:
            by_value[_lookup_key(row[fname])].append((row["id"], row[fname]))
        path_values = {}
        if paths and rows:
            records = model.browse([row["id"] for row in rows])
            for record in records:
                for path in paths:
                    path_values[(record.id, path)] = {
                        _lookup_key(v) for v in record.mapped(path) if v not in (None, False, "")
                    }
        for lookup in lookups:
            hits = by_value.get(_lookup_key(lookup.value), [])
            for path in paths:
                wanted = lookup.where[path]
                if wanted in (None, False, ""):
                    hits = [h for h in hits if not path_values[(h[0], path)]]
                else:
                    hits = [h for h in hits if _lookup_key(wanted) in path_values[(h[0], path)]]
            ids = [h[0] for h in hits]
            if len(ids) > 1:
                exact = [h[0] for h in hits if h[1] == lookup.value]
                if len(exact) == 1:
                    ids = exact
            lookup.found = ids

    # ------------------------------------------------------------------ match rules
    def _find_matches(self, items):
        _ = self.env._
        pending = items
        while pending:
            groups = defaultdict(list)
            for item in pending:
                model = self.env[item.model]
                rule = item.next_rule(model)
                if rule:
                    # text values are compared case-insensitively in SQL (exact equality, except
                    # emails, is checked in Python below); other values (many2one: the resolved
                    # id, False matching an empty field) with ``in``
                    ci = tuple(isinstance(item.match_value(model, f), str) and model._fields[f].type in TEXT_TYPES
                               for f in rule)
                    groups[(item.model, tuple(rule), ci)].append(item)
            pending = []
            for (model_name, rule, ci), rule_items in groups.items():
                model = self.env[model_name]
                conditions = [
                    (fname, {item.match_value(model, fname).strip() if is_ci else item.match_value(model, fname)
                             for item in rule_items}, is_ci)
                    for fname, is_ci in zip(rule, ci)
                ]
                hits_by_value = defaultdict(list)
                for row in search_text_rows(model, conditions, list(rule)):
                    hits_by_value[tuple(_norm(f, row[f]) for f in rule)].append(row["id"])
                for item in rule_items:
                    hits = hits_by_value.get(tuple(_norm(f, item.match_value(model, f)) for f in rule), [])
                    if len(hits) == 1:
                        item.match_id = hits[0]
                        continue
                    if len(hits) > 1:
                        item.warn(",".join(rule), _(
                            "match on %(fields)s: %(count)s existing %(model)s records (ids %(ids)s); not matched",
                            fields=", ".join(rule), count=len(hits), model=model_name,
                            ids=", ".join(str(i) for i in hits[:10]),
                        ))
                    pending.append(item)

    # ------------------------------------------------------------------ update
    def _update_existing(self, items):
        """Linked or matched records, with their targets checked for existence and prefetched
        together (one ``exists`` per model instead of one per record)."""
        targets = defaultdict(set)
        for item in items:
            link = item.linked
            if link and link.migration_id == self.migration:  # committed by this migration already
                item.finish("committed" if link.action == "created" else "matched", link.res_id)
                if item.model == SCHEMA_MODEL:
                    self.schema_field_ids.add(link.res_id)
            else:
                targets[item.model].add(link.res_id if link else item.match_id)
        existing = {
            model_name: self.env[model_name].browse(sorted(ids)).exists()
            for model_name, ids in targets.items()
        }
        for item in items:
            if item.done:
                continue
            records = existing[item.model]
            if item.linked:
                self._update(item, item.linked.res_id, fill=item.linked.hash != item.hash, existing=records)
            else:
                self._update(item, item.match_id, existing=records)

    def _update(self, item, res_id, fill=True, existing=None):
        """Fill the empty fields of an existing record (``fill``) and link it: ``updated`` when
        something was written (previous values kept for rollback), else ``matched``.
        ``existing``: the batch's existing target records of this model (prefetch group)."""
        _ = self.env._
        model = self.env[item.model].with_context(**QUIET_CONTEXT)
        if item.model in (SCHEMA_MODEL, MODEL_SCHEMA):
            fill = False  # an existing custom field or model is reused as it is, never changed
        if existing is None:
            target = model.browse(res_id).exists()
        elif res_id in existing._ids:
            target = model.browse(res_id).with_prefetch(existing._ids)
        else:
            target = model.browse()
        if not target:
            item.finish("failed", error=_(
                "%(model)s record %(id)s linked to this key no longer exists", model=item.model, id=res_id,
            ))
            return
        write, before = {}, {}
        for fname, value in item.values.items() if fill else ():
            field = model._fields[fname]
            if value in (None, False, "") or field.relational:
                continue
            if is_empty(field, target[fname]):
                write[fname] = value
                before[fname] = json_value(target, fname)
        for fname, value in item.rel.items() if fill else ():
            field = model._fields[fname]
            if field.type == "many2many":
                current = target[fname].ids
                added = [i for i in value if i not in current]
                if added:
                    write[fname] = [Command.link(i) for i in added]
                    before[fname] = current
            elif value and not target[fname]:
                write[fname] = value
                before[fname] = False
        if write:
            try:
                with self.env.cr.savepoint():
                    target.write(write)
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - Odoo's error goes to the record
                item.finish("failed", error=error_text(self.env, exc))
                return
            self._next_link(item, res_id, "updated", before, {f: json_value(target, f) for f in write})
        else:
            self._next_link(item, res_id, "matched")
        item.finish("matched", res_id)
        if item.model == SCHEMA_MODEL:
            self.schema_field_ids.add(res_id)

    # ------------------------------------------------------------------ create
    def _create(self, model_name, items):
        model = self.env[model_name].with_context(**QUIET_CONTEXT)
        if model_name == SCHEMA_MODEL:  # checked, then created with sudo (services/guard.py)
            model = guard.schema_model(model, items, self.migration)
        elif model_name == MODEL_SCHEMA:  # custom models: the same
            model = guard.model_schema_model(model, items, self.migration)
        vals_list = [item.create_vals(model) for item in items]
        written = [json_vals(vals) for vals in vals_list]  # before create, which may alter the dicts
        try:
            with self.env.cr.savepoint():
                records = model.create(vals_list)
        except psycopg2.OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - retried one by one below
            _logger.info("crm_migration: batch create of %s %s failed (%s); retrying one by one",
                         len(items), model_name, exc)
            if model_name in (SCHEMA_MODEL, MODEL_SCHEMA):
                self._reload_registry()
            for item, vals, after in zip(items, vals_list, written):
                try:
                    with self.env.cr.savepoint():
                        record = model.create([item.create_vals(model)])
                except psycopg2.OperationalError:
                    raise
                except Exception as exc:  # noqa: BLE001 - Odoo's error goes to the record
                    item.finish("failed", error=error_text(self.env, exc))
                    if model_name in (SCHEMA_MODEL, MODEL_SCHEMA):
                        self._reload_registry()
                    continue
                self._next_link(item, record.id, "created", values_after=after)
                item.finish("committed", record.id)
        else:
            for item, record, after in zip(items, records, written):
                self._next_link(item, record.id, "created", values_after=after)
                item.finish("committed", record.id)
        if model_name == SCHEMA_MODEL:
            self._check_schema([item.res_id for item in items if item.state == "committed"])
        if model_name == MODEL_SCHEMA:
            self._grant_access([item.res_id for item in items if item.state == "committed"])

    def _grant_access(self, model_ids):
        """A custom model the migration created is usable by internal users, as a model made in
        Odoo's own UI would be: one access rule (read, write, create, delete) for the group
        Internal User. It goes with the model when a rollback removes it."""
        group = self.env.ref("base.group_user")
        self.env["ir.model.access"].sudo().create([{
            "name": f"{model.model} (migrated custom object)",
            "model_id": model.id, "group_id": group.id,
            "perm_read": True, "perm_write": True, "perm_create": True, "perm_unlink": True,
        } for model in self.env[MODEL_SCHEMA].sudo().browse(model_ids)])

    def _reload_registry(self):
        """A create of custom fields that raised inside its savepoint may have set the registry
        up with fields the rollback of the savepoint removed again: set it up from the database."""
        self.env.flush_all()
        setup_models(self.env.registry, self.env.cr)

    def _check_schema(self, field_ids):
        """Custom fields created by this batch: the registry must know them before the records
        that use them are created (``ir.model.fields.create`` sets the models up again and
        adds the columns; this makes sure of it)."""
        fields_ = self.env[SCHEMA_MODEL].sudo().browse(field_ids)
        self.schema_field_ids.update(field_ids)
        missing = {f.model for f in fields_ if f.model in self.env and f.name not in self.env[f.model]._fields}
        if missing:
            registry = self.env.registry
            self.env.flush_all()
            setup_models(registry, self.env.cr)
            registry.init_models(self.env.cr, list(registry.descendants(missing, "_inherits")),
                                 dict(self.env.context, update_custom_fields=True))
