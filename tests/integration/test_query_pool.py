"""QueryPool's warm stack on a real PostgreSQL: a cleanly finished connection is handed out
next (last in, first out) or to the client waiting for one, and whatever is not cleanly
finished, too old, drained or idle goes back through psycopg's pool, whose reset, limits and
replacement still apply. Nothing is lost when a wait ends as a connection is handed over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from psycopg_pool import PoolClosed, PoolTimeout

from adapters.postgres import pool as pool_module
from adapters.postgres.pool import (
    AsyncConn,
    QueryPool,
    configure_query_connection,
    make_query_pool,
    mark_finished,
)
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
async def pool(database: DatabaseEndpoints) -> AsyncIterator[QueryPool]:
    pool = make_query_pool(database.query_url, min_size=1, max_size=1, timeout_s=2)
    await pool.open(wait=True)
    yield pool
    await pool.close()


async def backend(conn: AsyncConn) -> int:
    cur = await conn.execute("SELECT pg_backend_pid()")
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def finish(pool: QueryPool, conn: AsyncConn) -> None:
    """Return `conn` as DatabaseGateway.finish leaves it: rolled back, session discarded."""
    await conn.execute("DISCARD ALL")
    mark_finished(conn)
    await pool.putconn(conn)


async def test_finished_connections_are_handed_out_last_in_first_out(
        database: DatabaseEndpoints) -> None:
    pool = make_query_pool(database.query_url, min_size=3, max_size=3)
    await pool.open(wait=True)
    try:
        a, b, c = [await pool.getconn() for _ in range(3)]
        await finish(pool, a)
        await finish(pool, b)
        assert pool.warm == 2
        assert await pool.getconn() is b  # psycopg's own pool would hand out `c`'s turn order
        assert await pool.getconn() is a
        for conn in (a, b, c):
            await finish(pool, conn)
    finally:
        await pool.close()


async def test_an_unfinished_connection_goes_back_through_the_pools_reset(
        pool: QueryPool) -> None:
    conn = await pool.getconn()
    await conn.execute("SET work_mem = '1MB'")  # session state a request left behind
    await pool.putconn(conn)  # not marked finished: the pool's reset (DISCARD ALL) runs
    assert pool.warm == 0
    again = await pool.getconn()
    cur = await again.execute("SHOW work_mem")
    assert await cur.fetchone() == ("16MB",)  # the connection options' value, not 1MB
    await finish(pool, again)


async def test_a_connection_finished_once_is_not_kept_after_its_next_request(
        pool: QueryPool) -> None:
    conn = await pool.getconn()
    await finish(pool, conn)
    again = await pool.getconn()
    assert again is conn
    await again.execute("SET work_mem = '1MB'")
    await pool.putconn(again)  # this request did not finish cleanly: through the reset
    assert pool.warm == 0
    cur = await (third := await pool.getconn()).execute("SHOW work_mem")
    assert await cur.fetchone() == ("16MB",)
    await finish(pool, third)


async def test_a_waiting_client_gets_the_next_finished_connection(pool: QueryPool) -> None:
    held = await pool.getconn()
    waiting = asyncio.create_task(pool.getconn())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # max_size 1: it waits
    assert pool.get_stats()["requests_waiting"] == 1
    await finish(pool, held)
    assert await asyncio.wait_for(waiting, 1) is held
    assert pool.warm == 0
    await finish(pool, held)


async def test_a_waiting_client_gets_a_connection_returned_unfinished(pool: QueryPool) -> None:
    held = await pool.getconn()
    waiting = asyncio.create_task(pool.getconn())
    await asyncio.sleep(0.05)
    await pool.putconn(held)  # unfinished: the pool resets it, then the client asks the pool
    conn = await asyncio.wait_for(waiting, 2)
    assert await backend(conn) > 0
    await finish(pool, conn)


async def test_a_wait_ends_with_the_pools_timeout(pool: QueryPool) -> None:
    held = await pool.getconn()
    began = time.monotonic()
    with pytest.raises(PoolTimeout, match=r"after 0\.20 sec"):
        await pool.getconn(timeout=0.2)
    assert 0.15 < time.monotonic() - began < 1.0
    await finish(pool, held)
    assert await pool.getconn(timeout=0.2) is held  # nothing was lost to the timeout
    await finish(pool, held)


async def test_a_connection_handed_to_a_cancelled_client_is_not_lost(pool: QueryPool) -> None:
    held = await pool.getconn()
    waiting = asyncio.create_task(pool.getconn())
    await asyncio.sleep(0.05)
    await finish(pool, held)  # handed over to `waiting`'s wait...
    waiting.cancel()  # ...which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pool.warm == 1  # the connection went onto the stack, not nowhere
    assert await pool.getconn(timeout=0.5) is held
    await finish(pool, held)


async def test_unused_warm_connections_go_back_to_the_pool(
        pool: QueryPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "WARM_IDLE_S", 0.05)
    conn = await pool.getconn()
    await finish(pool, conn)
    assert pool.warm == 1
    await asyncio.sleep(0.3)
    assert pool.warm == 0
    assert pool.get_stats()["pool_available"] == 1  # in the pool proper now
    again = await pool.getconn()
    assert again is conn
    await finish(pool, again)


async def test_drain_replaces_the_warm_connections(pool: QueryPool) -> None:
    conn = await pool.getconn()
    before = await backend(conn)
    await finish(pool, conn)
    await pool.drain()  # as the gateway does when the database refuses connections
    assert pool.warm == 0
    fresh = await pool.getconn()
    assert await backend(fresh) != before
    await finish(pool, fresh)


async def test_a_connection_past_its_lifetime_is_replaced(database: DatabaseEndpoints) -> None:
    pool = QueryPool(database.query_url, min_size=1, max_size=1, max_lifetime=0.5,
                     configure=configure_query_connection, open=False,
                     kwargs={"prepare_threshold": None})
    await pool.open(wait=True)
    try:
        conn = await pool.getconn()
        before = await backend(conn)
        await asyncio.sleep(0.8)
        await finish(pool, conn)
        assert pool.warm == 0  # too old for the stack: the pool closes and replaces it
        fresh = await pool.getconn(timeout=5)
        assert await backend(fresh) != before
        await finish(pool, fresh)
    finally:
        await pool.close()


async def test_closing_refuses_the_clients_waiting(database: DatabaseEndpoints) -> None:
    pool = make_query_pool(database.query_url, min_size=1, max_size=1, timeout_s=5)
    await pool.open(wait=True)
    held = await pool.getconn()
    waiting = asyncio.create_task(pool.getconn())
    await asyncio.sleep(0.05)
    began = time.monotonic()
    await pool.close()
    with pytest.raises(PoolClosed):
        await asyncio.wait_for(waiting, 2)
    assert time.monotonic() - began < 2
    await pool.putconn(held)  # a closed pool closes what comes back
    assert held.closed


async def test_no_more_than_max_size_connections_are_out(database: DatabaseEndpoints) -> None:
    pool = make_query_pool(database.query_url, min_size=1, max_size=2, timeout_s=5)
    await pool.open(wait=True)
    out: set[AsyncConn] = set()
    most = 0
    seen: set[int] = set()

    async def request() -> None:
        nonlocal most
        conn = await pool.getconn()
        out.add(conn)
        most = max(most, len(out))
        seen.add(id(conn))
        await asyncio.sleep(0.01)
        out.discard(conn)
        await finish(pool, conn)

    try:
        await asyncio.gather(*(request() for _ in range(40)))
        assert most == 2
        assert len(seen) == 2
        assert pool.get_stats()["pool_available"] == 2
    finally:
        await pool.close()


async def test_closing_closes_the_warm_connections(database: DatabaseEndpoints) -> None:
    pool = make_query_pool(database.query_url, min_size=2, max_size=2)
    await pool.open(wait=True)
    conns = [await pool.getconn() for _ in range(2)]
    for conn in conns:
        await finish(pool, conn)
    assert pool.warm == 2
    await pool.close()
    assert all(conn.closed for conn in conns)  # not left for the garbage collector
