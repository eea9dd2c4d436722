"""What a version of Odoo changed in its standard models, folded into each staged record at
staging so that the record keeps every value on every version. Each fold adds a warning issue to
the staged record, so the review list says what happened; where the version needs none (17, 18),
nothing changes.

- Removed fields. Odoo 19 removed ``mobile`` from ``res.partner`` and ``crm.lead`` (one ``phone``
  per contact): a mobile number goes into ``phone`` when the record has none, and otherwise, being
  a second number, into the record's notes (``comment``, ``description``) as a line ``Mobile: …``.
- Contact addresses. On Odoo 19 an individual contact of type ``contact`` under a company has the
  company's address, both ways: creating it under a company with an address replaces its own, and
  its own address is written up to the company and from there to every other contact of the
  company. A source contact with an address of its own under a company is therefore staged as an
  ``other`` address of the company (type ``other``, which 19 never syncs), unless its record sets
  another type than ``contact`` itself. Odoo's rule that the first contact of a company without an
  address gives it that address then does not apply to it (README, "Odoo versions").
"""

from markupsafe import escape

from ..compat import ODOO_VERSION

# (model, removed field) -> (field that takes the value, notes field for a second value)
REMOVED_FIELDS = {
    ("res.partner", "mobile"): ("phone", "comment"),
    ("crm.lead", "mobile"): ("phone", "description"),
}


def fold_version_changes(env, model, record, values):
    """``values`` of the staged ``record`` of ``model`` with this version's folds applied, and the
    warning issues that say so (``values`` itself is not changed)."""
    values, issues = fold_removed_fields(env, model, values)
    values, address_issues = keep_own_address(env, model, record, values)
    return values, issues + address_issues


def keep_own_address(env, model, record, values):
    """19: a contact with an address of its own under a company becomes an ``other`` address."""
    if ODOO_VERSION < 19 or model._name != "res.partner" or "type" not in model._fields \
            or values.get("type", "contact") != "contact" or values.get("is_company"):
        return values, []
    refs, lookups = record.get("refs") or {}, record.get("lookups") or {}
    if not (refs.get("parent_id") or lookups.get("parent_id")):
        return values, []
    # the fields Odoo itself syncs between a company and its contacts
    address_fields = model._address_fields()
    if not any(values.get(f) for f in address_fields) and not any(f in refs or f in lookups for f in address_fields):
        return values, []
    message = env._("This Odoo gives a company's contacts the company's address: this contact keeps its own "
                    "address as an address of type 'Other' of its company.")
    return dict(values, type="other"), [{"level": "warning", "field": "type", "message": str(message)}]


def fold_removed_fields(env, model, values):
    """``values`` of a staged record of ``model``, with the removed fields folded in, and the
    warning issues that say so. ``values`` is not changed; a new dict is returned."""
    issues = []
    for (model_name, fname), (into, notes) in REMOVED_FIELDS.items():
        if model._name != model_name or fname not in values or fname in model._fields:
            continue
        values = dict(values)
        value = values.pop(fname)
        if value in (None, False, ""):
            continue
        label = model._fields[into].string if into in model._fields else into
        current = values.get(into)
        if not current:
            values[into] = value
            where = label
        elif current == value:
            where = None
        else:
            # an HTML paragraph after what the notes hold (the notes fields are HTML)
            values[notes] = "%s<p>%s</p>" % (values.get(notes) or "", escape("%s: %s" % (fname.capitalize(), value)))
            where = model._fields[notes].string if notes in model._fields else notes
        if where:
            message = env._("This Odoo has no field %(field)r on %(model)s: its value %(value)s went into %(into)s.",
                            field=fname, model=model_name, value=value, into=where)
        else:
            message = env._("This Odoo has no field %(field)r on %(model)s: its value equals %(into)s.",
                            field=fname, model=model_name, into=label)
        issues.append({"level": "warning", "field": fname, "message": str(message)})
    return values, issues
