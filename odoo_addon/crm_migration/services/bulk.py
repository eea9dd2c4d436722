"""Set-based bookkeeping of the commit and rollback engines (issue #11).

The engines write one link and one audit row per Odoo record they create, update, match, delete or
restore, and one state per staged record. Through the ORM that is a ``create`` of thousands of
``crm.migration.link`` / ``crm.migration.audit`` records per batch: per record, defaults, field
conversion, cache filling and an INSERT statement of its own (the ORM inserts one row per
statement). These are our own bookkeeping tables, written only by the engines, with no computed
stored fields and no business hooks: the ORM has no bulk path for them, so they are written here
with one multi-row ``INSERT``/``DELETE``/``UPDATE`` per batch (raw SQL on purpose; access checks
done first as the ORM would, caches invalidated after).

Nothing here touches a model of Odoo's own (partners, leads, ...): those always go through the ORM.
"""

import itertools

from psycopg2.extras import Json, execute_values

from odoo.tools import SQL

from ..compat import convert_to_column_insert

# columns written by insert_links / insert_audit (besides the log access columns)
LINK_COLUMNS = ("migration_id", "record_id", "key", "model", "res_id", "action", "values_before_json",
                "values_after_json", "written_at", "hash", "sequence")
AUDIT_COLUMNS = ("migration_id", "model", "res_id", "key", "action", "values_before_json", "values_after_json",
                 "date", "user_id")
JSON_COLUMNS = {"values_before_json", "values_after_json"}
PAGE = 1000  # rows per INSERT statement


def _insert(env, table, columns, rows):
    """One multi-row INSERT (per ``PAGE`` rows) of ``rows`` (dicts) into ``table``, with the log
    access columns filled as the ORM does; returns the new ids in the order of ``rows``."""
    if not rows:
        return []
    now = env.cr.now()
    uid = env.uid
    cols = list(columns) + ["create_uid", "create_date", "write_uid", "write_date"]
    values = []
    for row in rows:
        line = []
        for col in columns:
            value = row.get(col)
            if col in JSON_COLUMNS:
                value = Json(value or {})
            elif value is False:
                value = None
            line.append(value)
        line += [uid, now, uid, now]
        values.append(tuple(line))
    ids = []
    # identifiers are the ORM's own table and column names; every value goes as a parameter
    query = 'INSERT INTO "%s" (%s) VALUES %%s RETURNING id' % (  # noqa: S608 - identifiers only, see above
        table, ", ".join(f'"{c}"' for c in cols))
    for start in range(0, len(values), PAGE):
        ids += [r[0] for r in execute_values(env.cr._obj, query, values[start:start + PAGE], page_size=PAGE,
                                             fetch=True)]
    return ids


def insert_links(env, link_vals):
    """Links of a batch (``CommitEngine._next_link`` values) as the calling user, who must be
    allowed to create links (the ORM's ``create`` would check the same)."""
    # links are the engines' own bookkeeping: the Migration Manager group may read them, never
    # write them (services/guard.py), so no access check of the user here, as the engines' sudo()
    Link = env["crm.migration.link"].sudo()
    if not link_vals:
        return Link
    Link.flush_model()
    ids = _insert(env, Link._table, LINK_COLUMNS, link_vals)
    # the migrations' one2many and counts read the table again
    env["crm.migration"].invalidate_model(["link_ids"])
    return Link.browse(ids)


def insert_audit(env, audit_vals):
    """Audit rows (the engines write them with sudo: users only read the audit), in order. A row
    ``{"from_link": link id, "action": ...}`` is copied from the link by PostgreSQL (migration,
    model, res_id, key; the link's ``values_after_json`` as the values before): a rollback's
    ``delete`` rows, without decoding and encoding every link's JSON in Python."""
    if not audit_vals:
        return
    Audit = env["crm.migration.audit"].sudo()
    Audit.flush_model()
    env["crm.migration.link"].flush_model()
    now = env.cr.now()
    uid = env.uid
    for from_link, group in itertools.groupby(audit_vals, key=lambda vals: "from_link" in vals):
        group = list(group)
        if not from_link:
            rows = [dict(vals, date=vals.get("date") or now, user_id=vals.get("user_id") or uid) for vals in group]
            _insert(env, Audit._table, AUDIT_COLUMNS, rows)
            continue
        env.cr.execute("""
            INSERT INTO crm_migration_audit (migration_id, model, res_id, key, action, values_before_json,
                                             values_after_json, date, user_id, create_uid, create_date,
                                             write_uid, write_date)
            SELECT l.migration_id, l.model, l.res_id, l.key, v.action, COALESCE(l.values_after_json, '{}'::jsonb),
                   '{}'::jsonb, %s, %s, %s, %s, %s, %s
              FROM unnest(%s::int[], %s::varchar[]) WITH ORDINALITY AS v(link_id, action, n)
              JOIN crm_migration_link l ON l.id = v.link_id
             ORDER BY v.n""", [now, uid, uid, now, uid, now, [vals["from_link"] for vals in group],
                               [vals["action"] for vals in group]])
    env["crm.migration"].invalidate_model(["audit_ids"])


