"""Translate psycopg errors into domain errors without leaking internals.

Only PostgreSQL's primary message reaches the client (never DETAIL/CONTEXT, connection strings
or Python tracebacks): for a read-only role under RLS it describes the caller's own SQL.
"""

from __future__ import annotations

import psycopg
from psycopg import errors as pg
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


def is_connection_error(error: BaseException) -> bool:
    """True if the connection failed, not the statement: safe to run it again elsewhere. The
    pool's own errors (no free connection, pool closed) are not: waiting again would double the
    bounded wait the caller was promised."""
    if not isinstance(error, psycopg.OperationalError) or isinstance(error, _POOL_ERRORS):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_SQLSTATES


def translate(error: BaseException, *, timeout_s: float) -> ZavaError:
    if isinstance(error, PoolTimeout | TooManyRequests):
        return ServiceUnavailableError("the server is busy: no database connection became free;"
                                       " retry in a moment")
    if isinstance(error, pg.QueryCanceled):
        return QueryTimeoutError(
            f"the query ran longer than the {timeout_s:g} s limit and was cancelled;"
            " filter by date or store, aggregate, or add LIMIT"
        )
    if is_connection_error(error):
        return ServiceUnavailableError("the database is unreachable; retry in a moment")
    message = _primary_message(error)
    if isinstance(error, pg.InsufficientPrivilege):
        return AuthorizationError(f"not permitted: {message}")
    if isinstance(error, psycopg.Error) and error.sqlstate and error.sqlstate[:2] in {
        "42", "22", "21", "0A", "2F", "39", "44", "54",
    }:
        # syntax errors, undefined objects, bad casts, cardinality, not supported, limits
        return ValidationError(f"PostgreSQL rejected the query: {message}")
    if isinstance(error, pg.ReadOnlySqlTransaction):
        return AuthorizationError(f"not permitted: {message}")
    return DatabaseError(f"the database could not run the query: {message}")


def _primary_message(error: BaseException) -> str:
    if isinstance(error, psycopg.Error) and error.diag.message_primary:
        return error.diag.message_primary
    return type(error).__name__
