"""What Odoo derives from a commit, and its undoing by rollback (issue #12, "Data" 11;
docs/staging-contract.md, "Rollback semantics", "What Odoo derived").

A commit writes only the empty fields of the records it matches, and rollback restores those
(``values_before_json``). But Odoo derives more from what the migration writes or creates: stored
computed columns of a matched record (a partner's ``email_normalized``, ``peppol_eas``...), writes
Odoo makes on it by itself (the first contact created under a matched company gives the company
its address), tracking messages in its chatter, and rows of side tables (the predictive lead
scoring frequencies, ``crm.lead.scoring.frequency``, counted when a won or lost lead is created).

- **Matched records** (links ``matched``/``updated``): the first time a commit meets one, its whole
  row (every stored column, ``to_jsonb``) is kept in the link (``derived_json["before"]``); at the
  end of each commit run the columns that changed since are kept with their new values
  (``derived_json["after"]``), and the ``notification`` messages Odoo added to its chatter
  during the run (``derived_json["messages"]``). Rollback, before undoing anything, compares each
  such column's current value with ``after``: unchanged since the commit -> the column gets its
  ``before`` value back (SQL, after the ORM restore of ``values_before_json``); changed since (an
  edit made in Odoo after the commit) -> left as it is and listed in the report's
  ``rollback_remains`` with why. The messages are removed.
- **Scoring frequencies**: the commit keeps, per batch of ``crm.lead`` it creates, how the
  ``crm_lead_scoring_frequency`` rows changed (``crm.migration.derived_side_json``); rollback
  takes it back (rows the commit added are removed, unless used since: then the counts are
  decreased and the row is listed).

Not covered (listed nowhere): side effects on records the migration neither created nor linked
(e.g. a partner reached only through a lookup), and ``write_date``/``write_uid`` of matched
records, which keep the rollback's own write.
"""

import json
import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# columns never compared or restored: the ORM's own bookkeeping of the write
SKIPPED_COLUMNS = ("id", "write_date", "write_uid", "create_date", "create_uid")
FREQUENCY_MODEL = "crm.lead.scoring.frequency"
LEAD_MODEL = "crm.lead"
STAGE_MODEL = "crm.stage"


# ---------------------------------------------------------------------- planning a commit
def scoring_hint(model, values, refs, lookups):
    """What a staged record tells, before commit, of whether creating it moves the scoring
    frequencies (kept in ``PlanItem.scoring``): a stage, whether it is won (None: not said); a lead,
    True when it is created lost (archived) or in a stage known only at commit (a lookup, an id),
    else the key of its staged stage (False: no stage at all); anything else, None."""
    if model == STAGE_MODEL:
        return values["is_won"] if isinstance(values.get("is_won"), bool) else None
    if model != LEAD_MODEL:
        return None
    if values.get("active") is False or "stage_id" in lookups or values.get("stage_id"):
        return True
    stage = refs.get("stage_id")
    return stage if isinstance(stage, str) else False


def won_stages(env, items, outside):
    """key -> won (None: not said) of the stages a plan's leads may name: the plan's own staged
    stages, and those committed before (``outside``: key -> (model, res_id)) as they are in Odoo."""
    committed = {key: res_id for key, (model, res_id) in outside.items() if model == STAGE_MODEL and res_id}
    won_of = {}
    if committed and STAGE_MODEL in env:
        won = {stage.id: stage.is_won for stage in env[STAGE_MODEL].browse(set(committed.values())).exists()}
        won_of = {key: won.get(res_id) for key, res_id in committed.items()}
    won_of.update((item.key, item.scoring) for item in items if item.model == STAGE_MODEL)
    return won_of


def moves_scoring(item, won_of):
    """Whether creating ``item`` (a ``PlanItem``) may move the shared scoring frequency rows,
    which two transactions cannot update at once: a lead created lost, or won (a lead in a stage
    not known to be unwon counts as won)."""
    if item.model != LEAD_MODEL:
        return False
    if isinstance(item.scoring, str):
        return won_of.get(item.scoring) is not False
    return bool(item.scoring)


def _rows(env, model_name, ids):
    """``{id: {column: json value}}`` of the rows of ``model_name`` with these ids (flushed first)."""
    model = env[model_name]
    if not ids or model._abstract or not model._auto or model._table_query:
        return {}
    model.flush_model()
    env.cr.execute(SQL("SELECT t.id, to_jsonb(t) FROM %s t WHERE t.id = ANY(%s)",
                       SQL.identifier(model._table), list(ids)))
    return {row_id: {k: v for k, v in row.items() if k not in SKIPPED_COLUMNS}
            for row_id, row in env.cr.fetchall()}


# ---------------------------------------------------------------------- commit side
def start_run(engine):
    """Called when a commit run starts: the newest chatter message id (messages added after it
    on matched records during the run are Odoo's reaction to the commit)."""
    engine.env.cr.execute("SELECT COALESCE(max(id), 0) FROM mail_message")
    engine.derived_message_floor = engine.env.cr.fetchone()[0]
    engine.derived_before = {}


