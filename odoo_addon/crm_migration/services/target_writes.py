"""Writes of a commit on the target records: existing records (linked by an earlier commit or
found by a match rule) get their empty fields filled, the others are created (one ``create`` per
model and batch, retried record by record in savepoints when it fails). Custom fields and custom
models the batch created are made usable at once (registry set up, access rule)."""

import logging
from collections import defaultdict

from odoo.fields import Command

from ..compat import setup_models
from . import guard, partner_sync, prefill
from .errors import savepoint_attempt
from .json_values import is_empty, json_vals, json_value
from .quiet_context import QUIET_CONTEXT
from .staging import MODEL_SCHEMA, SCHEMA_MODEL

_logger = logging.getLogger(__name__)


def update_existing(engine, items):
    """Linked or matched records, with their targets checked for existence and prefetched
    together (one ``exists`` per model instead of one per record)."""
    targets = defaultdict(set)
    for item in items:
        link = item.linked
        if link and link.migration_id == engine.migration:  # committed by this migration already
            item.finish("committed" if link.action == "created" else "matched", link.res_id)
            if item.model == SCHEMA_MODEL:
                engine.schema_field_ids.add(link.res_id)
        else:
            targets[item.model].add(link.res_id if link else item.match_id)
    existing = {
        model_name: engine.env[model_name].browse(sorted(ids)).exists()
        for model_name, ids in targets.items()
    }
    for item in items:
        if item.done:
            continue
        records = existing[item.model]
        if item.linked:
            update(engine, item, item.linked.res_id, fill=item.linked.hash != item.hash, existing=records)
        else:
            update(engine, item, item.match_id, existing=records)


def update(engine, item, res_id, fill=True, existing=None):
    """Fill the empty fields of an existing record (``fill``) and link it: ``updated`` when
    something was written (previous values kept for rollback), else ``matched``.
    ``existing``: the batch's existing target records of this model (prefetch group)."""
    _ = engine.env._
    model = engine.env[item.model].with_context(**QUIET_CONTEXT)
    if item.model in (SCHEMA_MODEL, MODEL_SCHEMA):
        fill = False  # an existing custom field or model is reused as it is, never changed
    if existing is None:
        target = model.browse(res_id).exists()
    elif res_id in existing._ids:
        target = model.browse(res_id).with_prefetch(existing._ids)
    else:
        target = model.browse()
    if not target:
        item.finish("failed", error=_(
            "%(model)s record %(id)s linked to this key no longer exists", model=item.model, id=res_id,
        ))
        return
    write, before = {}, {}
    for fname, value in item.values.items() if fill else ():
        field = model._fields[fname]
        if value in (None, False, "") or field.relational:
            continue
        if is_empty(field, target[fname]):
            write[fname] = value
            before[fname] = json_value(target, fname)
    for fname, value in item.rel.items() if fill else ():
        field = model._fields[fname]
        if field.type == "many2many":
            current = target[fname].ids
            added = [i for i in value if i not in current]
            if added:
                write[fname] = [Command.link(i) for i in added]
                before[fname] = current
        elif value and not target[fname]:
            write[fname] = value
            before[fname] = False
    if write:
        with savepoint_attempt(engine.env) as attempt:
            target.write(write)
        if attempt.failed:
            item.finish("failed", error=attempt.error)
            return
        engine._next_link(item, res_id, "updated", before, {f: json_value(target, f) for f in write})
    else:
        engine._next_link(item, res_id, "matched")
    item.finish("matched", res_id)
    if item.model == SCHEMA_MODEL:
        engine.schema_field_ids.add(res_id)


def create(engine, model_name, items):
    model = engine.env[model_name].with_context(**QUIET_CONTEXT)
    if model_name == SCHEMA_MODEL:  # checked, then created with sudo (services/guard.py)
        model = guard.schema_model(model, items, engine.migration)
    elif model_name == MODEL_SCHEMA:  # custom models: the same
        model = guard.model_schema_model(model, items, engine.migration)
    vals_list = [item.create_vals(model) for item in items]
    written = [json_vals(vals) for vals in vals_list]  # before create, which may alter the dicts
    # what Odoo computes per record from the same inputs, once per batch (services/prefill.py)
    prefill.batch_values(model, vals_list)
    with savepoint_attempt(engine.env) as batch:
        # res.partner: base's per-partner sync done per group, same values (services/partner_sync.py)
        records = partner_sync.create_partners(model, vals_list)
    if batch.failed:  # retried one by one
        _logger.info("crm_migration: batch create of %s %s failed (%s); retrying one by one",
                     len(items), model_name, batch.exception)
        if model_name in (SCHEMA_MODEL, MODEL_SCHEMA):
            reload_registry(engine)
        for item, after in zip(items, written, strict=True):
            with savepoint_attempt(engine.env) as attempt:
                record = model.create([item.create_vals(model)])
            if attempt.failed:  # Odoo's error goes to the record
                item.finish("failed", error=attempt.error)
                if model_name in (SCHEMA_MODEL, MODEL_SCHEMA):
                    reload_registry(engine)
                continue
            engine._next_link(item, record.id, "created", values_after=after)
            item.finish("committed", record.id)
    else:
        for item, record, after in zip(items, records, written, strict=True):
            engine._next_link(item, record.id, "created", values_after=after)
            item.finish("committed", record.id)
    if model_name == SCHEMA_MODEL:
        check_schema(engine, [item.res_id for item in items if item.state == "committed"])
    if model_name == MODEL_SCHEMA:
        grant_access(engine, [item.res_id for item in items if item.state == "committed"])


def grant_access(engine, model_ids):
    """A custom model the migration created is usable by internal users, as a model made in
    Odoo's own UI would be: one access rule (read, write, create, delete) for the group
    Internal User. It goes with the model when a rollback removes it."""
    group = engine.env.ref("base.group_user")
    engine.env["ir.model.access"].sudo().create([{
        "name": f"{model.model} (migrated custom object)",
        "model_id": model.id, "group_id": group.id,
        "perm_read": True, "perm_write": True, "perm_create": True, "perm_unlink": True,
    } for model in engine.env[MODEL_SCHEMA].sudo().browse(model_ids)])


def reload_registry(engine):
    """A create of custom fields that raised inside its savepoint may have set the registry
    up with fields the rollback of the savepoint removed again: set it up from the database."""
    engine.env.flush_all()
    setup_models(engine.env.registry, engine.env.cr)


def check_schema(engine, field_ids):
    """Custom fields created by this batch: the registry must know them before the records
    that use them are created (``ir.model.fields.create`` sets the models up again and
    adds the columns; this makes sure of it)."""
    fields_ = engine.env[SCHEMA_MODEL].sudo().browse(field_ids)
    engine.schema_field_ids.update(field_ids)
    missing = {f.model for f in fields_ if f.model in engine.env and f.name not in engine.env[f.model]._fields}
    if missing:
        registry = engine.env.registry
        engine.env.flush_all()
        setup_models(registry, engine.env.cr)
        registry.init_models(engine.env.cr, list(registry.descendants(missing, "_inherits")),
                             dict(engine.env.context, update_custom_fields=True))
