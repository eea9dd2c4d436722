"""Running the chunks of a commit plan in their own transactions (issue #11).

``run_chunk`` commits one chunk of the plan (services/plan.py) in the current transaction, and
tries again when PostgreSQL refuses it because of a concurrent transaction (serialization
failure, deadlock, lock timeout, or a unique row another chunk inserted first: an owner to
reconcile, the "Imported from" author): the chunk's work is undone (savepoint, then the whole
transaction when the caller allows it, for a fresh snapshot) and done again, so a chunk is
committed exactly once or not at all. After ``attempts`` tries the error goes up: the chunk's
records keep their state (staged, ...), and committing again continues with them.

Who runs the chunks: the bridge over RPC (``api_commit_chunk``, N at a time on Odoo's HTTP
workers), OCA ``queue_job`` (addon ``crm_migration_queue``: one job per chunk), or the serial
commit (``CommitEngine.run``, all chunks in one process).
"""

import logging
import random
import time

import psycopg2
from psycopg2 import errors

from .commit import CommitEngine

_logger = logging.getLogger(__name__)

RETRY_ERRORS = (errors.SerializationFailure, errors.DeadlockDetected, errors.LockNotAvailable, errors.UniqueViolation)
ATTEMPTS = 5


def is_retryable(exc):
    return isinstance(exc, RETRY_ERRORS)


def run_chunk(migration, chunk, batch_size, attempts=ATTEMPTS, may_rollback=True, on_retry=None):
    """Commit ``chunk`` of ``migration``'s plan; ``{"done": records, "attempts": tries}``.
    ``may_rollback``: roll the whole transaction back between tries (not in tests, whose
    transaction is the test's). ``on_retry(exc, attempt)``: called before each new try."""
    env = migration.env
    cr = env.cr
    attempt = 0
    while True:
        attempt += 1
        try:
            with cr.savepoint():
                done = CommitEngine(migration, batch_size=batch_size).commit_chunk(chunk)
            return {"done": done, "attempts": attempt}
        except psycopg2.Error as exc:
            if not is_retryable(exc) or attempt >= attempts:
                raise
            _logger.info("crm_migration: chunk of %s records of migration %s refused by a concurrent "
                         "transaction (%s); try %s of %s", len(chunk["ids"]), migration.id, type(exc).__name__,
                         attempt + 1, attempts)
            if may_rollback:
                cr.rollback()
            env.invalidate_all()
            if on_retry:
                on_retry(exc, attempt)
            time.sleep(random.uniform(0.05, 0.25) * attempt)
