"""Custom fields (manual ``x_`` ir.model.fields) that migrations create: how many records use
one, which ones a migration points to, and the generated "Migrated fields" form view that shows
them on their model.

Both are bookkeeping of custom fields and run with sudo: the count covers all records, whatever
the user may read, and the generated view is not the user's to manage.
"""

from collections import defaultdict

from .staging import SCHEMA_MODEL

# generated inherited form view showing the custom fields migrations created on a model
MIGRATED_FIELDS_VIEW_MODULE = "__crm_migration__"
MIGRATED_FIELDS_PAGE = "crm_migration_migrated_fields"


def field_usage_count(env, field):
    """How many records of the field's model (archived ones included, whatever the user's
    record rules) have a value in the custom field ``field`` (an ir.model.fields record): one
    ``search_count``."""
    if field.model not in env or field.name not in env[field.model]._fields:
        return 0
    model = env[field.model].sudo().with_context(active_test=False)
    domain = [(field.name, "=", True)] if field.ttype == "boolean" else [(field.name, "!=", False)]
    return model.search_count(domain)


def migrated_fields(env, model_names):
    """Custom fields (manual ``x_`` ir.model.fields) on ``model_names`` that migrations point to:
    through their links, or kept by a rollback (rolled-back schema record still holding the
    field's id). ``{model: ir.model.fields}``."""
    ids = set(env["crm.migration.link"].sudo().search([("model", "=", SCHEMA_MODEL)]).mapped("res_id"))
    ids.update(env["crm.migration.record"].sudo().search(
        [("model", "=", SCHEMA_MODEL), ("state", "=", "rolled_back"), ("res_id", "!=", 0)]
    ).mapped("res_id"))
    result = defaultdict(lambda: env["ir.model.fields"].sudo())
    if ids:
        for field in env["ir.model.fields"].sudo().search(
            [("id", "in", list(ids)), ("model", "in", list(model_names)), ("state", "=", "manual")], order="id"
        ):
            if field.name.startswith("x_"):
                result[field.model] |= field
    return result


def _migrated_fields_xmlid(model_name):
    return "migrated_fields_" + model_name.replace(".", "_")


def migrated_fields_view(env, model_name):
    """The generated "Migrated fields" view of a model, or an empty recordset."""
    data = env["ir.model.data"].sudo().search([
        ("module", "=", MIGRATED_FIELDS_VIEW_MODULE), ("name", "=", _migrated_fields_xmlid(model_name)),
        ("model", "=", "ir.ui.view"),
    ], limit=1)
    return env["ir.ui.view"].sudo().browse(data.res_id).exists()


def _migrated_fields_arch(parent, field_names):
    """Arch of the inherited view: a "Migrated fields" page in the form's notebook, or a group
    at the end of the sheet (the form) when it has no notebook."""
    combined = parent._get_combined_arch()
    fields_xml = "".join(f'<field name="{name}"/>' for name in field_names)
    group = f'<group name="{MIGRATED_FIELDS_PAGE}_group">{fields_xml}</group>'
    for expr in ("/form/sheet/notebook", "/form/notebook"):
        if combined.xpath(expr):
            return (f'<data><xpath expr="{expr}" position="inside">'
                    f'<page string="Migrated fields" name="{MIGRATED_FIELDS_PAGE}">{group}</page>'
                    f'</xpath></data>')
    expr = "/form/sheet" if combined.xpath("/form/sheet") else "/form"
    return (f'<data><xpath expr="{expr}" position="inside">'
            f'<group string="Migrated fields" name="{MIGRATED_FIELDS_PAGE}">{group}</group>'
            f'</xpath></data>')


def sync_migrated_fields_views(env, model_names, exclude=()):
    """Make sure each model of ``model_names`` has exactly one generated form view listing the
    custom fields migrations created there (``migrated_fields``, minus the ir.model.fields ids
    in ``exclude``, about to be removed); no such field left -> the view is removed. The view is
    recorded by the XML id ``__crm_migration__.migrated_fields_<model>`` (not a module of the
    database: never touched by module updates)."""
    View = env["ir.ui.view"].sudo()
    by_model = migrated_fields(env, model_names)
    for model_name in sorted(set(model_names)):
        names = [f.name for f in by_model[model_name] if f.id not in exclude]
        view = migrated_fields_view(env, model_name)
        if not names or model_name not in env:
            view.unlink()  # its ir.model.data row goes with it
            continue
        parent = View.browse(View.default_view(model_name, "form"))
        if not parent:
            continue
        arch = _migrated_fields_arch(parent, names)
        if view:
            if view.arch_db != arch or view.inherit_id != parent or not view.active:
                view.write({"arch_db": arch, "inherit_id": parent.id, "mode": "extension", "active": True})
        else:
            view = View.create({
                "name": f"crm_migration.{model_name}.migrated_fields",
                "model": model_name,
                "type": "form",
                "inherit_id": parent.id,
                "mode": "extension",
                "priority": 99,
                "arch": arch,
            })
            env["ir.model.data"].sudo().create({
                "module": MIGRATED_FIELDS_VIEW_MODULE,
                "name": _migrated_fields_xmlid(model_name),
                "model": "ir.ui.view",
                "res_id": view.id,
                "noupdate": True,
            })
