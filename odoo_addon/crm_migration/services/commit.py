"""Commit engine: staged records -> real Odoo records (docs/staging-contract.md, "Commit semantics").

Order of work::

    objects in topological order of their refs and deps (cycle -> UserError)
      records of one object in passes (a record waits while a same-object ref/dep is pending)
        batches of ``batch_size`` records (``commit_batch``):
          1. one ``search`` on links for the batch's keys, ref keys and deps (unlinked -> skipped)
          2. lookups (services/lookups.py): resolved owners first (required lookups), then one
             ``search`` per (model, field, where-paths) group, alt fields in further rounds; a
             required lookup that finds nothing -> fallback user, else the record is ``waiting``
          3. one ``search_read`` per match rule (services/matching.py)
          4. already linked / matched records: fill empty fields only (values_before in the link)
          5. one ``create(vals_list)`` per model; on error retried record by record in savepoints
             (services/target_writes.py; custom fields: the registry knows them before the next
             object is created)
          6. one INSERT of the batch's links and audit rows, then the staged records' states in
             one UPDATE
    the generated "Migrated fields" form view of each model that got custom fields
    (services/custom_fields.py)

Everything runs as the calling user (no sudo): ACLs and constraints of the target models apply.
Two exceptions, both bookkeeping of custom fields (services/custom_fields.py): the generated
"Migrated fields" view, and the count of records using a custom field.

Performance notes: planning reads the staged records page by page into small ``PlanItem``
objects (services/paging.py); each chunk reads its own records once (one SELECT of their
columns, ``paging.rows``: one JSON document a chunk, decoded once, never copied) into ``Item`` objects
(services/commit_item.py); case-insensitive text comparisons are one ``lower(column) IN (...)``
per field (services/text_search.py); the batch's bookkeeping on ``crm.migration.record`` (our own
model) goes through ``_write_multi``, the ORM's batched UPDATE used by flush, followed by cache
invalidation and ``modified``.
"""

import logging
from collections import defaultdict
from datetime import datetime

from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import compat
from . import attached, bulk, derived, guard, key_claim, lookups, matching, paging, planner_stats, target_writes
from . import plan as planning
from .commit_item import BOOKKEEPING_FIELDS, ITEM_FIELDS, PLAN_FIELDS, PLAN_VALUES, Item, PlanItem
from .custom_fields import sync_migrated_fields_views
from .staging import SCHEMA_MODEL

_logger = logging.getLogger(__name__)

# states of staged records that a commit (re)processes
TODO_STATES = ("staged", "failed", "skipped", "waiting")


# audit action of each link action written by a commit
AUDIT_ACTIONS = {"created": "create", "updated": "update", "matched": "match"}


