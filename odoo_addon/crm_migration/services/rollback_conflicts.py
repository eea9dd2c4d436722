"""What a rollback may not undo: the Odoo records edited after the migration wrote them, and the
records others refer to (``RollbackConflicts``, mixed into ``RollbackEngine`` in services/rollback.py).
A conflict is reported, never resolved silently: the admin chooses to stop, keep or undo them."""

from collections import defaultdict

from odoo import SUPERUSER_ID
from odoo.tools import html2plaintext

from . import guard
from .attached import referenced_conflicts
from .json_values import json_value
from .staging import SCHEMA_MODEL, ref_keys


class RollbackConflicts:
    """The conflict part of ``RollbackEngine``: ``conflicts()`` and the checks the rollback runs."""

    # ------------------------------------------------------------------ conflicts
    def conflicts(self):
        """``[{"key", "model", "res_id", "name", "kind", "detail"}]``; nothing is undone."""
        return [self._conflict_dict(c) for c in self._conflicts(self._links())]

    def _conflict_dict(self, conflict):
        link, kind, detail = conflict
        return {"key": link.key, "model": link.model, "res_id": link.res_id,
                "name": guard.display_name(self.env, link.model, link.res_id), "kind": kind, "detail": detail}

    def _conflict_line(self, conflict):
        c = self._conflict_dict(conflict)
        return self.env._("- %(model)s %(id)s %(name)r (key %(key)s): %(kind)s: %(detail)s",
                          model=c["model"], id=c["res_id"], name=c["name"], key=c["key"], kind=c["kind"],
                          detail=c["detail"])

    def _conflicts(self, links):
        """``[(link, kind, detail)]`` for the created/updated links of ``links`` (custom fields
        excepted: they have their own rule, see ``kept_fields``)."""
        links = links.filtered(lambda lk: lk.action in ("created", "updated") and lk.model != SCHEMA_MODEL
                               and lk.model in self.env)
        if not links:
            return []
        return self._edited(links) + self._referenced(links) + referenced_conflicts(self, links)

    def _edited(self, links):
        _ = self.env._
        result = []
        by_model = defaultdict(list)
        for link in links:
            by_model[link.model].append(link)
        for model_name, model_links in by_model.items():
            model = self.env[model_name].sudo().with_context(active_test=False)
            if not model._log_access:
                continue
            stamps = {row["id"]: row for row in model.search_read(
                [("id", "in", [lk.res_id for lk in model_links])], ["write_date", "write_uid"])}
            for link in model_links:
                row = stamps.get(link.res_id)
                written = link.written_at or link.create_date
                if not row or not row["write_date"] or row["write_date"] <= written:
                    continue
                by = row["write_uid"][1] if row["write_uid"] else "?"
                automated = bool(row["write_uid"]) and row["write_uid"][0] == SUPERUSER_ID
                if link.action == "created" and not (automated and link.values_after_json):
                    # a person's edit of a record the migration created is work to protect
                    result.append((link, "edited", _("changed on %(date)s by %(user)s",
                                                     date=row["write_date"], user=by)))
                    continue
                # an update of ours, or a created record that only Odoo itself wrote since (a
                # scheduled action such as lead enrichment): a conflict when it changed our values
                after = link.values_after_json
                if not after:  # committed before values_after_json existed: the date decides
                    result.append((link, "edited", _("changed on %(date)s by %(user)s",
                                                     date=row["write_date"], user=by)))
                    continue
                # current values: read with the user's rights, and only the fields a migration
                # writes; a field the user cannot read is compared without showing its values
                record = self.env[model_name].with_context(active_test=False).browse(link.res_id)
                readable, hidden = guard.readable_fields(record, list(after))
                if not record.has_access("read"):
                    readable, hidden = [], readable + hidden
                changed = []
                for fname in readable + hidden:
                    value = after[fname]
                    current = json_value(record if fname in readable else model.browse(link.res_id), fname)
                    if isinstance(value, list) and isinstance(current, list):
                        same = sorted(value) == sorted(current)
                    elif model._fields[fname].type == "html":  # Odoo wraps plain text in <p>
                        same = html2plaintext(current or "").strip() == html2plaintext(value or "").strip()
                    else:
                        same = (current or False) == (value or False)
                    if same:
                        continue
                    if fname in readable:
                        changed.append(f"{fname} ({value!r} -> {current!r})")
                    else:
                        changed.append(_("%(field)s (values not shown: not readable with your access rights)",
                                         field=fname))
                if changed:
                    result.append((link, "edited", _(
                        "fields the rollback would restore were changed since the migration wrote them "
                        "(on %(date)s by %(user)s): %(fields)s", date=row["write_date"], user=by,
                        fields=", ".join(changed))))
        return result

    @staticmethod
    def created_targets(links):
        """``{model: {res_id: link}}`` of the records these links created (what a conflict
        check looks at)."""
        targets = defaultdict(dict)
        for link in links:
            if link.action == "created":
                targets[link.model][link.res_id] = link
        return targets

    def _referenced(self, links):
        """Created records pointed to by records this migration neither created nor updated:
        one ``_read_group`` per stored many2one field pointing to a model of ours."""
        _ = self.env._
        created = defaultdict(set)  # model -> ids created by this migration (all its links)
        ours = defaultdict(set)  # model -> ids created or updated by this migration
        for link in self.Link.search_fetch([("migration_id", "=", self.migration.id),
                                            ("action", "in", ("created", "updated"))], ["model", "res_id", "action"]):
            ours[link.model].add(link.res_id)
            if link.action == "created":
                created[link.model].add(link.res_id)
        targets = self.created_targets(links)
        if not targets:
            return []
        hits = defaultdict(list)  # link -> ["3 crm.lead (partner_id)"]
        for row in self.env["ir.model.fields"].sudo().search_read(
            [("relation", "in", list(targets)), ("ttype", "=", "many2one"), ("store", "=", True)],
            ["model", "name", "relation"], order="model, name",
        ):
            model_name, fname, relation = row["model"], row["name"], row["relation"]
            if model_name.startswith("crm.migration") or model_name not in self.env:
                continue
            model = self.env[model_name]
            field = model._fields.get(fname)
            if (model._abstract or model._transient or not model._auto or model._table_query or not field
                    or not field.store or field.type != "many2one" or field.ondelete == "cascade"):
                continue
            domain = [(fname, "in", list(targets[relation]))]
            if ours.get(model_name):
                domain.append(("id", "not in", list(ours[model_name])))
            for other in model._fields.values():
                # parts (cascade) of a record the migration created go with it
                if (other.type == "many2one" and other.store and other.ondelete == "cascade"
                        and created.get(other.comodel_name)):
                    domain.append((other.name, "not in", list(created[other.comodel_name])))
            for target, count in model.sudo().with_context(active_test=False)._read_group(
                domain, [fname], ["__count"]
            ):
                link = targets[relation].get(target.id)
                if link:
                    hits[link].append(f"{count} {model_name} ({fname})")
        return [(link, "referenced", _("used by records the migration did not create: %(refs)s",
                                       refs=", ".join(refs)))
                for link, refs in hits.items()]

    def _kept_links(self, links, conflicts):
        """The conflicting links and, transitively, the links of the records of this migration
        their staged records refer to (refs, deps): a kept record keeps its parent company,
        tags... ``(links, {link id: (kind, detail)})``."""
        by_key = {link.key: link for link in links}
        info = {}
        todo = []
        for link, kind, detail in conflicts:
            if link.id not in info:
                info[link.id] = (kind, detail)
                todo.append(link)
        while todo:
            link = todo.pop()
            record = link.record_id
            if not record:
                continue
            keys = ref_keys(record.refs_json or {}) + list(record.deps_json or [])
            for key in keys:
                dep = by_key.get(key)
                if dep and dep.action == "created" and dep.id not in info:
                    info[dep.id] = ("dependency", self.env._("needed by kept record %(key)s", key=link.key))
                    todo.append(dep)
        return self.Link.browse(list(info)), info
