"""The pool under stress: a broken connection is retried, a rejected query never is, and an
exhausted pool answers "server busy, retry" within its bounded wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.pool import RlsDatabase, make_query_pool
from adapters.postgres.request_context import ContextSigner
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from domain.errors import ServiceUnavailableError, ValidationError
from domain.model import UserId
from ports.database_server import DatabaseEndpoints
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

SEATTLE = UserId(USERS[0].user_id)
GUARD = AcceptEverythingGuard()


class CountingDatabase(RlsDatabase):
    sessions = 0

    @asynccontextmanager
    async def session(self, user_id):  # type: ignore[no-untyped-def,override]
        self.sessions += 1
        async with super().session(user_id) as conn:
            yield conn

    @asynccontextmanager
    async def cursor_session(self, user_id, query, first_fetch):  # type: ignore[no-untyped-def,override]
        self.sessions += 1
        async with super().cursor_session(user_id, query, first_fetch) as opened:
            yield opened


@pytest.fixture
async def one_connection(database: DatabaseEndpoints, signer: ContextSigner
                         ) -> AsyncIterator[CountingDatabase]:
    pool = make_query_pool(database.query_url, min_size=1, max_size=1, timeout_s=0.5)
    await pool.open(wait=True)
    yield CountingDatabase(pool, signer, statement_timeout_s=5)
    await pool.close()


async def test_a_broken_connection_is_retried(one_connection: CountingDatabase,
                                              database: DatabaseEndpoints) -> None:
    executor = PsycopgSalesQueryExecutor(one_connection, timeout_s=5)

    def terminate_the_running_query() -> None:
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            # the server-side cursor shows as FETCH while the statement runs
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'zava-mcp' AND state = 'active'"
                " AND query LIKE 'FETCH%%'")

    async def kill_soon() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(terminate_the_running_query)

    killer = asyncio.create_task(kill_soon())
    result = await executor.run(
        SEATTLE, GUARD.check("SELECT pg_sleep(0.6), 1"), 10)
    await killer
    assert result.rows[0][1] == 1
    assert one_connection.sessions == 2


async def test_a_rejected_query_is_not_retried(one_connection: CountingDatabase) -> None:
    executor = PsycopgSalesQueryExecutor(one_connection, timeout_s=5)
    with pytest.raises(ValidationError):
        await executor.run(SEATTLE, GUARD.check("SELECT no_such_column FROM orders"), 10)
    assert one_connection.sessions == 1


async def test_an_exhausted_pool_says_busy_within_the_bounded_wait(
    one_connection: CountingDatabase,
) -> None:
    executor = PsycopgSalesQueryExecutor(one_connection, timeout_s=5)
    release = asyncio.Event()

    async def hold_the_only_connection() -> None:
        async with one_connection.session(SEATTLE):
            await release.wait()

    holder = asyncio.create_task(hold_the_only_connection())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError, match=r"server is busy.*retry"):
        await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)
    waited = time.monotonic() - started
    release.set()
    await holder
    assert 0.4 <= waited < 2.0
    assert one_connection.sessions == 2  # the holder's and one attempt: no retry on busy
    assert (await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)).rows == ((1,),)
