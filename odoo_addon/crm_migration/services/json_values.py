"""JSON values of Odoo records: the current value of a field as a link or an audit row keeps it
(and a rollback writes it back), the JSON copy of create/write values, and which values count as
empty for "fill empty fields only"."""

from datetime import date, datetime

from odoo import fields
from odoo.fields import Command
from odoo.tools.mail import is_html_empty

# field types whose falsy value is a real value (0, False): never "empty", never filled
NEVER_EMPTY_TYPES = ("boolean", "integer", "float", "monetary")


def is_empty(field, value):
    """Whether an Odoo value counts as empty for "fill empty fields only"."""
    if field.type in NEVER_EMPTY_TYPES:
        return False
    if field.type == "html":
        return is_html_empty(value)
    return not value


def json_value(record, fname):
    """JSON-safe current value of ``record.fname`` (as written back by a rollback)."""
    field = record._fields[fname]
    value = record[fname]
    if field.type == "many2one":
        return value.id or False
    if field.type in ("one2many", "many2many"):
        return value.ids
    if isinstance(value, datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, date):
        return fields.Date.to_string(value)
    if value is None:
        return False
    return str(value) if field.type == "html" and value else value


def json_vals(vals):
    """JSON-safe copy of create/write values: x2many commands become the resulting ids
    (``Command.set``) or the added ids (``Command.link``)."""
    out = {}
    for fname, value in vals.items():
        if isinstance(value, list) and value and all(isinstance(c, (tuple, list)) for c in value):
            ids = []
            for command in value:
                if command[0] == Command.SET:
                    ids = list(command[2])
                elif command[0] == Command.LINK:
                    ids.append(command[1])
            value = ids
        out[fname] = value
    return out
