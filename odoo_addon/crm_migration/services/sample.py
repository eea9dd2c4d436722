"""Sampling (docs/staging-contract.md, "Sampling"): pick a representative slice of the staged
records to commit first, and compare what was staged with what Odoo holds now, field by field.

``select_sample``: up to ``n`` *leaves* (staged records no other staged record refers to; a part of
a record -- a staged record whose required ``ondelete='cascade'`` many2one refs another staged
record, e.g. an order line -- is not a leaf and does not make its parent a non-leaf), taken
round-robin over their objects in id order, plus transitively what they need (refs and deps) and
their parts (staged records whose required cascade many2one refs point to a sampled record).

``sample_diff``: one row per field of each sampled committed/matched record; one ``read`` per
model, one name lookup per related model.
"""

import json
from collections import defaultdict

from odoo import fields
from odoo.tools import html2plaintext

from .attached import diff_rows as attached_diff_rows
from .commit import TODO_STATES
from .staging import ref_keys

DIFF_STATES = ("committed", "matched")


def _is_part_field(field):
    return field is not None and field.type == "many2one" and field.required and field.ondelete == "cascade"


def select_sample(migration, size):
    """Staged records (``crm.migration.record``) of the sample of ``size`` leaves."""
    env = migration.env
    rows = env["crm.migration.record"].search_fetch(
        [("migration_id", "=", migration.id), ("state", "!=", "error")],
        ["key", "object", "model", "refs_json", "deps_json", "state"], order="stage_batch, id")
    by_key = {row.key: row for row in rows}
    needs = defaultdict(set)  # key -> keys it needs (refs, deps)
    parts = defaultdict(set)  # key -> keys of its parts
    referenced, is_part = set(), set()
    for row in rows:
        model = env[row.model] if row.model in env else None
        for fname, value in (row.refs_json or {}).items():
            part = model is not None and _is_part_field(model._fields.get(fname))
            for key in value if isinstance(value, list) else [value]:
                if key == row.key or key not in by_key:
                    continue
                needs[row.key].add(key)
                if part:
                    parts[key].add(row.key)
                    is_part.add(row.key)
                else:
                    referenced.add(key)
        for key in row.deps_json or []:
            if key != row.key and key in by_key:
                needs[row.key].add(key)
                referenced.add(key)
    queues = defaultdict(list)
    for row in rows:
        if row.state in TODO_STATES and row.key not in referenced and row.key not in is_part:
            queues[row.object].append(row.key)
    chosen = []
    objects = list(queues)  # in order of their first leaf (rows are in id order)
    while len(chosen) < size and any(queues.values()):
        for obj in objects:
            if queues[obj] and len(chosen) < size:
                chosen.append(queues[obj].pop(0))
    selected, todo = set(), list(chosen)
    while todo:
        key = todo.pop()
        if key in selected:
            continue
        selected.add(key)
        todo.extend(needs[key] | parts[key])
    return rows.filtered(lambda r: r.key in selected and r.state in TODO_STATES)


# ---------------------------------------------------------------------- diff
def _cell(value):
    if value is None or value is False:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def source_text(source, fname):
    """The original cell(s) that fed ``fname`` (``source.columns``; several joined with " + ")."""
    source = source or {}
    header = (source.get("columns") or {}).get(fname)
    data = source.get("data") or {}
    if not header:
        return ""
    if header in data:
        return _cell(data[header])
    return " + ".join(_cell(data.get(part)) for part in header.split(" + "))


