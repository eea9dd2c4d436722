"""Reading a whole migration's staged records in pages, and their columns as plain rows (issue #11).

A million staged records read in one ``search_fetch`` hold every decoded JSON value in the ORM
cache at once (8 GB in one Odoo process, the first million run). ``pages`` reads them by id
ranges (keyset pagination: ``id > last``, ``order id``, ``limit``) and drops the fields it read
from the cache after each page, so what a caller keeps is only what it takes out of each page.

``rows`` reads stored columns of given records with one SELECT: JSON comes decoded once by
psycopg2, where the ORM deep-copies a JSON field's value on every read (``fields.Json``), about
7% of a partner commit in a profile. The records are found through the ORM first (``search``),
so only records the caller may see are read.
"""

from odoo.osv import expression
from odoo.tools import SQL

PAGE_SIZE = 10_000


def pages(model, domain, fnames, size=None):
    """Yield recordsets of ``model`` matching ``domain`` (ordered by id, at most ``size`` each)
    with ``fnames`` fetched; the cache of those fields is emptied once the caller is done with a
    page (do not keep the records: keep what you read from them)."""
    size = size or PAGE_SIZE
    last = 0
    while True:
        page = model.search_fetch(expression.AND([domain, [("id", ">", last)]]), fnames, order="id", limit=size)
        if not page:
            return
        last = page[-1].id
        yield page
        model.invalidate_model(fnames)
        if len(page) < size:
            return


def rows(model, ids, fnames):
    """``{id: {"id", *fnames}}`` of ``model``'s records ``ids`` (stored fields only), as PostgreSQL
    holds them (a JSON column: its decoded value, ``None`` when empty)."""
    if not ids:
        return {}
    model.flush_model(fnames)
    model.env.cr.execute(SQL(
        "SELECT id, %s FROM %s WHERE id = ANY(%s)",
        SQL(", ").join(SQL.identifier(f) for f in fnames), SQL.identifier(model._table), list(ids),
    ))
    names = ["id", *fnames]
    return {row[0]: dict(zip(names, row, strict=True)) for row in model.env.cr.fetchall()}


def row_pages(model, domain, fnames, size=None):
    """``pages`` as lists of rows (``rows``), in id order."""
    for page in pages(model, domain, [], size):
        found = rows(model, page._ids, fnames)
        yield [found[i] for i in page._ids if i in found]
