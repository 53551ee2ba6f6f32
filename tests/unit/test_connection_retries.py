"""retry_on_broken_connection: the first attempt outside tenacity, the rest under it, and the
same policy as connection_retries: only broken connections, at most three attempts."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from adapters.postgres import pool as pool_module
from adapters.postgres.pool import retry_on_broken_connection

pytestmark = pytest.mark.anyio


class Work:
    """Fails with the scripted errors in turn, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "rows"


def broken() -> psycopg.OperationalError:
    return psycopg.OperationalError("server closed the connection unexpectedly")


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "_FIRST_RETRY_WAIT_S", 0.0)


async def test_a_first_success_runs_once() -> None:
    work = Work()
    assert await retry_on_broken_connection(work) == "rows"
    assert work.calls == 1


async def test_a_broken_connection_runs_again() -> None:
    work = Work(broken(), broken())
    assert await retry_on_broken_connection(work) == "rows"
    assert work.calls == 3


async def test_three_broken_connections_give_up_with_the_last_error() -> None:
    last = broken()
    work = Work(broken(), broken(), last, broken())
    with pytest.raises(psycopg.OperationalError) as raised:
        await retry_on_broken_connection(work)
    assert raised.value is last
    assert work.calls == 3


@pytest.mark.parametrize("error", [
    psycopg.errors.UndefinedColumn("column does not exist"),
    psycopg.errors.QueryCanceled("statement timeout"),
    PoolTimeout("no connection"),
    ValueError("not a database error"),
])
async def test_what_is_not_a_broken_connection_is_never_retried(error: Exception) -> None:
    work = Work(error)
    with pytest.raises(type(error)):
        await retry_on_broken_connection(work)
    assert work.calls == 1


async def test_one_attempt_means_no_retry() -> None:
    work = Work(broken())
    with pytest.raises(psycopg.OperationalError):
        await retry_on_broken_connection(work, attempts=1)
    assert work.calls == 1
