"""Reading a whole migration's staged records in pages, and their columns as plain rows (issue #11).

A million staged records read in one ``search_fetch`` hold every decoded JSON value in the ORM
cache at once (8 GB in one Odoo process, the first million run). ``pages`` reads them by id
ranges (keyset pagination: ``id > last``, ``order id``, ``limit``) and drops the fields it read
from the cache after each page, so what a caller keeps is only what it takes out of each page.

``rows`` reads stored text and JSON columns of given records with one SELECT, the answer one
JSON document decoded once, where the ORM deep-copies a JSON field's value on every read
(``fields.Json``: about 7% of a partner commit in a profile) and psycopg2 decodes each cell on
its own. The records are found through the ORM first (``search``),
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


def rows(model, ids, fnames, exprs=None):
    """``{id: {"id", *fnames, *exprs}}`` of ``model``'s records ``ids``: stored text and JSON
    columns as PostgreSQL holds them (a JSON column: its decoded value, ``None`` when empty).
    PostgreSQL builds the whole answer as one JSON document (``json_agg``) that Python decodes
    once: a JSON cell decoded on its own is a ``json.loads`` call per cell, most of a commit
    plan's time (issue #11: about ten calls per staged record). ``exprs`` maps more names to
    ``SQL`` expressions over the table's row (the registry's column names only, never staged
    text), for a caller that needs part of a large JSON column. Other column types would come as
    JSON gives them (a date as text): not for those."""
    if not ids:
        return {}
    exprs = exprs or {}
    model.flush_model()  # the expressions may read any column
    names = ["id", *fnames, *exprs]
    columns = [SQL.identifier(f) for f in ["id", *fnames]] + list(exprs.values())
    model.env.cr.execute(SQL(
        "SELECT json_agg(json_build_array(%s)) FROM %s WHERE id = ANY(%s)",
        SQL(", ").join(columns), SQL.identifier(model._table), list(ids),
    ))
    found = model.env.cr.fetchone()[0] or []
    return {row[0]: dict(zip(names, row, strict=True)) for row in found}


def row_pages(model, domain, fnames, size=None, exprs=None):
    """``pages`` as lists of rows (``rows``, with ``exprs`` if given), in id order."""
    for page in pages(model, domain, [], size):
        found = rows(model, page._ids, fnames, exprs)
        yield [found[i] for i in page._ids if i in found]