def delete_links(env, links):
    """Unlink links (rollback: all of a migration's undone links at once). ``crm.migration.link``
    has no ``unlink`` override and nothing points to it, so one DELETE does what the ORM's
    ``unlink`` does, without reading every record first."""
    if not links:
        return
    links = links.sudo()  # the engines' own bookkeeping (see insert_links)
    links.flush_recordset()
    ids = list(links._ids)
    for start in range(0, len(ids), 50000):
        env.cr.execute("DELETE FROM crm_migration_link WHERE id = ANY(%s)", [ids[start:start + 50000]])
    links.invalidate_recordset()
    env["crm.migration"].invalidate_model(["link_ids"])


def set_record_states(env, records, vals):
    """The same values on many staged records (rollback: ``rolled_back``, res_id 0): one UPDATE,
    as ``write`` would do, with the write log columns, caches invalidated and dependents marked."""
    if not records:
        return
    Record = env["crm.migration.record"]
    records.check_access("write")
    records.flush_recordset(list(vals))
    field_vals = {name: Record._fields[name].convert_to_column(value, records) for name, value in vals.items()}
    sets = SQL(", ").join(SQL("%s = %s", SQL.identifier(name), value) for name, value in field_vals.items())
    ids = list(records._ids)
    for start in range(0, len(ids), 50000):
        env.cr.execute(SQL("UPDATE crm_migration_record SET %s, write_uid = %s, write_date = %s WHERE id = ANY(%s)",
                           sets, env.uid, env.cr.now(), ids[start:start + 50000]))
    records.invalidate_recordset(list(vals) + ["write_date", "write_uid"], flush=False)
    records.modified(list(vals))


# field types insert_records writes itself (anything else: the ORM's create)
PLAIN_TYPES = ("char", "text", "selection", "integer", "float", "boolean", "json", "many2one",
               "many2one_reference", "datetime", "date")
LOG_COLUMNS = ("id", "create_uid", "create_date", "write_uid", "write_date")


def insert_records(env, vals_list):
    """New staged records (``api_stage``): one multi-row INSERT per 1,000 instead of the ORM's
    ``create`` (which spent 85 % of a staging call on defaults, conversions and cache; issue #11).
    The defaults come from ``default_get`` once per call and every value goes through its field's
    ``convert_to_column``, as the ORM does. Falls back to ``create`` whenever this would not be
    the same: a value for a field that is not a plain stored column, or a stored computed field
    that is not given (the issue flags are: ``staging.issue_flags``)."""
    Record = env["crm.migration.record"]
    if not vals_list:
        return Record
    Record.check_access("create")
    columns = [f for name, f in Record._fields.items()
               if f.store and f.column_type and name not in LOG_COLUMNS]
    names = {f.name for f in columns}
    if (any(f.type not in PLAIN_TYPES or f.company_dependent or getattr(f, "translate", False) for f in columns)
            or any(f.compute and any(f.name not in vals for vals in vals_list) for f in columns)
            or any(set(vals) - names for vals in vals_list)):
        return Record.create(vals_list)
    defaults = Record.default_get(sorted(names))
    rows = []
    for vals in vals_list:
        row = {}
        for field in columns:
            value = vals[field.name] if field.name in vals else defaults.get(field.name)
            row[field.name] = convert_to_column_insert(field, value, Record, vals)
        rows.append(row)
    Record.flush_model()
    ids = _insert_plain(env, Record._table, [f.name for f in columns], rows)
    records = Record.browse(ids)
    records.check_access("create")  # record rules, as create checks them
    env["crm.migration"].invalidate_model(["record_ids"])
    # what depends on the new records (the migration's counts, progress, report) is marked as
    # create marks it; not the fields that only feed the stored computed fields given above
    given = {f.name for f in columns if f.compute}
    feeding = {dep for f in columns if f.compute for dep in Record.pool.field_depends[f] if "." not in dep}
    records.modified([f.name for f in columns if f.name not in given | feeding], create=True)
    return records


def _insert_plain(env, table, columns, rows):
    """Like ``_insert``, values already converted for the column."""
    now = env.cr.now()
    uid = env.uid
    cols = list(columns) + ["create_uid", "create_date", "write_uid", "write_date"]
    values = [tuple(row[c] for c in columns) + (uid, now, uid, now) for row in rows]
    # identifiers are the ORM's own table and column names; every value goes as a parameter
    query = 'INSERT INTO "%s" (%s) VALUES %%s RETURNING id' % (  # noqa: S608 - identifiers only, see above
        table, ", ".join(f'"{c}"' for c in cols))
    ids = []
    for start in range(0, len(values), PAGE):
        ids += [r[0] for r in execute_values(env.cr._obj, query, values[start:start + PAGE], page_size=PAGE,
                                             fetch=True)]
    return ids
