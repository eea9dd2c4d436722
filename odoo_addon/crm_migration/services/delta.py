"""Delta pickup: a newer export staged into a migration that has committed records
(docs/staging-contract.md, "Delta").

A delta round starts with ``start_round`` (``api_start_delta``): the migration goes to state
``delta`` and every staged record forgets the marks of an earlier round. While it is in ``delta``,
``stage`` replaces the plain upsert of ``api_stage``:

- a key this migration linked (committed or matched) whose hash equals the link's hash →
  ``delta = unchanged``, nothing else changes;
- a key this migration linked with another hash → the record takes the new content, state
  ``staged`` (``error`` when the newer row has an error issue) and ``delta = update``; the content
  last applied to Odoo is kept in ``delta_before_json`` (to know which fields the source changed);
- any other key → the plain upsert, ``delta = create``.

``mark_gone`` (``api_finish_staging``): keys this migration linked that the newer export does not
have → ``delta = gone``. Nothing is done to their Odoo records unless the admin says so
(``gone``: archive, or delete what the migration created). Schema records (custom fields) are
never gone: once created, a newer export maps its column onto the field itself.

``apply_updates`` is the commit engine's hook (step 4 of a batch): for each field the source
changed, the new value is written when Odoo's current value still equals what the migration wrote
(the link's ``values_after_json``; a field the migration never wrote: when Odoo's value is empty);
otherwise the record goes to state ``conflict`` with the field(s) in ``delta_conflict_json`` and
the admin decides (``resolve``: take the source value or keep Odoo's). Many2many fields take the
source's added and removed ids, other ids are left as they are. The migration keeps ONE link per
key: ``values_before_json`` merged (first value wins; none for records it created, a rollback
deletes them), ``values_after_json`` merged (latest wins), so a rollback stays exact. Every write
has its audit row.
"""

from collections import defaultdict

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import float_compare, html2plaintext

from . import guard
from .errors import savepoint_attempt
from .json_values import is_empty, json_value
from .quiet_context import QUIET_CONTEXT
from .staging import MODEL_SCHEMA, SCHEMA_MODEL

# migration states a delta round starts from (``delta``: restaging the round again)
DELTA_FROM_STATES = ("committed", "partial", "delta")
# record states of a key the migration has in Odoo
DONE_STATES = ("committed", "matched")
GONE_ACTIONS = ("archive", "delete")
DECISIONS = ("source", "odoo")
DELTA_FIELDS_RESET = {"delta": False, "delta_conflict_json": False, "delta_decision": False,
                      "delta_gone_action": False}


def _spec(record):
    return {"values": record.values_json or {}, "refs": record.refs_json or {},
            "lookups": record.lookups_json or {}}


def _done_state(link):
    return "committed" if link.action == "created" else "matched"


def same_value(field, a, b):
    """Whether two JSON values of ``field`` (as ``json_value`` renders them) are the same."""
    if isinstance(a, list) or isinstance(b, list):
        return sorted(a or []) == sorted(b or [])
    if field.type == "html":  # Odoo wraps plain text in <p>
        return html2plaintext(a or "").strip() == html2plaintext(b or "").strip()
    if field.type in ("float", "monetary") and isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float_compare(a, b, precision_digits=6) == 0
    return (a or False) == (b or False)


# ---------------------------------------------------------------------- staging
def start_round(migration):
    """Open a delta round on ``migration`` (state ``delta``)."""
    _ = migration.env._
    if migration.state not in DELTA_FROM_STATES:
        raise UserError(_("Migration %(name)s has nothing committed yet: a delta (a newer export) can only be "
                          "staged into a committed migration.", name=migration.display_name))
    Record = migration.env["crm.migration.record"]
    conflicts = Record.search([("migration_id", "=", migration.id), ("state", "=", "conflict")], limit=20)
    if conflicts:
        raise UserError(_("Migration %(name)s still has delta conflicts to decide (take the source value or keep "
                          "Odoo's) before a newer export can be staged: %(keys)s",
                          name=migration.display_name, keys=", ".join(conflicts.mapped("key"))))
    marked = Record.search([("migration_id", "=", migration.id), ("delta", "!=", False)])
    marked.write(DELTA_FIELDS_RESET)
    vals = {"state": "delta"}
    if migration.state != "delta":
        vals["delta_round"] = migration.delta_round + 1
    migration.write(vals)


