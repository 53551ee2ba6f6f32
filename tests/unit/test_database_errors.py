"""Every database error has one answer, chosen by its SQLSTATE class (a few states refine it),
and none leaks more than PostgreSQL's primary message."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors as pg
from psycopg_pool import PoolClosed, PoolTimeout, TooManyRequests

from adapters.postgres.errors import translate
from domain.errors import (
    AuthorizationError,
    DatabaseError,
    QueryTimeoutError,
    ServiceUnavailableError,
    ValidationError,
)


def raised(sqlstate: str) -> psycopg.Error:
    """The exception psycopg raises for `sqlstate` (its class for that state)."""
    return pg.lookup(sqlstate)("boom")


@pytest.mark.parametrize(("sqlstate", "expected", "code"), [
    ("08006", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # connection failure
    ("57P01", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # admin shutdown
    ("57P03", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # cannot connect now
    ("53300", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # too many connections
    ("40001", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # serialization failure
    ("55P03", ServiceUnavailableError, "SERVICE_UNAVAILABLE"),  # lock timeout
    ("57014", QueryTimeoutError, "QUERY_TIMEOUT"),  # our statement timeout
    ("42601", ValidationError, "VALIDATION_ERROR"),  # syntax error
    ("42703", ValidationError, "VALIDATION_ERROR"),  # undefined column
    ("22012", ValidationError, "VALIDATION_ERROR"),  # division by zero
    ("54001", ValidationError, "VALIDATION_ERROR"),  # statement too complex
    ("42501", AuthorizationError, "AUTHORIZATION_ERROR"),  # insufficient privilege
    ("25006", AuthorizationError, "AUTHORIZATION_ERROR"),  # read-only transaction
    ("XX000", DatabaseError, "DATABASE_ERROR"),  # internal error
    ("P0001", DatabaseError, "DATABASE_ERROR"),  # a class without a rule
])
def test_each_sqlstate_class_has_one_answer(sqlstate: str, expected: type, code: str) -> None:
    error = translate(raised(sqlstate), timeout_s=5)
    assert type(error) is expected
    assert error.code == code


@pytest.mark.parametrize("error", [PoolTimeout("couldn't get a connection after 30 s"),
                                   TooManyRequests("42 waiting")])
def test_no_free_connection_is_busy_and_temporary(error: Exception) -> None:
    answer = translate(error, timeout_s=5)
    assert isinstance(answer, ServiceUnavailableError)
    assert "busy" in answer.message
    assert "temporary: retry in 1 s" in answer.message


def test_a_closing_pool_is_temporary() -> None:
    assert isinstance(translate(PoolClosed("closed"), timeout_s=5), ServiceUnavailableError)


def test_a_connection_lost_without_a_word_names_no_address() -> None:
    lost = psycopg.OperationalError(
        'connection failed: connection to server on socket "/run/secret/.s.PGSQL.5432" failed')
    answer = translate(lost, timeout_s=5)
    assert isinstance(answer, ServiceUnavailableError)
    assert "the database is unreachable" in answer.message
    assert "/run/secret" not in answer.message
    assert answer.retry_after_s > 0


def test_a_timeout_names_the_limit() -> None:
    assert "30 s limit" in translate(raised("57014"), timeout_s=30).message
