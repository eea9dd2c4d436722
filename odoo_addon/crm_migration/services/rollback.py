"""Rollback engine: undo a commit from the migration's links (docs/staging-contract.md,
"Rollback semantics").

Links are walked in reverse ``sequence``: ``created`` records are unlinked (consecutive links of
one model in one ``unlink``, so children go before parents), ``updated`` records get their
``values_before_json`` back, ``matched`` records are left alone. Everything happens inside one
savepoint: if any record cannot be undone, nothing is undone and a UserError lists why.

Custom fields (``ir.model.fields`` created by the migration) come last: a field is removed only
when no record of its model still has a value in it (one ``search_count`` per field); otherwise
it is kept: its staged record keeps the field's id (``res_id``) after the rollback, the report
lists it under ``kept_fields``, and ``remove_unused_fields`` removes it once unused. The
generated "Migrated fields" form view follows (rewritten, or removed when no field is left).

Conflicts (``conflicts``), found before anything is undone:

- ``edited``: a record the migration created was written after the migration wrote it
  (``write_date`` > the link's ``written_at``); a record it updated has a restored field whose
  current value differs from what the migration wrote (``values_after_json``; ``write_date``
  first, as a cheap filter).
- ``referenced``: a record the migration created is pointed to by a record the migration neither
  created nor updated, through a stored many2one field (one ``_read_group`` per field of
  ``ir.model.fields`` with ``relation`` = the model). Not counted: fields with
  ``ondelete='cascade'`` (parts of the record, deleted with it: order lines, attendees) and
  records whose own cascade parent the migration created (lines of a migrated invoice).

``run(on_conflict)``: ``stop`` raises with the list, ``keep`` leaves the conflicting records (and
the records of this migration they refer to, transitively through their staged refs/deps) as
they are, with their links kept and marked ``kept``; ``undo`` ignores conflicts.

Every record undone gets a ``crm.migration.audit`` row (``delete``, ``restore``, ``state_reset``),
all created in one ``create`` at the end of the run.
"""

import itertools
import logging
import time
from collections import defaultdict
from contextlib import contextmanager

import psycopg2

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.osv import expression

from ..compat import setup_models
from . import attached, bulk, derived, guard, planner_stats
from .custom_fields import field_usage_count, sync_migrated_fields_views
from .errors import error_text
from .json_values import json_value
from .quiet_context import QUIET_CONTEXT
from .rollback_conflicts import RollbackConflicts
from .staging import MODEL_SCHEMA, SCHEMA_MODEL

_logger = logging.getLogger(__name__)

# fields of crm.migration.link read for every link of a rollback
LINK_FIELDS = ["migration_id", "record_id", "key", "model", "res_id", "action", "sequence", "kept"]
# records one ``unlink`` call removes at most (the ORM cache is emptied between calls)
UNLINK_PIECE = 20000