def _float(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def render(field, value, names):
    """Text form of a value (many2one: id; x2many: ids) for the diff."""
    ftype = field.type
    if ftype == "many2one":
        return names.get((field.comodel_name, value), str(value)) if value else ""
    if ftype in ("many2many", "one2many"):
        return ", ".join(sorted(names.get((field.comodel_name, i), str(i)) for i in value or []))
    if ftype == "boolean":
        return "" if value is None else json.dumps(bool(value))
    if value is None or value is False or value == "":
        return ""
    if ftype in ("float", "monetary"):
        number = _float(value)
        return json.dumps(number) if number is not None else str(value)
    if ftype == "integer":
        return json.dumps(int(value)) if _float(value) is not None and float(value).is_integer() else str(value)
    try:
        if ftype == "date":
            return fields.Date.to_string(fields.Date.to_date(value))
        if ftype == "datetime":
            return fields.Datetime.to_string(fields.Datetime.to_datetime(value))
    except (TypeError, ValueError):
        return str(value)
    if ftype == "html":
        return html2plaintext(value or "").strip()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def same(env, field, expected, actual):
    """Texts equal; floats within a small tolerance (half a unit of the field's digits, when
    it has some, else 1e-6 relative)."""
    if field.type in ("float", "monetary"):
        a, b = _float(expected), _float(actual)
        if a is not None and b is not None:
            digits = field.get_digits(env) if field.type == "float" else None
            tolerance = 1e-6 * max(1.0, abs(a), abs(b))
            if digits and digits[1] is not None:
                tolerance = max(tolerance, 0.5 * 10 ** -digits[1])
            return abs(a - b) <= tolerance + 1e-12
    return expected == actual


def _lookup_ids(env, spec):
    """Re-resolve a lookup the way a commit does (field, then alt fields; text
    case-insensitively, an exact hit winning): ``[id]`` or ``[]``."""
    model = env[spec["model"]]
    value = spec.get("value")
    if value in (None, False, ""):
        return []
    where = [(path, "=ilike" if isinstance(v, str) else "=", v) for path, v in (spec.get("where") or {}).items()]
    for fname in [spec["field"], *(spec.get("alt_fields") or [])]:
        op = "=ilike" if isinstance(value, str) else "="
        hits = model.search([(fname, op, value.strip() if isinstance(value, str) else value)] + where)
        if len(hits) > 1:
            exact = hits.filtered(lambda r, fname=fname: r[fname] == value)
            hits = exact if len(exact) == 1 else hits
        if len(hits) == 1:
            return hits.ids
        if hits:
            return []
    return []


def _links_and_owners(env, migration, records):
    """``(first link of each key the records refer to, each record's own link, resolved owners)``."""
    keys = {k for r in records for k in ref_keys(r.refs_json or {})}
    link_by_key = {}
    for link in env["crm.migration.link"].search_fetch([("key", "in", list(keys))], ["key", "model", "res_id"],
                                                       order="id"):
        link_by_key.setdefault(link.key, link)
    own_links = {}
    for link in env["crm.migration.link"].search([("migration_id", "=", migration.id),
                                                   ("record_id", "in", records.ids)]):
        own_links[link.record_id.id] = link
    owners = {(o.model, o.field, o.value): o.user_id.id
              for o in env["crm.migration.owner"].search([("migration_id", "=", migration.id),
                                                           ("state", "=", "resolved")])}
    return link_by_key, own_links, owners


def _expected_entries(env, record, link_by_key, after, owners):
    """``[(field, expected value)]`` of a sampled record, relational values as ids."""
    model = env[record.model]
    entries = []
    for fname, value in sorted((record.values_json or {}).items()):
        field = model._fields.get(fname)
        if field is None or value is None:
            continue
        entries.append((field, value if not field.relational else (value or False)))
    for fname, value in sorted((record.refs_json or {}).items()):
        field = model._fields.get(fname)
        if field is None:
            continue
        ids = [link_by_key[k].res_id for k in (value if isinstance(value, list) else [value])
               if k in link_by_key]
        entries.append((field, ids if field.type != "many2one" else (ids[0] if ids else False)))
    for fname, spec in sorted((record.lookups_json or {}).items()):
        field = model._fields.get(fname)
        if field is None:
            continue
        if fname in after:
            ids = after[fname] if isinstance(after[fname], list) else [after[fname]]
        elif spec.get("required") and (spec["model"], spec["field"], str(spec.get("value")).strip().lower()) in owners:
            ids = [owners[(spec["model"], spec["field"], str(spec.get("value")).strip().lower())]]
        else:
            ids = _lookup_ids(env, spec)
        ids = [i for i in ids if i]
        entries.append((field, ids if field.type != "many2one" else (ids[0] if ids else False)))
    return entries


def _actual_values(env, ids_by_model, fnames_by_model, wanted_names):
    """``{(model, id): row}``: one read per model; the related ids read join ``wanted_names``."""
    actual = {}
    for model_name, ids in ids_by_model.items():
        model = env[model_name].with_context(active_test=False)
        existing = model.browse(sorted(i for i in ids if i)).exists()
        fnames = sorted(fnames_by_model[model_name])
        if not existing or not fnames:
            continue
        for row in existing.read(fnames, load=None):
            actual[(model_name, row["id"])] = row
            for fname in fnames:
                field = model._fields[fname]
                if field.relational and row.get(fname):
                    value = row[fname]
                    wanted_names[field.comodel_name].update(value if isinstance(value, list) else [value])
    return actual


def _display_names(env, wanted_names):
    """``{(model, id): display name}``, read with the user's rights (services/guard.py): a record
    they may not read stays unnamed."""
    names = {}
    for comodel, ids in wanted_names.items():
        records_ = env[comodel].with_context(active_test=False).browse(sorted(ids)).exists()
        for rec in records_._filtered_access("read"):
            names[(comodel, rec.id)] = rec.display_name or ""
    return names


def sample_diff(migration):
    """``[{"key", "object", "model", "res_id", "field", "label", "source", "expected", "actual",
    "match"}]`` for the sampled records that are committed or matched."""
    env = migration.env
    records = env["crm.migration.record"].search(
        [("migration_id", "=", migration.id), ("sampled", "=", True), ("state", "in", DIFF_STATES)], order="id")
    records = records.filtered(lambda r: r.model in env)
    link_by_key, own_links, owners = _links_and_owners(env, migration, records)

    # expected values, in the "ids" form of relational fields
    plan = []  # (record, [(field, expected)])
    fnames_by_model = defaultdict(set)
    ids_by_model = defaultdict(set)
    wanted_names = defaultdict(set)  # comodel -> ids
    for record in records:
        after = (own_links[record.id].values_after_json if record.id in own_links else {}) or {}
        entries = _expected_entries(env, record, link_by_key, after, owners)
        for field, value in entries:
            fnames_by_model[record.model].add(field.name)
            if field.relational:
                wanted_names[field.comodel_name].update(value if isinstance(value, list) else [value] if value else [])
        ids_by_model[record.model].add(record.res_id)
        plan.append((record, entries))

    actual = _actual_values(env, ids_by_model, fnames_by_model, wanted_names)
    names = _display_names(env, wanted_names)
    rows = []
    for record, entries in plan:
        current = actual.get((record.model, record.res_id), {})
        for field, value in entries:
            expected = render(field, value, names)
            now = current.get(field.name)
            if field.type == "boolean" and field.name not in current:
                now = None
            got = render(field, now, names)
            rows.append({
                "key": record.key, "object": record.object, "model": record.model, "res_id": record.res_id,
                "field": field.name, "label": field.string or field.name,
                "source": source_text(record.source_json, field.name),
                "expected": expected, "actual": got, "match": same(env, field, expected, got),
            })
    return rows + attached_diff_rows(env, records)