def stage(migration, by_key):
    """Stage the normalised records ``by_key`` (key → crm.migration.record values) in a delta round."""
    env = migration.env
    Record = env["crm.migration.record"]
    existing = Record.search([("migration_id", "=", migration.id), ("key", "in", list(by_key))])
    links = {link.key: link for link in env["crm.migration.link"].search(
        [("migration_id", "=", migration.id), ("key", "in", list(by_key))])}
    unchanged = Record.browse()
    for record in existing:
        vals = by_key[record.key]
        link = links.get(record.key)
        if not link or link.kept:
            record.write(dict(vals, delta="create", delta_before_json=False))
            continue
        # what is in Odoo now: the content of the last commit (kept while an update waits)
        before = record.delta_before_json or (_spec(record) if record.state in DONE_STATES else None)
        if vals["hash"] == link.hash and vals["state"] != "error":
            if record.state in DONE_STATES and not record.delta_before_json:
                unchanged |= record
            else:  # an update staged earlier in this round is not wanted anymore
                record.write(dict(vals, delta="unchanged", delta_before_json=False, state=_done_state(link),
                                  res_id=link.res_id))
            continue
        record.write(dict(vals, delta="update", delta_before_json=before or _spec(record), res_id=link.res_id))
    unchanged.write({"delta": "unchanged"})
    known = set(existing.mapped("key"))
    Record.create([dict(vals, migration_id=migration.id, delta="create")
                   for key, vals in by_key.items() if key not in known])


def mark_gone(migration):
    """Keys this migration linked that the newer export did not have → ``delta = gone``; an update
    staged earlier in the round for such a key goes back to what Odoo has."""
    env = migration.env
    Record = env["crm.migration.record"]
    # schema records (custom fields) are not source records: a newer export whose columns find the
    # field in Odoo already maps onto it instead of staging it again
    unseen = Record.search([("migration_id", "=", migration.id), ("delta", "=", False),
                            ("model", "not in", (SCHEMA_MODEL, MODEL_SCHEMA)),
                            "|", ("state", "in", DONE_STATES), ("delta_before_json", "!=", False)])
    links = {link.key: link for link in env["crm.migration.link"].search(
        [("migration_id", "=", migration.id), ("key", "in", unseen.mapped("key")), ("kept", "=", False)])}
    plain = Record.browse()
    for record in unseen:
        link = links.get(record.key)
        if not link:
            continue
        if record.delta_before_json:
            spec = record.delta_before_json
            record.write({"delta": "gone", "state": _done_state(link), "values_json": spec.get("values") or {},
                          "refs_json": spec.get("refs") or {}, "lookups_json": spec.get("lookups") or {},
                          "hash": link.hash, "delta_before_json": False, "res_id": link.res_id,
                          "error_message": False})
        else:
            plain |= record
    plain.write({"delta": "gone"})


# ---------------------------------------------------------------------- commit
class _Change:
    """The fields one delta update writes, and those in conflict."""

    def __init__(self):
        self.write = {}  # field -> value for ``write``
        self.conflicts = {}  # field -> {"source", "odoo", "migration"}


def _changed_fields(item, before):
    """Fields whose source content changed since the last commit: (values, relational fields)."""
    old_values, old_refs, old_lookups = (before.get("values") or {}, before.get("refs") or {},
                                         before.get("lookups") or {})
    values = [f for f in dict.fromkeys([*item.values, *old_values]) if item.values.get(f) != old_values.get(f)]
    rel = [f for f in dict.fromkeys([*item.refs, *old_refs]) if item.refs.get(f) != old_refs.get(f)]
    rel += [f for f in dict.fromkeys([*item.lookups, *old_lookups]) if item.lookups.get(f) != old_lookups.get(f)]
    return values, rel


