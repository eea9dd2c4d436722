"""Reading a whole migration's staged records in pages (issue #11).

A million staged records read in one ``search_fetch`` hold every decoded JSON value in the ORM
cache at once (8 GB in one Odoo process, the first million run). ``pages`` reads them by id
ranges (keyset pagination: ``id > last``, ``order id``, ``limit``) and drops the fields it read
from the cache after each page, so what a caller keeps is only what it takes out of each page.
"""

from odoo.osv import expression

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