def snapshot_existing(engine, items):
    """Before step 4 of a batch writes on existing records: the rows of the matched / linked
    targets this migration has not met yet (one query per model)."""
    targets = {}
    for item in items:
        res_id = item.linked.res_id if item.linked else item.match_id
        if res_id and (item.model, res_id) not in engine.derived_before:
            targets.setdefault(item.model, set()).add(res_id)
    for model_name, ids in targets.items():
        if model_name not in engine.env:
            continue
        for res_id, row in _rows(engine.env, model_name, ids).items():
            engine.derived_before[(model_name, res_id)] = row


def save_batch(engine, items):
    """After the batch's links are created: the snapshots go into the links of this batch that
    link an existing record (``matched``/``updated``), one UPDATE."""
    payload = {}
    for item in items:
        vals = item.link_vals
        if not vals or vals["action"] not in ("matched", "updated"):
            continue
        row = engine.derived_before.get((vals["model"], vals["res_id"]))
        if row is not None:
            payload[(vals["model"], vals["res_id"])] = row
    if not payload:
        return
    Link = engine.Link
    Link.flush_model()
    links = Link.search_fetch([("migration_id", "=", engine.migration.id), ("action", "in", ("matched", "updated")),
                               ("res_id", "in", list({res_id for _m, res_id in payload}))],
                              ["model", "res_id", "derived_json"], order="sequence, id")
    data, seen = {}, set()
    for link in links:
        pair = (link.model, link.res_id)
        if pair in payload and pair not in seen and not link.derived_json:
            seen.add(pair)
            data[str(link.id)] = {"before": payload[pair]}
    if data:
        engine.env.cr.execute(SQL(
            "UPDATE crm_migration_link l SET derived_json = v.value"
            " FROM jsonb_each(%s::jsonb) v WHERE l.id = v.key::int",
            json.dumps(data)))
        Link.invalidate_model(["derived_json"])


def finish_run(engine):
    """End of a commit run: for each link holding a ``before`` row, the columns that differ now
    (``after``) and the notification messages Odoo added to the record during the run."""
    links = engine.Link.search_fetch([("migration_id", "=", engine.migration.id), ("derived_json", "!=", False)],
                                     ["model", "res_id", "derived_json"])
    by_model = {}
    for link in links:
        by_model.setdefault(link.model, []).append(link)
    floor = getattr(engine, "derived_message_floor", None)
    data = {}
    for model_name, model_links in by_model.items():
        if model_name not in engine.env:
            continue
        current = _rows(engine.env, model_name, [link.res_id for link in model_links])
        messages = {}
        if floor is not None:
            engine.env["mail.message"].flush_model()
            engine.env.cr.execute(SQL(
                "SELECT res_id, array_agg(id ORDER BY id) FROM mail_message WHERE model = %s AND res_id = ANY(%s) "
                "AND id > %s AND message_type = 'notification' GROUP BY res_id",
                model_name, [link.res_id for link in model_links], floor))
            messages = dict(engine.env.cr.fetchall())
        for link in model_links:
            derived = dict(link.derived_json or {})
            before = derived.get("before") or {}
            now = current.get(link.res_id)
            if now is None:
                continue
            derived["after"] = {col: now.get(col) for col in before if now.get(col) != before.get(col)}
            derived["messages"] = sorted(set(derived.get("messages") or []) | set(messages.get(link.res_id) or []))
            data[str(link.id)] = derived
    if data:
        engine.env.cr.execute(SQL(
            "UPDATE crm_migration_link l SET derived_json = v.value"
            " FROM jsonb_each(%s::jsonb) v WHERE l.id = v.key::int",
            json.dumps(data)))
        engine.Link.invalidate_model(["derived_json"])


def _frequencies(env):
    env.cr.execute("SELECT id, won_count, lost_count FROM crm_lead_scoring_frequency")
    return {row[0]: (float(row[1] or 0), float(row[2] or 0)) for row in env.cr.fetchall()}


class side_tables:
    """``with side_tables(engine, model_name):`` around the create of a batch of ``crm.lead``
    that sets a stage or ``active``: the change of the scoring frequencies is added to the
    migration's ``derived_side_json``."""

    def __init__(self, engine, model_name, items):
        self.engine = engine
        self.active = (model_name == LEAD_MODEL and FREQUENCY_MODEL in engine.env
                       and any("stage_id" in i.values or "stage_id" in i.rel or "stage_id" in i.lookups
                               or "active" in i.values for i in items))

    def __enter__(self):
        if self.active:
            self.engine.env.flush_all()
            self.before = _frequencies(self.engine.env)
        return self

    def __exit__(self, exc_type, exc, tb):
        if not self.active or exc_type:
            return False
        env = self.engine.env
        env.flush_all()
        after = _frequencies(env)
        if after == self.before:
            # no lead of the batch was created won or lost: the migration row is not written (two
            # chunks writing it at once refuse each other, issue #11)
            return False
        migration = self.engine.migration
        side = dict(migration.derived_side_json or {})
        freq = dict(side.get(FREQUENCY_MODEL) or {})
        for fid, (won, lost) in after.items():
            old = self.before.get(fid)
            entry = freq.get(str(fid))
            if old is None:  # a row this batch created
                freq[str(fid)] = {"created": True, "won": won, "lost": lost}
            elif old != (won, lost):
                if entry and entry.get("created"):
                    entry.update(won=won, lost=lost)
                else:
                    entry = entry or {"won": 0.0, "lost": 0.0}
                    entry.update(won=entry["won"] + won - old[0], lost=entry["lost"] + lost - old[1])
                    freq[str(fid)] = entry
        side[FREQUENCY_MODEL] = freq
        migration.derived_side_json = side
        return False


