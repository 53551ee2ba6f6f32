"""The pool under stress: a broken connection is retried, a rejected query never is, and an
exhausted pool answers "server busy, retry" within its bounded wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.demodata.reference import USERS
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn, make_query_pool
from adapters.postgres.request_context import ContextSigner
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from adapters.postgres.user_limit import UserConcurrencyLimit
from domain.errors import RateLimitedError, ServiceUnavailableError, ValidationError
from domain.model import UserId
from ports.database_server import DatabaseEndpoints
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

SEATTLE = UserId(USERS[0].user_id)
GUARD = AcceptEverythingGuard()


class CountingDatabase(DatabaseGateway):
    sessions = 0

    def __init__(self, pool: AsyncConnectionPool[AsyncConn], signer: ContextSigner,
                 **options: float) -> None:
        super().__init__(pool, signer, **options)
        self.pool = pool

    @asynccontextmanager
    async def session(self, user_id, **options):  # type: ignore[no-untyped-def,override]
        self.sessions += 1
        async with super().session(user_id, **options) as conn:
            yield conn

    @asynccontextmanager
    async def result_session(self, user_id, statement, **options):  # type: ignore[no-untyped-def,override]
        self.sessions += 1
        async with super().result_session(user_id, statement, **options) as cursor:
            yield cursor


@pytest.fixture
async def one_connection(database: DatabaseEndpoints, signer: ContextSigner
                         ) -> AsyncIterator[CountingDatabase]:
    pool = make_query_pool(database.query_url, min_size=1, max_size=1, timeout_s=0.5)
    await pool.open(wait=True)
    yield CountingDatabase(pool, signer, statement_timeout_s=5)
    await pool.close()


async def warmed_executor(database: CountingDatabase) -> PsycopgSalesQueryExecutor:
    """An executor that has answered once, its session count then reset: its first query also
    asks, once, whether the database is a Citus coordinator (one more session), which is not
    what these tests count."""
    executor = PsycopgSalesQueryExecutor(database)
    assert (await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)).rows == ((1,),)
    await database.drain()
    database.sessions = 0
    return executor


async def test_a_broken_connection_is_retried(one_connection: CountingDatabase,
                                              database: DatabaseEndpoints) -> None:
    executor = await warmed_executor(one_connection)

    def terminate_the_running_query() -> None:
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            # the query inside the executor's size-capping wrapper
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'zava-mcp' AND state = 'active'"
                " AND query LIKE 'SELECT w.zava_bytes%%'")

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
    executor = await warmed_executor(one_connection)
    with pytest.raises(ValidationError):
        await executor.run(SEATTLE, GUARD.check("SELECT no_such_column FROM orders"), 10)
    assert one_connection.sessions == 1


async def test_an_exhausted_pool_says_busy_within_the_bounded_wait(
    one_connection: CountingDatabase,
) -> None:
    executor = await warmed_executor(one_connection)
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


async def terminate_the_pooled_connection(db: CountingDatabase,
                                          database: DatabaseEndpoints) -> None:
    """Kill the backend of this pool's only connection (not other tests' pools) once a request
    (counted in db.sessions) has ended on it and it is back in the pool."""
    async with db.session(None) as conn:
        pid = conn.info.backend_pid
    await db.drain()  # the connection goes back to the pool in the background
    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        row = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
    assert row == (True,)


async def test_a_connection_killed_while_idle_is_replaced_on_checkout(
    one_connection: CountingDatabase, database: DatabaseEndpoints,
) -> None:
    """The check on checkout: a connection that has not answered for over a second is checked
    before a request gets it; a dead one is replaced, and the request never sees it."""
    executor = await warmed_executor(one_connection)
    await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)
    await terminate_the_pooled_connection(one_connection, database)
    await asyncio.sleep(1.2)
    assert (await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)).rows == ((1,),)
    # the first request, the one that found the pid, the last: no retry, the checkout found
    # the dead connection
    assert one_connection.sessions == 3


async def test_a_connection_killed_right_after_its_request_costs_one_retry(
    one_connection: CountingDatabase, database: DatabaseEndpoints,
) -> None:
    """A connection that answered within the last second is handed out unchecked (a round
    trip saved on every busy request); if it died in that second, the request meets a
    connection error and is retried on a fresh connection."""
    executor = await warmed_executor(one_connection)
    await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)
    await terminate_the_pooled_connection(one_connection, database)
    assert (await executor.run(SEATTLE, GUARD.check("SELECT 1"), 10)).rows == ((1,),)
    # the first request, the one that found the pid, the failed attempt and its retry
    assert one_connection.sessions == 4


async def test_the_pool_resets_a_connection_returned_without_finishing(
    database: DatabaseEndpoints,
) -> None:
    """DatabaseGateway discards the session state as each request ends; a connection taken from
    the pool directly is reset by the pool's own DISCARD ALL on return."""
    pool = make_query_pool(database.query_url, min_size=1, max_size=1)
    await pool.open(wait=True)
    try:
        async with pool.connection() as conn:
            await conn.execute("SET work_mem = '1MB'")
            await conn.execute("PREPARE left_behind AS SELECT 1")
        async with pool.connection() as conn:
            work_mem = await (await conn.execute("SHOW work_mem")).fetchone()
            prepared = await (await conn.execute(
                "SELECT count(*) FROM pg_prepared_statements")).fetchone()
    finally:
        await pool.close()
    assert work_mem == ("16MB",)  # the pool's startup value
    assert prepared == (0,)


async def test_a_request_ends_before_its_connection_is_back(
    one_connection: CountingDatabase,
) -> None:
    """The answer does not wait for the round trip that rolls back and discards the session:
    that runs in the background, and the connection is handed out again only after it."""
    context = "SELECT current_setting('zava.context', true)"
    async with one_connection.session(SEATTLE) as conn:
        await conn.execute("SET work_mem = '1MB'")  # session-level: the discard must undo it
        seattle = await (await conn.execute(context)).fetchone()
    assert one_connection.pool.get_stats().get("pool_available", 0) == 0
    async with one_connection.session(None) as conn:  # waits for the background return
        work_mem = await (await conn.execute("SHOW work_mem")).fetchone()
        anonymous = await (await conn.execute(context)).fetchone()
    await one_connection.drain()
    assert one_connection.pool.get_stats()["pool_available"] == 1
    assert work_mem == ("16MB",)
    assert seattle is not None
    assert str(SEATTLE).encode().hex() in seattle[0]  # the signed context carries it in hex
    assert anonymous is not None
    assert str(SEATTLE).encode().hex() not in anonymous[0]


async def test_a_user_at_their_query_limit_is_still_looked_up(
    query_pool: AsyncConnectionPool[AsyncConn], signer: ContextSigner,
) -> None:
    """The access lookup (the bearer-token check's, every tool's) is not one of the user's
    queries: at their limit it still answers, and only their next query is RATE_LIMITED.
    Before, the token check itself was refused and logged a WARNING with a traceback."""
    limit = UserConcurrencyLimit(1, wait_s=0.2)
    gateway = DatabaseGateway(query_pool, signer, user_limit=limit)
    executor = PsycopgSalesQueryExecutor(gateway)
    busy = asyncio.create_task(executor.run(SEATTLE, GUARD.check("SELECT pg_sleep(3)"), 1))
    while limit.in_flight(SEATTLE) == 0:
        await asyncio.sleep(0.01)
    scope = await PsycopgAccessDirectory(gateway).scope_for(SEATTLE)
    assert scope.user_id == SEATTLE
    with pytest.raises(RateLimitedError):
        await executor.run(SEATTLE, GUARD.check("SELECT 1"), 1)
    await busy
