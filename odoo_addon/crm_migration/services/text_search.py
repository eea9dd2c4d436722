"""Text search and comparison forms of values, for match rules, lookups and the profile.

Case-insensitive text comparisons are one ``lower(column) IN (...)`` condition per field added
to the ORM's own query (access rules and ``active`` filtering included) instead of an OR of one
``=ilike`` per value, which PostgreSQL can only evaluate as rows x values pattern matches.
"""

from datetime import date, datetime

from odoo import fields
from odoo.tools import SQL

# field types compared as text
TEXT_TYPES = ("char", "text", "html", "selection")


def search_text_rows(model, conditions, fnames):
    """``search_read`` of ``fnames`` on the records of ``model`` where, for each
    ``(fname, values, case_insensitive)`` of ``conditions``, the field's value is one of
    ``values`` (text compared case-insensitively when ``case_insensitive``). Same rows as an
    ``=ilike`` per value (``lower(a) = lower(b)``), but one hashed ``IN`` per field instead of
    rows x values pattern matches. Access rules and ``active`` filtering apply as for any search.
    """
    domain = [(fname, "in", list(values)) for fname, values, ci in conditions if not ci]
    query = model._search(domain)
    if query.is_empty():
        return []
    for fname, values, ci in conditions:
        if ci:
            query.add_where(SQL(
                "lower(%s) IN (SELECT lower(v) FROM unnest(%s::text[]) AS v)",
                model._field_to_sql(query.table, fname, query), list(values),
            ))
    return model.search_read([("id", "in", query)], fnames)


def compare_value(fname, value):
    """Comparison form of a value for match rules and lookups (a many2one value read by
    ``search_read``, ``(id, name)``, compares on its id)."""
    if isinstance(value, tuple):
        return value[0]
    if isinstance(value, datetime):
        return fields.Datetime.to_string(value)
    if isinstance(value, date):
        return fields.Date.to_string(value)
    if isinstance(value, str):
        value = value.strip()
        if "email" in fname:
            return value.lower()
    return value


def lookup_key(value):
    """Lookups compare text case-insensitively (country codes, logins, emails)."""
    if isinstance(value, str):
        return value.strip().lower()
    return compare_value("", value)


def owner_value(value):
    """Normalised value of a row of the owners queue (crm.migration.owner.value)."""
    return str(value).strip().lower()
