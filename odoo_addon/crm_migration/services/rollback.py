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
"""

import itertools
from collections import defaultdict
from contextlib import contextmanager

import psycopg2

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.osv import expression

from .commit import QUIET_CONTEXT, error_text, field_usage_count, sync_migrated_fields_views
from .staging import SCHEMA_MODEL


class RollbackEngine:
    def __init__(self, migration):
        migration.ensure_one()
        self.migration = migration
        self.env = migration.env
        self.Link = self.env["crm.migration.link"]

    def run(self):
        _ = self.env._
        links = self.Link.search([("migration_id", "=", self.migration.id)], order="sequence desc, id desc")
        blocking = self._later_links(links)
        if blocking:
            raise UserError(_(
                "Migration %(name)s cannot be rolled back: later migrations use records it created or "
                "changed. Roll them back first:\n%(lines)s",
                name=self.migration.display_name, lines="\n".join(blocking),
            ))
        schema_links = links.filtered(lambda l: l.model == SCHEMA_MODEL and l.action == "created")
        with self._registry_guard(bool(schema_links)), self.env.cr.savepoint():
            errors = self._reset_states(links.filtered(lambda l: l.action == "created"))
            for (action, model_name), group in itertools.groupby(links - schema_links,
                                                                 key=lambda l: (l.action, l.model)):
                group = self.Link.concat(*group)
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
            # custom fields: removed when unused, else kept (their staged record keeps the id)
            fields_ = self.env[SCHEMA_MODEL].sudo().browse(schema_links.mapped("res_id")).exists()
            kept = fields_.filtered(lambda f: field_usage_count(self.env, f))
            self.migration.record_ids.write({"state": "rolled_back", "res_id": 0})
            for link in schema_links:
                if link.res_id in kept.ids and link.record_id:
                    link.record_id.res_id = link.res_id
            links.unlink()
            self.migration.state = "rolled_back"
            self._remove_fields(fields_ - kept)

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
            self.env[SCHEMA_MODEL].browse(fields_.ids).unlink()
        except psycopg2.OperationalError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the user, nothing undone
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
                self.env.registry.setup_models(self.env.cr)
            raise

    def _later_links(self, links):
        """Links of other migrations, made after ours, on records we created or updated."""
        ours = {(l.model, l.res_id): l for l in links if l.action in ("created", "updated")}
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
        for link in links:
            values = link.record_id.values_json or {}
            if "state" in values:
                by_model[link.model].append(link)
        for model_name, model_links in by_model.items():
            model = self.env[model_name].with_context(**QUIET_CONTEXT)
            field = model._fields.get("state")
            default = model.default_get(["state"]).get("state") if field else None
            if not default:
                continue
            records = model.browse([l.res_id for l in model_links]).exists().filtered(lambda r: r.state != default)
            if not records:
                continue
            try:
                with self.env.cr.savepoint():
                    records.write({"state": default})
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the user
                errors.extend(self._describe(l, model.browse(l.res_id).display_name, exc) for l in model_links)
        return errors

    def _describe(self, link, name, exc):
        return self.env._(
            "- %(model)s %(id)s %(name)r (key %(key)s): %(error)s",
            model=link.model, id=link.res_id, name=name, key=link.key,
            error=error_text(self.env, exc),
        )

    def _unlink(self, model_name, links):
        model = self.env[model_name]
        records = model.browse(links.mapped("res_id")).exists()
        if not records:
            return []
        try:
            with self.env.cr.savepoint():
                records.unlink()
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
        return errors

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
            try:
                with self.env.cr.savepoint():
                    record.write(vals)
            except psycopg2.OperationalError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the user
                errors.append(self._describe(link, name, exc))
        return errors
