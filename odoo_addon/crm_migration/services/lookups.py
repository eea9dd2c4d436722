"""Lookups of a commit: a staged value (a login, a country code, an email) found in Odoo.

Lookups run in rounds: each round is one query per (model, field, where-paths) group; a lookup
whose field finds nothing tries its next alt field in the next round. Required lookups (owners)
use the resolved rows of the owners queue (``crm.migration.owner``) first; unresolved, they use
the migration's fallback user, else the record waits (``waiting``) and the value is queued
(``pending``) for the admin to reconcile.
"""

from collections import defaultdict

from .text_search import TEXT_TYPES, lookup_key, owner_value, search_text_rows


class Lookup:
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

    @property
    def owner_key(self):
        """The key of this lookup's row in the owners queue."""
        return self.model, self.spec["field"], owner_value(self.value)


def set_rel(engine, item, fname, res_id):
    is_m2m = engine.env[item.model]._fields[fname].type == "many2many"
    item.rel[fname] = [res_id] if is_m2m else res_id


def resolve_lookups(engine, items):
    """Resolve the lookups of ``items`` (see the module's docstring)."""
    pending = []
    for item in items:
        for fname, spec in item.lookups.items():
            if spec["value"] in (None, False, ""):
                continue
            lookup = Lookup(item, fname, spec)
            if lookup.required:
                row = engine.owner_rows.get(lookup.owner_key)
                if row and row.state == "resolved" and row.user_id:
                    set_rel(engine, item, fname, row.user_id.id)
                    continue
            pending.append(lookup)
    _apply_found(engine, _search_rounds(engine.env, pending))


def _search_rounds(env, pending):
    """Search ``pending`` lookups in rounds (alt fields in later rounds); returns them all, with
    ``found`` set."""
    done = []
    while pending:
        groups = defaultdict(list)
        for lookup in pending:
            groups[lookup.group].append(lookup)
        pending = []
        for (model_name, lfield, paths), lookups in groups.items():
            search_lookups(env, model_name, lfield, paths, lookups)
            for lookup in lookups:
                if not lookup.found and lookup.level + 1 < len(lookup.fields):
                    lookup.level += 1
                    pending.append(lookup)
                else:
                    done.append(lookup)
    return done


def _problem(env, lookup):
    """Why a lookup did not give one record (none, or several)."""
    _ = env._
    ids = lookup.found
    what = "/".join(lookup.fields)
    where = "".join(f", {path} = {value!r}" for path, value in sorted(lookup.where.items()))
    if ids:
        return _("%(count)s %(model)s records have %(lfield)s = %(value)r%(where)s",
                 count=len(ids), model=lookup.model, lfield=what, value=lookup.value, where=where)
    return _("no %(model)s with %(lfield)s = %(value)r%(where)s",
             model=lookup.model, lfield=what, value=lookup.value, where=where)


def _apply_found(engine, done):
    """Set what the lookups found on their items; a required lookup that found no single
    record uses the fallback user, or makes its item wait and queues its value."""
    _ = engine.env._
    waiting = defaultdict(list)
    new_rows = {}
    fallback = engine.migration.fallback_user_id
    for lookup in done:
        item, fname, ids = lookup.item, lookup.fname, lookup.found
        if len(ids) == 1:
            set_rel(engine, item, fname, ids[0])
            if lookup.required:
                row = engine.owner_rows.get(lookup.owner_key)
                if row and (row.state != "resolved" or not row.user_id):
                    row.write({"user_id": ids[0], "state": "resolved"})
            continue
        problem = _problem(engine.env, lookup)
        if not lookup.required:
            item.warn(fname, _("lookup %(field)s: %(problem)s; field left empty", field=fname, problem=problem))
            continue
        key = lookup.owner_key
        row = engine.owner_rows.get(key)
        if fallback:
            set_rel(engine, item, fname, fallback.id)
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
    _queue_owners(engine, new_rows)


def _queue_owners(engine, new_rows):
    """New rows of the owners queue (``{(model, field, value): vals}``); pending ones get a
    proposed user."""
    if not new_rows:
        return
    rows = engine.Owner.create([
        dict(vals, migration_id=engine.migration.id, model=model, field=field, value=value)
        for (model, field, value), vals in new_rows.items()
    ])
    rows.filtered(lambda r: r.state == "pending").action_propose_user()
    for row in rows:
        engine.owner_rows[(row.model, row.field, row.value)] = row


def search_lookups(env, model_name, fname, paths, lookups):
    """One search for the lookups of one group: records whose ``fname`` is one of the
    values (text compared case-insensitively); then, per lookup, those whose ``where``
    paths have the wanted values (text compared case-insensitively, read through the
    prefetch of the found records). Several hits that differ only by case: an exact one
    wins. Sets ``lookup.found``."""
    model = env[model_name]
    field = model._fields[fname]
    values = {lookup.value for lookup in lookups}
    text_values = [v for v in values if isinstance(v, str)]
    if field.type in TEXT_TYPES and len(text_values) == len(values):
        rows = search_text_rows(model, [(fname, {v.strip() for v in text_values}, True)], [fname])
    else:
        rows = model.search_read([(fname, "in", list(values))], [fname])
    by_value = defaultdict(list)
    for row in rows:
        by_value[lookup_key(row[fname])].append((row["id"], row[fname]))
    path_values = {}
    if paths and rows:
        records = model.browse([row["id"] for row in rows])
        for record in records:
            for path in paths:
                path_values[(record.id, path)] = {
                    lookup_key(v) for v in record.mapped(path) if v not in (None, False, "")
                }
    for lookup in lookups:
        hits = by_value.get(lookup_key(lookup.value), [])
        for path in paths:
            wanted = lookup.where[path]
            if wanted in (None, False, ""):
                hits = [h for h in hits if not path_values[(h[0], path)]]
            else:
                hits = [h for h in hits if lookup_key(wanted) in path_values[(h[0], path)]]
        ids = [h[0] for h in hits]
        if len(ids) > 1:
            exact = [h[0] for h in hits if h[1] == lookup.value]
            if len(exact) == 1:
                ids = exact
        lookup.found = ids
