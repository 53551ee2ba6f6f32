"""Translate psycopg errors into domain errors without leaking internals.

One domain error per SQLSTATE class (the code's first two characters), as psycopg has one
exception class per SQLSTATE: a table, not a chain of special cases, so every error the
database can raise has one answer. A few single states refine their class (a cancelled
statement is our timeout, a lost privilege is not a bad query).

Only PostgreSQL's primary message reaches the client (never DETAIL/CONTEXT, connection strings
or Python tracebacks): for a read-only role under RLS it describes the caller's own SQL.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
from psycopg_pool import PoolClosed, PoolTimeout, TooManyRequests

from domain.errors import (
    AuthorizationError,
    DatabaseError,
    QueryTimeoutError,
    ServiceUnavailableError,
    ValidationError,
    ZavaError,
)

# SQLSTATEs of a connection that failed or was shut down under a statement: class 08
# (connection exception) and 57P01..57P03 (admin/crash shutdown, cannot connect now). Never
# 57014 (query_canceled: our own statement timeout) or anything the database rejected.
_CONNECTION_SQLSTATES = ("57P01", "57P02", "57P03")
_POOL_ERRORS = (PoolTimeout, PoolClosed, TooManyRequests)

UNREACHABLE = "the database is unreachable"
BUSY = "the server is busy: no database connection became free"

Translation = Callable[[str, float], ZavaError]


def is_connection_error(error: BaseException) -> bool:
    """True if the connection failed, not the statement: safe to run it again elsewhere. The
    pool's own errors (no free connection, pool closed) are not: waiting again would double the
    bounded wait the caller was promised."""
    if not isinstance(error, psycopg.OperationalError) or isinstance(error, _POOL_ERRORS):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_SQLSTATES


def _unavailable(message: str, _: float) -> ZavaError:
    return ServiceUnavailableError(f"{UNREACHABLE} ({message})", retry_after_s=2)


def _resources(message: str, _: float) -> ZavaError:
    return ServiceUnavailableError(f"the database is out of resources ({message})",
                                   retry_after_s=2)


def _conflict(message: str, _: float) -> ZavaError:
    return ServiceUnavailableError(f"the database rolled the query back ({message})",
                                   retry_after_s=1)


def _rejected(message: str, _: float) -> ZavaError:
    return ValidationError(f"PostgreSQL rejected the query: {message}")


def _forbidden(message: str, _: float) -> ZavaError:
    return AuthorizationError(f"not permitted: {message}")


def _failed(message: str, _: float) -> ZavaError:
    return DatabaseError(f"the database could not run the query: {message}")


def _timed_out(_: str, timeout_s: float) -> ZavaError:
    return QueryTimeoutError(
        f"the query ran longer than the {timeout_s:g} s limit and was cancelled;"
        " filter by date or store, aggregate, or add LIMIT"
    )


def _too_much_temp_disk(message: str, _: float) -> ZavaError:
    # not "out of resources, retry": the same query fails the same way every time
    return DatabaseError(
        f"the query needs more temporary disk than one query may use ({message});"
        " filter by date or store, aggregate, or add LIMIT"
    )


def _lock_wait(message: str, _: float) -> ZavaError:
    return ServiceUnavailableError(f"the database is busy ({message})", retry_after_s=1)


# https://www.postgresql.org/docs/current/errcodes-appendix.html
BY_CLASS: dict[str, Translation] = {
    "08": _unavailable,  # connection exception
    "53": _resources,  # insufficient resources (too many connections, disk full, memory)
    "57": _unavailable,  # operator intervention (shutdown, crash; 57014 below)
    "58": _failed,  # system error (I/O)
    "40": _conflict,  # transaction rollback (serialization failure, deadlock)
    "42": _rejected,  # syntax error or access rule violation (42501 below)
    "22": _rejected,  # data exception (bad cast, division by zero, ...)
    "21": _rejected,  # cardinality violation
    "0A": _rejected,  # feature not supported
    "2F": _rejected,  # SQL routine exception
    "39": _rejected,  # external routine invocation exception
    "44": _rejected,  # WITH CHECK OPTION violation
    "54": _rejected,  # program limit exceeded (too many columns, statement too complex)
    "25": _failed,  # invalid transaction state (25006 below)
    "55": _failed,  # object not in prerequisite state (55P03 below)
    "XX": _failed,  # internal error
}
BY_STATE: dict[str, Translation] = {
    "57014": _timed_out,  # query_canceled: our statement timeout
    "53400": _too_much_temp_disk,  # configuration_limit_exceeded: temp_file_limit (sql/061)
    "57P04": _failed,  # database_dropped
    "42501": _forbidden,  # insufficient_privilege
    "25006": _forbidden,  # read_only_sql_transaction: a write attempt
    "55P03": _lock_wait,  # lock_not_available: lock_timeout
}


def translate(error: BaseException, *, timeout_s: float) -> ZavaError:
    """The domain error for anything a database operation raised."""
    if isinstance(error, ZavaError):
        return error
    if isinstance(error, PoolTimeout | TooManyRequests):
        return ServiceUnavailableError(BUSY, retry_after_s=1)
    if isinstance(error, PoolClosed):
        return ServiceUnavailableError("the server is shutting down", retry_after_s=2)
    message = _primary_message(error)
    state = error.sqlstate if isinstance(error, psycopg.Error) else None
    if state is None:
        if is_connection_error(error):  # lost without a word from the server
            return _unavailable("connection lost", timeout_s)
        return _failed(message, timeout_s)
    rule = BY_STATE.get(state) or BY_CLASS.get(state[:2], _failed)
    return rule(message, timeout_s)


def _primary_message(error: BaseException) -> str:
    if isinstance(error, psycopg.Error) and error.diag.message_primary:
        return error.diag.message_primary
    return type(error).__name__