class RollbackEngine(RollbackConflicts):
    def __init__(self, migration, sample=False):
        migration.ensure_one()
        self.migration = migration
        # sample: undo only the links of the sampled records; they go back to ``staged`` and the
        # migration to ``mapped`` (docs/staging-contract.md, "Sampling"; docs/journey.md)
        self.sample = sample
        self.env = migration.env
        # links are the engines' own bookkeeping: the group may read them, never write them
        self.Link = self.env["crm.migration.link"].sudo()
        self.audit_vals = []
        # seconds per phase of the last run (issue #11: where a rollback's time goes), logged at INFO
        self.timings = {}

    @contextmanager
    def _phase(self, name):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start

    def _links(self):
        domain = [("migration_id", "=", self.migration.id), ("kept", "=", False)]
        if self.sample:
            domain.append(("record_id.sampled", "=", True))
        # the columns the run reads of every link; the JSON columns are read only for the links that
        # need them (read with the rest, they were decoded for every link: issue #11)
        links = self.Link.search_fetch(domain, LINK_FIELDS, order="sequence desc, id desc")
        self._check_links(links)  # a forged link is refused before anything is read
        return links

    def _check_links(self, links):
        """``guard.check_links``, set-based: the models and the field names the links' values
        name are asked of PostgreSQL once (distinct pairs), instead of decoding every link's JSON
        (46% of a rollback of 8,030 records in a profile, issue #11). Custom field and custom
        model links (a few) and any doubt (a model or field the guard refuses, values that are
        not JSON objects) go through ``guard.check_links`` itself, which refuses with its message."""
        special = links.filtered(lambda lk: lk.model in (SCHEMA_MODEL, MODEL_SCHEMA))
        plain_ids = list(set(links._ids) - set(special._ids))
        if not plain_ids:
            guard.check_links(self.migration, links)
            return
        self.Link.flush_model(["model", "values_before_json", "values_after_json"])
        self.env.cr.execute("""
            SELECT l.model, array_remove(array_agg(DISTINCT k.name), NULL),
                   bool_or(jsonb_typeof(COALESCE(l.values_after_json, '{}'::jsonb)) <> 'object'
                           OR jsonb_typeof(COALESCE(l.values_before_json, '{}'::jsonb)) <> 'object')
              FROM crm_migration_link l
              LEFT JOIN LATERAL (
                    SELECT jsonb_object_keys(l.values_after_json) AS name
                     WHERE jsonb_typeof(l.values_after_json) = 'object'
                    UNION
                    SELECT jsonb_object_keys(l.values_before_json)
                     WHERE jsonb_typeof(l.values_before_json) = 'object'
              ) k ON TRUE
             WHERE l.id = ANY(%s)
             GROUP BY l.model""", [plain_ids])
        rows = self.env.cr.fetchall()  # before the queries below
        business = guard.business_models(self.env) | guard.declared_models(self.migration)
        glue = self.migration._glue_link_models()
        doubt = False
        for model_name, fnames, not_object in rows:
            if not_object:
                doubt = True
            elif attached.is_attached(model_name) or model_name in glue:
                continue
            elif model_name not in business:
                doubt = True
            elif model_name in self.env and any(guard.field_problem(self.env, model_name, f) for f in fnames):
                doubt = True
            if doubt:
                break
        guard.check_links(self.migration, links if doubt else special)

    def _audit(self, link, action, before=None, after=None):
        self.audit_vals.append({
            "migration_id": self.migration.id, "model": link.model, "res_id": link.res_id, "key": link.key,
            "action": action, "values_before_json": before or {}, "values_after_json": after or {},
        })

    def run(self, on_conflict="stop"):
        self.timings = {}
        started = time.perf_counter()
        # the migration's links and records (and what a large commit created) planned from fresh statistics
        planner_stats.refresh(self.env, ["crm.migration.record", "crm.migration.link"])
        try:
            self._run(on_conflict)
        finally:
            self.timings["total"] = time.perf_counter() - started
            _logger.info("crm_migration: rollback of migration %s (%s): %s", self.migration.id,
                         "sample" if self.sample else "all",
                         ", ".join(f"{name} {secs:.2f}s" for name, secs in self.timings.items()))

    def _run(self, on_conflict):
        _ = self.env._
        with self._phase("links"):
            links = self._links()
        with self._phase("later_links"):
            blocking = self._later_links(links)
        if blocking:
            raise UserError(_(
                "Migration %(name)s cannot be rolled back: later migrations use records it created or "
                "changed. Roll them back first:\n%(lines)s",
                name=self.migration.display_name, lines="\n".join(blocking),
            ))
        kept = self.Link.browse()
        kept_info = {}
        if on_conflict != "undo":
            with self._phase("conflicts"):
                conflicts = self._conflicts(links)
            if conflicts and on_conflict == "stop":
                raise UserError(_(
                    "Migration %(name)s was not rolled back; nothing was undone. Records changed or used in "
                    "Odoo since the migration wrote them (roll back with on_conflict 'keep' to leave them "
                    "as they are, or 'undo' to undo them anyway):\n%(lines)s",
                    name=self.migration.display_name,
                    lines="\n".join(self._conflict_line(c) for c in conflicts),
                ))
            if conflicts:
                kept, kept_info = self._kept_links(links, conflicts)
        links -= kept
        schema_links = links.filtered(lambda lk: lk.model == SCHEMA_MODEL and lk.action == "created")
        model_links = links.filtered(lambda lk: lk.model == MODEL_SCHEMA and lk.action == "created")
        with self._registry_guard(bool(schema_links or model_links)), self.env.cr.savepoint():
            with self._phase("derived_plan"):
                # what Odoo derived from the commit on matched records (services/derived.py)
                derived_plan, remains = derived.plan_restore(self, links)
            created = links.filtered(lambda lk: lk.action == "created")
            with self._phase("glue_and_states"):
                # glue modules undo what they did after the commit (a posted invoice back to draft)
                errors = self.migration._before_rollback_undo(created)
                errors += self._reset_states(created)
            for (action, model_name), group in itertools.groupby(links - schema_links,
                                                                 key=lambda lk: (lk.action, lk.model)):
                group = self.Link.concat(*group)
                with self._phase(f"{action} {model_name}"):
                    if action == "created":
                        errors += self._unlink(model_name, group)
                    elif action == "updated":
                        errors += self._restore(model_name, group)
            if errors:
                # leaving the savepoint with an exception undoes everything done above
                raise UserError(_(
                    "Rollback of migration %(name)s stopped; nothing was undone. These records could not "
                    "be undone:\n%(lines)s", name=self.migration.display_name, lines="\n".join(errors),
                ))
            with self._phase("derived_restore"):
                derived.apply_restore(self, derived_plan)
                remains += derived.reverse_side_tables(self)
            with self._phase("bookkeeping"):
                self._bookkeeping(links, kept, kept_info, schema_links, remains)

    def _bookkeeping(self, links, kept, kept_info, schema_links, remains):
        """After the undo: states of the staged records, kept links, audit rows, links removed,
        custom fields removed when unused."""
        if not self.sample:
            self.migration.rollback_remains_json = remains
        # custom fields: removed when unused, else kept (their staged record keeps the id)
        fields_ = self.env[SCHEMA_MODEL].sudo().browse(schema_links.mapped("res_id")).exists()
        kept_fields = fields_.filtered(lambda f: field_usage_count(self.env, f))
        if self.sample:
            sampled = self.env["crm.migration.record"].search([("migration_id", "=", self.migration.id),
                                                               ("sampled", "=", True)])
            sampled.write({"state": "staged", "res_id": 0, "error_message": False, "sampled": False})
        else:
            # one UPDATE for all the migration's records (services/bulk.py)
            records = self.env["crm.migration.record"].search([("migration_id", "=", self.migration.id),
                                                               ("id", "not in", kept.record_id.ids)])
            bulk.set_record_states(self.env, records, {"state": "rolled_back", "res_id": 0})
        for link in schema_links:
            if link.res_id in kept_fields.ids and link.record_id:
                link.record_id.res_id = link.res_id
        for link in kept:
            kind, detail = kept_info[link.id]
            link.write({"kept": True, "kept_kind": kind, "kept_detail": detail})
        for link in schema_links:
            if link.res_id in (fields_ - kept_fields).ids:
                self._audit(link, "delete", before=link.values_after_json)
        if self.audit_vals:
            # multi-row INSERTs, before the links some rows are copied from go (services/bulk.py)
            bulk.insert_audit(self.env, self.audit_vals)
            self.audit_vals = []
        bulk.delete_links(self.env, links)  # one DELETE (services/bulk.py)
        self.migration.state = "mapped" if self.sample else "rolled_back"
        self._remove_fields(fields_ - kept_fields)

    def remove_unused_fields(self):
        """Remove the custom fields a rollback of this migration kept, once no record uses them
        and no other migration links them. Returns ``[{"model", "name"}]`` of removed fields."""
        records = self.env["crm.migration.record"].search([
            ("migration_id", "=", self.migration.id), ("model", "=", SCHEMA_MODEL),
            ("state", "=", "rolled_back"), ("res_id", "!=", 0),
        ])
        fields_ = self.env[SCHEMA_MODEL].sudo().browse(records.mapped("res_id")).exists()
        linked = set(self.Link.search([("model", "=", SCHEMA_MODEL), ("res_id", "in", fields_.ids)]).mapped("res_id"))
        removable = fields_.filtered(lambda f: f.id not in linked and not field_usage_count(self.env, f))
        removed = [{"model": f.model, "name": f.name} for f in removable]
        with self._registry_guard(bool(removable)), self.env.cr.savepoint():
            records.filtered(lambda r: r.res_id not in fields_.ids or r.res_id in removable.ids).res_id = 0
            self._remove_fields(removable)
        return removed

    def _remove_fields(self, fields_):
        """Unlink custom fields (as the calling user: needs the rights to change the data
        model), after the generated views stopped showing them."""
        if not fields_:
            return
        models = fields_.mapped("model")
        sync_migrated_fields_views(self.env, models, exclude=set(fields_.ids))
        try:
            guard.removable_fields(self.env, self.env[SCHEMA_MODEL].browse(fields_.ids)).unlink()
        except psycopg2.OperationalError:
            raise
        except Exception as exc:  # reported to the user, nothing undone
            raise UserError(self.env._(
                "Migration %(name)s: the custom fields %(fields)s could not be removed; nothing was undone: "
                "%(error)s", name=self.migration.display_name,
                fields=", ".join(f"{f.model}.{f.name}" for f in fields_), error=error_text(self.env, exc),
            )) from exc

    @contextmanager
    def _registry_guard(self, active):
        """When custom fields are removed inside a savepoint that is then rolled back, the
        registry has lost fields the database still has: set it up again from the database."""
        try:
            yield
        except Exception:
            if active:
                self.env.invalidate_all()
                setup_models(self.env.registry, self.env.cr)
            raise

    def _later_links(self, links):
        """Links of other migrations, made after ours, on records we created or updated."""
        ours = {(lk.model, lk.res_id): lk for lk in links if lk.action in ("created", "updated")}
        if not ours:
            return []
        by_model = {}
        for model_name, res_id in ours:
            by_model.setdefault(model_name, []).append(res_id)
        domain = expression.AND([
            [("migration_id", "!=", self.migration.id)],
            expression.OR([[("model", "=", m), ("res_id", "in", ids)] for m, ids in by_model.items()]),
        ])
        lines = []
        for other in self.Link.search(domain, order="id"):
            mine = ours[(other.model, other.res_id)]
            if other.id > mine.id:
                lines.append(self.env._(
                    "- %(model)s %(id)s (%(key)s): %(action)s by migration %(other)s",
                    model=other.model, id=other.res_id, key=mine.key, action=other.action,
                    other=other.migration_id.display_name,
                ))
        return lines

    def _reset_states(self, links):
        """Records the migration created in a workflow state other than the model's default (a
        confirmed sale order) go back to that default first: Odoo refuses to delete confirmed
        documents and their lines, and the state is the migration's own doing."""
        errors = []
        by_model = defaultdict(list)
        # which staged records set a state: asked of PostgreSQL (jsonb ``?``) instead of decoding the
        # values of every record the migration created (issue #11: 100,000 records)
        self.env["crm.migration.record"].flush_model(["values_json"])
        record_ids = [link.record_id.id for link in links if link.record_id]
        with_state = set()
        for start in range(0, len(record_ids), 50000):
            self.env.cr.execute("SELECT id FROM crm_migration_record WHERE id = ANY(%s) AND values_json ? 'state'",
                                [record_ids[start:start + 50000]])
            with_state.update(row[0] for row in self.env.cr.fetchall())
        for link in links:
            if link.record_id.id in with_state:
                by_model[link.model].append(link)
        for model_name, model_links in by_model.items():
            model = self.env[model_name].with_context(**QUIET_CONTEXT)
            field = model._fields.get("state")
            default = model.default_get(["state"]).get("state") if field else None
            if not default:
                continue
            records = model.browse([lk.res_id for lk in model_links]).exists()
            records = records.filtered(lambda r, d=default: r.state != d)
            if not records:
                continue
            old_state = {r.id: r.state for r in records}
            try:
                with self.env.cr.savepoint():
                    records.write({"state": default})
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the user
                errors.extend(self._describe(lk, model.browse(lk.res_id).display_name, exc) for lk in model_links)
                continue
            for link in model_links:
                if link.res_id in old_state:
                    self._audit(link, "state_reset", before={"state": old_state[link.res_id]},
                                after={"state": default})
        return errors

    def _describe(self, link, name, exc):
        return self.env._(
            "- %(model)s %(id)s %(name)r (key %(key)s): %(error)s",
            model=link.model, id=link.res_id, name=name, key=link.key,
            error=error_text(self.env, exc),
        )

    def _unlink(self, model_name, links):
        model = self.env[model_name]
        if model_name == MODEL_SCHEMA:  # custom models the migration made: checked, removed with sudo
            model = guard.removable_models(self.env, model.browse(links.mapped("res_id")).exists()).browse()
        records = model.browse(links.mapped("res_id")).exists()
        if not records:
            return []
        try:
            with self.env.cr.savepoint():
                self._unlink_in_pieces(records)
            deleted = set(records._ids)
            for link in links:
                if link.res_id in deleted:
                    # copied from the link by PostgreSQL (services/bulk.py, insert_audit)
                    self.audit_vals.append({"from_link": link.id, "action": "delete"})
            return []
        except psycopg2.OperationalError:
            raise
        except Exception:  # noqa: BLE001 - find out which records, one by one
            pass
        errors = []
        for link in links:
            record = model.browse(link.res_id).exists()
            if not record:
                continue
            name = record.display_name
            try:
                with self.env.cr.savepoint():
                    record.unlink()
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the user
                errors.append(self._describe(link, name, exc))
                continue
            self._audit(link, "delete", before=link.values_after_json)
        return errors

    def _unlink_in_pieces(self, records):
        """``unlink`` of at most ``UNLINK_PIECE`` records at a time, in the caller's savepoint (one
        transaction, all or nothing as before), the ORM cache emptied after each piece: one
        ``unlink`` of 620,000 partners held 6.4 GB in one Odoo worker (issue #11)."""
        ids = list(records._ids)
        for start in range(0, len(ids), UNLINK_PIECE):
            records.browse(ids[start:start + UNLINK_PIECE]).unlink()
            if start + UNLINK_PIECE < len(ids):
                self.env.invalidate_all()

    def _restore(self, model_name, links):
        model = self.env[model_name].with_context(**QUIET_CONTEXT)
        errors = []
        for link in links:
            record = model.browse(link.res_id).exists()
            if not record:
                continue
            vals = {}
            for fname, old in (link.values_before_json or {}).items():
                field = model._fields.get(fname)
                if not field:
                    continue
                if field.type in ("one2many", "many2many"):
                    vals[fname] = [Command.set(self.env[field.comodel_name].browse(old or []).exists().ids)]
                elif field.type == "many2one":
                    vals[fname] = self.env[field.comodel_name].browse(old).exists().id if old else False
                else:
                    vals[fname] = old
            if not vals:
                continue
            name = record.display_name
            current = {fname: json_value(record, fname) for fname in vals}
            try:
                with self.env.cr.savepoint():
                    record.write(vals)
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the user
                errors.append(self._describe(link, name, exc))
                continue
            self._audit(link, "restore", before=current,
                        after={fname: json_value(record, fname) for fname in vals})
        return errors