# ---------------------------------------------------------------------- rollback side
def plan_restore(rollback, links):
    """Before a rollback undoes anything: per link to an existing record, the columns to give
    their ``before`` value back (unchanged since the commit) and those left (changed since)."""
    _ = rollback.env._
    plan, remains = [], []
    by_model = {}
    for link in links:
        if link.action in ("matched", "updated") and link.derived_json and link.derived_json.get("after") is not None:
            by_model.setdefault(link.model, []).append(link)
    for model_name, model_links in by_model.items():
        if model_name not in rollback.env:
            continue
        current = _rows(rollback.env, model_name, [link.res_id for link in model_links])
        for link in model_links:
            # fields the link restores itself (values_before_json, through the ORM) are not ours
            own = set(link.values_before_json or {}) if link.action == "updated" else set()
            after = {col: value for col, value in (link.derived_json.get("after") or {}).items() if col not in own}
            before = link.derived_json.get("before") or {}
            now = current.get(link.res_id)
            if now is None:
                continue
            restore = {col: before.get(col) for col, value in after.items() if now.get(col) == value}
            edited = sorted(col for col, value in after.items() if now.get(col) != value)
            plan.append((link, restore, link.derived_json.get("messages") or []))
            if edited:
                remains.append({
                    "key": link.key, "model": model_name, "res_id": link.res_id, "columns": edited,
                    "reason": _("changed in Odoo after the commit set them: left as they are now"),
                })
    return plan, remains


def apply_restore(rollback, plan):
    """After the rollback's ORM undo: the planned columns get their ``before`` value (one UPDATE
    per record, the values read back by ``jsonb_populate_record``), the messages are removed."""
    env = rollback.env
    env.flush_all()
    touched = set()
    messages = []
    for link, restore, message_ids in plan:
        messages.extend(message_ids)
        if not restore:
            continue
        model = env[link.model]
        columns = [col for col in restore if col in model._fields and model._fields[col].store
                   and model._fields[col].column_type]
        if not columns:
            continue
        env.cr.execute(SQL(
            "UPDATE %s t SET (%s) = (SELECT %s FROM jsonb_populate_record(NULL::%s, %s::jsonb) r) WHERE t.id = %s",
            SQL.identifier(model._table),
            SQL(", ").join(SQL.identifier(c) for c in columns),
            SQL(", ").join(SQL("r.%s", SQL.identifier(c)) for c in columns),
            SQL.identifier(model._table), json.dumps({c: restore[c] for c in columns}), link.res_id))
        touched.add(link.model)
    for model_name in touched:
        env[model_name].invalidate_model()
    if messages:
        env["mail.message"].sudo().browse(messages).exists().unlink()


def reverse_side_tables(rollback):
    """Take back the scoring frequency changes the migration's commits made; returns what could
    not be taken back exactly (rows used since)."""
    _ = rollback.env._
    migration = rollback.migration
    side = dict(migration.derived_side_json or {})
    freq = side.get(FREQUENCY_MODEL) or {}
    remains = []
    if not freq or FREQUENCY_MODEL not in rollback.env:
        return remains
    env = rollback.env
    env.flush_all()
    current = _frequencies(env)
    for fid, entry in freq.items():
        row = current.get(int(fid))
        if row is None:
            continue
        if entry.get("created"):
            if row == (entry["won"], entry["lost"]):
                env.cr.execute("DELETE FROM crm_lead_scoring_frequency WHERE id = %s", (int(fid),))
                continue
            won, lost = row[0] - (entry["won"] - 0.1), row[1] - (entry["lost"] - 0.1)
            remains.append({"key": "", "model": FREQUENCY_MODEL, "res_id": int(fid),
                            "columns": ["won_count", "lost_count"],
                            "reason": _("a scoring frequency row the commit added is used since: its counts were "
                                        "decreased by what the commit added, the row stays")})
        else:
            won, lost = row[0] - entry["won"], row[1] - entry["lost"]
        env.cr.execute("UPDATE crm_lead_scoring_frequency SET won_count = %s, lost_count = %s WHERE id = %s",
                       (max(round(won, 6), 0.1), max(round(lost, 6), 0.1), int(fid)))
    env[FREQUENCY_MODEL].invalidate_model()
    side.pop(FREQUENCY_MODEL, None)
    migration.derived_side_json = side
    return remains
