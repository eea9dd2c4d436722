"""PostgreSQL's planner statistics kept up with a bulk load (issue #11).

A migration writes hundreds of thousands of rows into a few tables within minutes (its staged
records, its links, the partners and leads it creates). PostgreSQL plans each query from the
table's statistics, refreshed by autovacuum's ANALYZE a minute or more later, or never where
autovacuum is off. In between, the planner believes the table is small: measured on a migration
of a million records staged into a never-analyzed ``crm_migration_record``, the batch's
``key IN (…)`` lookup scanned every row of the migration (1.0 s per batch of 1,000 at 470,000 rows,
growing with the table) instead of probing the key index (25 ms after ANALYZE), and staging slowed
from ~600 to ~250 records/s.

:func:`refresh` compares what the statistics collector counts now (``n_live_tup``, kept whatever
autovacuum does) with what the planner last learnt (``pg_class.reltuples``) and runs ``ANALYZE`` on
the table when it has more than doubled (and holds at least ``floor`` rows), so a load of N rows
costs about log2(N) ANALYZEs of a sample each (~0.1–0.5 s). Raw SQL, because the ORM has no word
for planner statistics. Concurrent workers do not queue behind each other: the first takes a
transaction-scoped advisory lock for the table and the others go on without it.
"""
import logging
import zlib

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: below this many rows a table is planned well enough whatever its statistics say
FLOOR = 10_000


def needs_analyze(live, known, floor=FLOOR):
    """The rule: at least ``floor`` live rows, and more than twice what the planner last learnt
    (``known`` is -1 for a table never analyzed)."""
    return live >= floor and live > 2 * max(known, 0)


def refresh(env, models, floor=FLOOR):
    """ANALYZE the tables of ``models`` (names) that grew past twice what the planner knows of
    them. Returns the tables analyzed."""
    return refresh_tables(env.cr, sorted({env[m]._table for m in models}), floor)


def refresh_tables(cr, tables, floor=FLOOR):
    """:func:`refresh` for table names (the registry's, never staged text)."""
    if not tables:
        return []
    cr.execute(
        """SELECT s.relname, s.n_live_tup, c.reltuples
             FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
            WHERE s.schemaname = current_schema() AND s.relname IN %s""",
        [tuple(tables)],
    )
    done = []
    for table, live, known in cr.fetchall():
        if not needs_analyze(live, known, floor):
            continue
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [zlib.crc32(f"analyze:{table}".encode())])
        if not cr.fetchone()[0]:
            continue  # another worker is analyzing it in this moment
        cr.execute(SQL("ANALYZE %s", SQL.identifier(table)))
        _logger.info("planner statistics of %s refreshed: %s live rows, the planner knew %s", table, live, int(known))
        done.append(table)
    return sorted(done)