def apply_updates(engine, items):
    """Commit hook: the items of a batch that are delta updates of this migration (a staged record
    with ``delta = update`` and a link of this migration) are applied here and finished; the others
    are left to the engine."""
    if not items:
        return
    env = engine.env
    rows = {r["id"]: r for r in engine.Record.browse([i.record_id for i in items]).read(
        ["delta", "delta_before_json"])}
    todo = [i for i in items if rows[i.record_id]["delta"] == "update"]
    if not todo:
        return
    links = {link.key: link for link in engine.Link.search(
        [("migration_id", "=", engine.migration.id), ("key", "in", [i.key for i in todo]), ("kept", "=", False)])}
    todo = [i for i in todo if i.key in links]
    # ids the old many2many refs pointed to (the source's removed ids)
    old_keys = {k for i in todo for v in (rows[i.record_id]["delta_before_json"] or {}).get("refs", {}).values()
                if isinstance(v, list) for k in v}
    old_ids = {}
    if old_keys:
        for link in engine.Link.search_fetch([("key", "in", list(old_keys))], ["key", "res_id"], order="id"):
            old_ids.setdefault(link.key, link.res_id)
    audit = []
    for item in todo:
        before = rows[item.record_id]["delta_before_json"] or {}
        _apply_one(engine, item, links[item.key], before, old_ids, audit)
    if audit:
        env["crm.migration.audit"].sudo().create(audit)


def _apply_one(engine, item, link, before, old_ids, audit):
    env = engine.env
    _ = env._
    if item.model in (SCHEMA_MODEL, MODEL_SCHEMA):  # an existing custom field or model is reused as it is
        link.hash = item.hash
        item.finish(_done_state(link), link.res_id)
        return
    model = env[item.model].with_context(**QUIET_CONTEXT)
    target = model.browse(link.res_id).exists()
    if not target:
        item.finish("failed", error=_("%(model)s record %(id)s linked to this key no longer exists",
                                      model=item.model, id=link.res_id))
        return
    after = link.values_after_json or {}
    change = _wanted_change(item, model, target, before, old_ids, after)

    edited = bool(target._log_access and target.write_date and link.written_at
                  and target.write_date > link.written_at)
    values_before = {fname: json_value(target, fname) for fname in change.write}
    if change.write:
        with savepoint_attempt(env) as attempt:
            target.write(change.write)
        if attempt.failed:  # Odoo's error goes to the record
            item.finish("failed", error=attempt.error)
            return
        written = {fname: json_value(target, fname) for fname in change.write}
        merge_link(link, values_before, written, item.hash, touch=not edited and not change.conflicts)
        audit.append(audit_vals(link, values_before, written))
    elif not change.conflicts:
        # the source's content changed but Odoo already has it (a ref that became a lookup of the
        # same record): nothing written, so the record counts as unchanged
        link.hash = item.hash
        item.record.delta = "unchanged"
    if change.conflicts:
        item.finish("conflict", link.res_id, error=_(
            "edited in Odoo since the migration wrote it: %(fields)s (take the source value or keep Odoo's)",
            fields=", ".join(sorted(change.conflicts))))
        item.record.delta_conflict_json = change.conflicts
        return
    item.finish(_done_state(link), link.res_id)
    item.record.delta_before_json = False


def _wanted_change(item, model, target, before, old_ids, after):
    """What the newer export changes on the linked record: ``_Change`` of writes and conflicts."""
    value_fields, rel_fields = _changed_fields(item, before)
    change = _Change()
    for fname in value_fields:
        field = model._fields.get(fname)
        if field is None or field.relational:
            continue
        value = item.values.get(fname)
        _consider(change, target, field, False if value is None else value, after)
    old_refs = before.get("refs") or {}
    for fname in rel_fields:
        field = model._fields.get(fname)
        if field is None:
            continue
        if fname in item.lookups and fname not in item.rel:
            continue  # the new lookup found nothing (a warning says so): Odoo's value stays
        if field.type == "many2many":
            current = target[fname].ids
            removed = {old_ids.get(k) for k in old_refs.get(fname) or [] if isinstance(k, str)}
            new = item.rel.get(fname) or []
            wanted = [i for i in current if i not in removed or i in new] + [i for i in new if i not in current]
            if sorted(wanted) != sorted(current):
                change.write[fname] = [Command.set(wanted)]
            continue
        _consider(change, target, field, item.rel.get(fname) or False, after)
    return change


