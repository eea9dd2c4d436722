"""Rollback engine: undo a commit from the migration's links (docs/staging-contract.md,
"Rollback semantics").

Links are walked in reverse ``sequence``: ``created`` records are unlinked (consecutive links of
one model in one ``unlink``, so children go before parents), ``updated`` records get their
``values_before_json`` back, ``matched`` records are left alone. Everything happens inside one
savepoint: if any record cannot be undone, nothing is undone and a UserError lists why.
"""

import itertools

import psycopg2

from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.osv import expression

from .commit import QUIET_CONTEXT, error_text


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
        with self.env.cr.savepoint():
            errors = []
            for (action, model_name), group in itertools.groupby(links, key=lambda l: (l.action, l.model)):
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
            self.migration.record_ids.write({"state": "rolled_back", "res_id": 0})
            links.unlink()
            self.migration.state = "rolled_back"

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
