"""Errors of Odoo writes as text for the user, and the one savepoint helper that turns an
error of one write into that text (instead of a ``try``/``except`` copied around every write).

Everything runs as the calling user: what Odoo refuses (access, constraints, a SQL constraint)
is reported on the staged record or to the user, never swallowed. A ``psycopg2.OperationalError``
(serialization failure, deadlock, lost connection) is never caught: the whole transaction is
retried or fails.
"""

from contextlib import contextmanager

import psycopg2

from ..compat import as_validation_error as _as_validation_error  # 17/18/19: see compat


def error_text(env, exc):
    """Odoo's own message for an exception raised while creating/writing/unlinking."""
    if isinstance(exc, psycopg2.IntegrityError) and _as_validation_error:
        try:
            exc = _as_validation_error(env, exc)
        except Exception:  # noqa: BLE001 - keep the raw error below
            pass
    if isinstance(exc, psycopg2.Error):
        text = exc.pgerror or str(exc)
    else:
        # UserError, ValidationError, RedirectWarning, ValueError...: the message is the first arg
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return text.strip() or type(exc).__name__


class Attempt:
    """Outcome of a block run by ``savepoint_attempt``: ``failed``, the exception and its text."""

    exception = None
    error = None

    @property
    def failed(self):
        return self.exception is not None


@contextmanager
def savepoint_attempt(env):
    """Run the block in a savepoint; an error it raises (other than an ``OperationalError``)
    rolls the savepoint back and is kept, with Odoo's text (``error_text``), on the yielded
    ``Attempt`` instead of propagating::

        with savepoint_attempt(env) as attempt:
            record.write(vals)
        if attempt.failed:
            errors.append(attempt.error)
    """
    attempt = Attempt()
    try:
        with env.cr.savepoint():
            yield attempt
    except psycopg2.OperationalError:
        raise
    except Exception as exc:  # noqa: BLE001 - Odoo's error goes to the caller, as text
        attempt.exception = exc
        attempt.error = error_text(env, exc)