def _consider(change, target, field, value, after):
    """Write ``value`` to ``field`` when Odoo's current value is what the migration wrote (or empty
    when it wrote nothing there); else a conflict. Equal to the current value: nothing to do."""
    fname = field.name
    current = json_value(target, fname)
    if same_value(field, current, value):
        return
    if fname in after:
        safe = same_value(field, current, after[fname])
    else:
        safe = is_empty(field, target[fname])
    if safe:
        change.write[fname] = value
    else:
        change.conflicts[fname] = {"source": value, "odoo": current, "migration": after.get(fname)}


def merge_link(link, values_before, values_after, record_hash=None, touch=True):
    """One link per migration and key: ``values_before_json`` first value wins (none for a record the
    migration created: a rollback deletes it), ``values_after_json`` latest wins."""
    vals = {"values_after_json": dict(link.values_after_json or {}, **values_after)}
    if link.action != "created":
        merged = dict(values_before, **(link.values_before_json or {}))
        vals["values_before_json"] = merged
        if merged:
            vals["action"] = "updated"
    if record_hash:
        vals["hash"] = record_hash
    if touch:
        vals["written_at"] = link.env.cr.now()
    link.sudo().write(vals)  # links: the engines' bookkeeping, read-only for the group


def audit_vals(link, before, after, action="update"):
    return {"migration_id": link.migration_id.id, "model": link.model, "res_id": link.res_id, "key": link.key,
            "action": action, "values_before_json": before or {}, "values_after_json": after or {}}


# ---------------------------------------------------------------------- admin decisions
def resolve(migration, take, keys=None):
    """Decide the open conflicts (all, or those of ``keys``): ``source`` writes the source value of
    each conflicting field, ``odoo`` keeps Odoo's. Returns the number of records decided."""
    env = migration.env
    _ = env._
    if take not in DECISIONS:
        raise UserError(_("Decide a delta conflict with %(values)s.", values=" or ".join(DECISIONS)))
    domain = [("migration_id", "=", migration.id), ("state", "=", "conflict")]
    if keys is not None:
        domain.append(("key", "in", list(keys)))
    records = env["crm.migration.record"].search(domain, order="id")
    if keys is not None:
        missing = sorted(set(keys) - set(records.mapped("key")))
        if missing:
            raise UserError(_("No open delta conflict for these keys in migration %(name)s: %(keys)s",
                              name=migration.display_name, keys=", ".join(missing)))
    links = {link.key: link for link in env["crm.migration.link"].search(
        [("migration_id", "=", migration.id), ("key", "in", records.mapped("key"))])}
    audit = []
    errors = []
    with env.cr.savepoint():
        for record in records:
            link = links.get(record.key)
            if not link:
                continue
            if take == "source":
                if not _take_source(env, record, link, errors, audit):
                    continue
            else:
                link.sudo().hash = record.hash  # links: the engines' bookkeeping, read-only for the group
            record.write({"state": _done_state(link), "delta_decision": take, "error_message": False,
                          "delta_before_json": False})
        if errors:
            raise UserError(_("These delta conflicts could not take the source value; nothing was decided:\n"
                              "%(lines)s", lines="\n".join(errors)))
        if audit:
            env["crm.migration.audit"].sudo().create(audit)
    return len(records)


def _take_source(env, record, link, errors, audit):
    """Write the source value of each conflicting field of ``record``; False (and a line in
    ``errors``) when Odoo refused the write."""
    # the link's model, never the staged record's (records are writable by the group);
    # only fields a migration may write (services/guard.py)
    model = env[link.model].with_context(**QUIET_CONTEXT)
    target = model.browse(link.res_id).exists()
    conflicts = record.delta_conflict_json or {}
    write = {}
    for fname, info in conflicts.items():
        field = model._fields.get(fname)
        problem = field is not None and guard.field_problem(env, link.model, fname)
        if problem:
            errors.append(f"- {record.key}: {problem}")
            continue
        if field is not None:
            value = info.get("source")
            write[fname] = [Command.set(value or [])] if field.type == "many2many" else value
    if target and write:
        before = {fname: json_value(target, fname) for fname in write}
        with savepoint_attempt(env) as attempt:
            target.write(write)
        if attempt.failed:  # reported below, nothing written
            errors.append(f"- {record.key}: {attempt.error}")
            return False
        written = {fname: json_value(target, fname) for fname in write}
        merge_link(link, before, written, record.hash, touch=False)
        audit.append(audit_vals(link, before, written))
    return True


