"""Key claims: the database-level guarantee that two commits never create the same key twice
(issue #12, "Data" 6; docs/staging-contract.md, "Concurrent commits").

"The same key" is the staged record's ``key`` as it is: ``<source>:<object>:<source id>``, i.e. the
same source system, the same object and the same source id, whatever migration stages it (the
contract already says all active links of a key point to one Odoo record).

Before a commit batch creates records, it claims their keys in ``crm_migration_key_claim`` (primary
key ``key``) in the same transaction: ``INSERT ... ON CONFLICT (key) DO UPDATE``. Two transactions
claiming one key serialise on that row: the second waits until the first ends; if the first
committed, the second (Odoo runs at REPEATABLE READ) fails with a serialization failure, which
Odoo's RPC layer and the commit job retry from the start in a new transaction, where the first
commit's links are visible: the key is then linked (``matched``/``updated``), never created again.
A claim left by a migration that was rolled back since is simply taken over (the row is visible
and not locked). Claims are bookkeeping only: the links stay the truth of who owns a key.
"""

from odoo.tools import SQL

CLAIM_TABLE = "crm_migration_key_claim"


def ensure_claim_table(cr):
    """Created by ``crm.migration.link``'s ``init`` (no ORM model: nobody reads or writes it
    through the ORM, so no access rights are needed)."""
    cr.execute(SQL(
        """CREATE TABLE IF NOT EXISTS %s (
               key varchar PRIMARY KEY,
               migration_id integer NOT NULL,
               claimed_at timestamp without time zone NOT NULL DEFAULT (now() at time zone 'UTC')
           )""", SQL.identifier(CLAIM_TABLE)))


def claim_keys(env, migration_id, keys):
    """Claim ``keys`` for ``migration_id`` before creating their records (sorted: two commits
    claiming overlapping keys lock them in the same order, so they cannot deadlock)."""
    keys = sorted(set(keys))
    if not keys:
        return
    env.cr.execute(SQL(
        """INSERT INTO %s (key, migration_id, claimed_at)
           SELECT k, %s, now() at time zone 'UTC' FROM unnest(%s::varchar[]) AS k
           ON CONFLICT (key) DO UPDATE SET migration_id = EXCLUDED.migration_id,
                                           claimed_at = EXCLUDED.claimed_at""",
        SQL.identifier(CLAIM_TABLE), migration_id, keys))