class CommitEngine:
    def __init__(self, migration, batch_size=500, sampled_only=False, on_batch=None, workers=1):
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
        self.workers = workers  # chunks a plan's waves run at a time (services/plan.py, split_size)
        last = self.Link.search([("migration_id", "=", migration.id)], order="sequence desc", limit=1)
        self.sequence = last.sequence or 0
        self.Owner = self.env["crm.migration.owner"]
        self.owner_rows = {}  # (model, field, normalised value) -> crm.migration.owner
        self._owner_rows_loaded = False
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
        nothing to commit. Reads the staged records page by page (services/paging.py), keeping a
        small ``PlanItem`` of each; writes nothing but the run's message floor."""
        domain = [("migration_id", "=", self.migration.id), ("state", "in", TODO_STATES)]
        if self.sampled_only:
            domain.append(("sampled", "=", True))
        # page by page, keeping only what planning needs (issue #11: a million records)
        items = [PlanItem(row) for page in paging.row_pages(self.Record, domain, PLAN_FIELDS, exprs=PLAN_VALUES)
                 for row in page]
        if not items:
            return None
        # the order the records were staged in: by staging call, then by arrival (two calls of one
        # upload may run at the same time: their ids interleave; crm.migration.record.stage_batch)
        items.sort(key=lambda item: (item.batch, item.record_id))
        since = self.env.cr.now()  # start of this run's first transaction
        derived.start_run(self)  # what Odoo derives on matched records (services/derived.py)
        # kept on the migration (a parallel commit's plan goes through the RPC caller: not trusted)
        self.migration.sudo().derived_message_floor = self.derived_message_floor
        edited_before = list(self._links_written_after())
        by_object = defaultdict(list)
        for item in items:
            by_object[item.object].append(item)
        order = self.object_order(items)
        ordered = [i for obj in order for i in attached.original_order(by_object[obj])]
        inside = {item.key for item in items}
        outside = sorted({t for item in items for t in item.ref_targets if t not in inside})
        waves = planning.build_waves(self, ordered, order, self.batch_size, self.sequence + 1,
                                     self._models_of_keys(outside), self.workers)
        return {
            "migration": self.migration.id,
            "since": since.isoformat(sep=" "),  # microseconds kept
            "edited_before": edited_before,
            "schema": any(item.model == SCHEMA_MODEL for item in items),
            "total": len(items),
            "waves": waves,
        }

    def _models_of_keys(self, keys):
        """key -> (model, res_id) of staged keys outside the plan (this migration's records
        committed before, else any migration's links), asked of PostgreSQL 50,000 keys at a time."""
        found = {}
        self.Record.flush_model(["key", "model", "res_id"])
        self.Link.flush_model(["key", "model", "res_id"])
        for start in range(0, len(keys), 50_000):
            part = keys[start:start + 50_000]
            self.env.cr.execute(SQL("SELECT key, model, res_id FROM %s WHERE migration_id = %s AND key = ANY(%s)",
                                    SQL.identifier(self.Record._table), self.migration.id, part))
            found.update((key, (model, res_id)) for key, model, res_id in self.env.cr.fetchall())
            rest = [key for key in part if key not in found]
            if rest:
                self.env.cr.execute(SQL("SELECT DISTINCT ON (key) key, model, res_id FROM %s"
                                        " WHERE key = ANY(%s) ORDER BY key, id DESC",
                                        SQL.identifier(self.Link._table), rest))
                found.update((key, (model, res_id)) for key, model, res_id in self.env.cr.fetchall())
        return found

    def commit_chunk(self, chunk):
        """Commit one chunk of the plan (``{"ids", "seq", "skip"?}``) in the current transaction:
        its records still to do (a chunk run again after it committed does nothing), in the
        plan's order. Returns the number of records done."""
        ids = [int(i) for i in chunk["ids"]]
        domain = [("id", "in", ids), ("migration_id", "=", self.migration.id), ("state", "in", TODO_STATES)]
        position = {rid: n for n, rid in enumerate(ids)}
        records = self.Record.search(domain)
        found = paging.rows(self.Record, records._ids, ITEM_FIELDS)
        items = sorted((Item(rec, found[rec.id]) for rec in records), key=lambda item: position[item.record_id])
        if not items:
            return 0
        # the tables a large commit grows: planned from fresh statistics (issue #11)
        planner_stats.refresh(self.env, ["crm.migration.record", "crm.migration.link",
                                         *{item.model for item in items if item.model in self.env}])
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
        # the chunk's staged JSON leaves the cache (a serial run meets every record of the migration)
        self.Record.invalidate_model(ITEM_FIELDS)
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

    def _written_after_sql(self, since=None):
        """Per target model, ``(link table, record table, WHERE)`` over this migration's
        created/updated links ``l`` whose record ``t`` was written after the link's ``written_at``
        (and, given ``since``, at or after it): what ``_links_written_after`` selects and
        ``_absorb_own_writes`` updates. Set-based (issue #11): a million links are never read
        into Python."""
        link_table = SQL.identifier(self.Link._table)
        self.Link.flush_model()
        for (model_name,) in self.Link._read_group([("migration_id", "=", self.migration.id),
                                                    ("action", "in", ("created", "updated")),
                                                    ("model", "!=", SCHEMA_MODEL)], ["model"]):
            model = self.env[model_name] if model_name in self.env else None
            if model is None or not model._log_access:
                continue
            model.flush_model(["write_date"])
            where = SQL(
                "t.id = l.res_id AND l.migration_id = %s AND l.model = %s AND l.action IN ('created', 'updated')"
                " AND t.write_date IS NOT NULL AND (l.written_at IS NULL OR l.written_at < t.write_date)%s",
                self.migration.id, model_name, SQL(" AND t.write_date >= %s", since) if since else SQL())
            yield link_table, SQL.identifier(model._table), where

    def _links_written_after(self, since=None):
        """``{link id: write_date}`` of this migration's created/updated links whose record was
        written after the link's ``written_at`` (and, given ``since``, at or after it)."""
        result = {}
        for link_table, table, where in self._written_after_sql(since):
            self.env.cr.execute(SQL("SELECT l.id, t.write_date FROM %s l, %s t WHERE %s", link_table, table, where))
            result.update(self.env.cr.fetchall())
        return result

    def _absorb_own_writes(self, since, edited_before):
        """Records of this migration that this run wrote as a side effect of its own creates (a
        company whose first contact gives it an address, a sampled deal a later batch fills) are
        not "edited in Odoo since the migration wrote them": their links' ``written_at`` moves to
        their ``write_date``. Only writes since the run started count, and links already edited
        before it (``edited_before``: an edit made between a sample and the full commit) stay
        rollback conflicts. One UPDATE per model (our own bookkeeping)."""
        for link_table, table, where in self._written_after_sql(since):
            self.env.cr.execute(SQL(
                "UPDATE %s l SET written_at = t.write_date FROM %s t WHERE %s AND NOT (l.id = ANY(%s))",
                link_table, table, where, sorted(edited_before)))
        self.Link.invalidate_model(["written_at"])

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
        lookups.resolve_lookups(self, [i for i in items if not i.done])

        # 3. match rules for records not linked yet
        matching.find_matches(self.env, [i for i in items if not i.done and not i.linked and i.match])

        # 4. linked or matched records: fill empty fields; a delta round's updates of this
        # migration's own records first (services/delta.py)
        from .delta import apply_updates  # noqa: PLC0415 - delta.py builds on this module

        existing = [i for i in items if not i.done and (i.linked or i.match_id)]
        derived.snapshot_existing(self, existing)
        apply_updates(self, existing)
        target_writes.update_existing(self, [i for i in existing if not i.done])

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
                    target_writes.create(self, model, model_items)

        # 6. bookkeeping
        self._write_bookkeeping(items)

    def _write_bookkeeping(self, items):
        """The batch's links and audit rows, what Odoo derived, and the staged records' states."""
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
        compat.write_multi(records, vals_list)
        records.invalidate_recordset(BOOKKEEPING_FIELDS + ["write_date", "write_uid"], flush=False)
        records.modified([fname for fname in BOOKKEEPING_FIELDS if fname != "issues_json"])
        # the issue flags are recomputed only where issues were added (issue #11: recomputing them
        # for every record of a batch was 2% of a commit)
        with_issues = [item.record_id for item, vals in zip(items, vals_list, strict=True) if "issues_json" in vals]
        if with_issues:
            Record.browse(with_issues).modified(["issues_json"])

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