def gone(migration, action, keys=None):
    """The admin's explicit action on records gone from the source: ``archive`` (models with an
    ``active`` field) or ``delete`` (only records this migration created). Both are undone exactly
    by a rollback (restore / the record is gone either way). Returns the number of records."""
    env = migration.env
    _ = env._
    if action not in GONE_ACTIONS:
        raise UserError(_("Records gone from the source can be %(values)s.", values=" or ".join(GONE_ACTIONS)))
    domain = [("migration_id", "=", migration.id), ("delta", "=", "gone"), ("delta_gone_action", "=", False)]
    if keys is not None:
        domain.append(("key", "in", list(keys)))
    records = env["crm.migration.record"].search(domain, order="id desc")
    if keys is not None:
        missing = sorted(set(keys) - set(records.mapped("key")))
        if missing:
            raise UserError(_("These keys are not gone from the source in migration %(name)s (or were handled "
                              "already): %(keys)s", name=migration.display_name, keys=", ".join(missing)))
    links = {link.key: link for link in env["crm.migration.link"].search(
        [("migration_id", "=", migration.id), ("key", "in", records.mapped("key")), ("kept", "=", False)])}
    by_model = defaultdict(list)
    for record in records:
        if record.key in links:
            # the link's model, never the staged record's (records are writable by the group)
            by_model[links[record.key].model].append(record)
    errors, audit, done = [], [], []
    with env.cr.savepoint():
        for model_name, model_records in by_model.items():
            model = env[model_name].with_context(active_test=False, **QUIET_CONTEXT)
            for record in model_records:
                if _gone_one(model, action, record, links[record.key], errors, audit):
                    done.append((record, "deleted" if action == "delete" else "archived"))
        if errors:
            raise UserError(_("Records gone from the source: nothing was done, because:\n%(lines)s",
                              lines="\n".join(errors)))
        for record, result in done:
            record.delta_gone_action = result
        if audit:
            env["crm.migration.audit"].sudo().create(audit)
    return len(done)


def _gone_one(model, action, record, link, errors, audit):
    """Archive or delete the record of ``link`` (in ``model``, without active filtering); False
    (and a line in ``errors``) when it may not or Odoo refused."""
    env = model.env
    _ = env._
    active = model._active_name
    target = model.browse(link.res_id).exists()
    if not target:
        return True
    if action == "delete" and link.action != "created":
        errors.append(_("- %(key)s: %(model)s %(id)s existed before the migration (matched); a rollback "
                        "could not bring it back: archive it instead", key=record.key,
                        model=model._name, id=link.res_id))
        return False
    if action == "archive" and not active:
        errors.append(_("- %(key)s: %(model)s records cannot be archived", key=record.key, model=model._name))
        return False
    with savepoint_attempt(env) as attempt:
        if action == "delete":
            before = dict(link.values_after_json or {})
            target.unlink()
            audit.append(audit_vals(link, before, {}, action="delete"))
        elif target[active]:
            before = {active: json_value(target, active)}
            target.write({active: False})
            after = {active: json_value(target, active)}
            merge_link(link, before, after, touch=False)
            audit.append(audit_vals(link, before, after))
    if attempt.failed:  # reported below, nothing done
        errors.append(f"- {record.key}: {attempt.error}")
        return False
    return True


# ---------------------------------------------------------------------- report
def counts(migration):
    """``{object: {"unchanged", "updated", "created", "gone", "conflicts", "pending", "errors"}}`` of the
    current delta round (``{}`` when the migration never had one)."""
    result = {}
    if not migration.delta_round:
        return result
    for obj, delta, state, decision, count in migration.env["crm.migration.record"]._read_group(
        [("migration_id", "=", migration.id), ("delta", "!=", False)],
        ["object", "delta", "state", "delta_decision"], ["__count"], order="object",
    ):
        row = result.setdefault(obj, dict.fromkeys(
            ("unchanged", "updated", "created", "gone", "conflicts", "pending", "errors"), 0))
        if state == "conflict" or decision == "odoo":
            row["conflicts"] += count
        elif delta in ("unchanged", "gone"):
            row[delta] += count
        elif state in DONE_STATES:
            row["updated" if delta == "update" else "created"] += count
        elif state == "error":
            row["errors"] += count
        else:
            row["pending"] += count
    return result
