"""round_trip.py on the real database: the same values and errors a psycopg cursor gives, one
error per failed round trip, and a connection left clean, or closed when interrupted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import psycopg
import pytest

from adapters.postgres.round_trip import Statement, round_trip, settle, unsettled
from ports.database_server import DatabaseEndpoints

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

MIXED_TYPES = (
    "SELECT 1.25::numeric AS n, 1 AS n, DATE '2026-06-30' AS d, interval '90 minutes' AS i,"
    " ARRAY[1, 2] AS a, '{\"k\": [1, null]}'::jsonb AS j, '[1,2,3]'::vector AS v, true AS b,"
    " NULL::text AS z, 'it''s (a) tést ✓' AS s, now() - now() AS zero, 2::bigint ^ 40 AS f"
    " FROM generate_series(1, 3)"
)


@pytest.fixture
async def conn(database: DatabaseEndpoints) -> AsyncIterator[psycopg.AsyncConnection]:
    async with await psycopg.AsyncConnection.connect(database.admin_url,
                                                     autocommit=True) as conn:
        yield conn


async def test_values_columns_and_types_are_a_cursors(conn: psycopg.AsyncConnection) -> None:
    cursor = await conn.execute(MIXED_TYPES)
    expected_rows = await cursor.fetchall()
    expected_columns = tuple(d.name for d in cursor.description or ())

    result = await round_trip(conn, [Statement(MIXED_TYPES)])

    assert result.columns == expected_columns == (
        "n", "n", "d", "i", "a", "j", "v", "b", "z", "s", "zero", "f")
    assert result.rows == expected_rows
    assert [type(v) for v in result.rows[0]] == [type(v) for v in expected_rows[0]]


async def test_parameters_travel_as_text_and_null(conn: psycopg.AsyncConnection) -> None:
    result = await round_trip(conn, [
        Statement("BEGIN READ ONLY"),
        Statement("SELECT set_config('zava.test', $1, true)", ("tést ✓ $2 %s ' --",)),
        Statement("SELECT current_setting('zava.test'), $1::text IS NULL, $2::int + 1",
                  (None, "41")),
    ])
    assert result.rows == [("tést ✓ $2 %s ' --", True, 42)]
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    await round_trip(conn, [Statement("ROLLBACK")])
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.parametrize(("failing", "error"), [
    ("SELECT no_such_column FROM pg_class", psycopg.errors.UndefinedColumn),
    ("SELECT 1 / 0", psycopg.errors.DivisionByZero),
])
async def test_the_first_failed_statement_raises_its_own_error_once(
    conn: psycopg.AsyncConnection, failing: str, error: type[psycopg.Error],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The statements after it are aborted by the server; their 'aborted' results are not
    what the caller sees, and nothing is logged for what is only a bad statement."""
    with caplog.at_level("DEBUG"), pytest.raises(error) as raised:
        await round_trip(conn, [Statement("BEGIN READ ONLY"), Statement(failing),
                                Statement("SELECT 1")])
    assert raised.value.sqlstate == error.sqlstate
    assert [r for r in caplog.records if r.name.startswith(("psycopg", "zava"))] == []
    # the pipeline ended: the connection is in the failed transaction, and usable after it
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    await round_trip(conn, [Statement("ROLLBACK")])
    assert (await round_trip(conn, [Statement("SELECT 7")])).rows == [(7,)]


async def test_a_second_statement_in_one_text_is_refused(conn: psycopg.AsyncConnection) -> None:
    """Each statement travels in the extended protocol, which runs one statement per text:
    the server refuses a smuggled second one, whatever a guard let through."""
    with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
        await round_trip(conn, [Statement("SELECT 1; SELECT 2")])
    assert (await round_trip(conn, [Statement("SELECT 2")])).rows == [(2,)]


async def test_later_segments_ride_along_and_are_settled_afterwards(
    conn: psycopg.AsyncConnection,
) -> None:
    """What ends a request travels with it: the rows come back after the first segment, the
    ROLLBACK and DISCARD ALL (a segment of its own: not allowed in a transaction block) are
    read by settle, which leaves the connection idle, its session state discarded."""
    await round_trip(conn, [Statement("SET application_name = 'left behind'")])
    result = await round_trip(
        conn, [Statement("BEGIN READ ONLY"), Statement("SELECT 41 + 1")],
        then=[[Statement("ROLLBACK")], [Statement("DISCARD ALL")]])
    assert result.rows == [(42,)]
    assert unsettled(conn)
    await settle(conn)
    assert not unsettled(conn)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert (await round_trip(conn, [Statement("SHOW application_name")])).rows != [
        ("left behind",)]
    await settle(conn)  # nothing left: nothing to do


async def test_a_failed_first_segment_leaves_the_later_ones_to_settle(
    conn: psycopg.AsyncConnection,
) -> None:
    """A Sync ends the aborted segment: the ROLLBACK after it still runs."""
    with pytest.raises(psycopg.errors.DivisionByZero):
        await round_trip(conn, [Statement("BEGIN READ ONLY"), Statement("SELECT 1 / 0")],
                         then=[[Statement("ROLLBACK")]])
    await settle(conn)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


async def test_settle_raises_a_later_segments_error(conn: psycopg.AsyncConnection) -> None:
    await round_trip(conn, [Statement("SELECT 1")],
                     then=[[Statement("SELECT 1 / 0")], [Statement("SELECT 2")]])
    with pytest.raises(psycopg.errors.DivisionByZero):
        await settle(conn)
    assert (await round_trip(conn, [Statement("SELECT 3")])).rows == [(3,)]


async def test_a_result_larger_than_the_socket_buffers_arrives_whole(
    conn: psycopg.AsyncConnection,
) -> None:
    """Many reads of the socket for one result, and a statement text larger than one write."""
    padding = "x" * 2_000_000
    result = await round_trip(conn, [Statement(
        f"SELECT g, repeat('y', 1000), length('{padding}') FROM generate_series(1, 20000) g")])
    assert len(result.rows) == 20_000
    assert result.rows[-1] == (20_000, "y" * 1000, 2_000_000)


async def test_a_lost_connection_is_an_operational_error(
    conn: psycopg.AsyncConnection, database: DatabaseEndpoints,
) -> None:
    """What the gateway's retry on a broken connection recognises (errors.is_connection_error)."""
    async with await psycopg.AsyncConnection.connect(database.admin_url,
                                                     autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError) as raised:
        await round_trip(conn, [Statement("SELECT 1")])
    assert raised.value.sqlstate is None or raised.value.sqlstate.startswith(("08", "57P"))
    assert conn.closed


async def test_an_interrupted_round_trip_cancels_its_statement_and_closes_the_connection(
    conn: psycopg.AsyncConnection, database: DatabaseEndpoints,
) -> None:
    """A cancelled call leaves the protocol half way: the server stops the statement (it
    would otherwise run to its timeout) and the connection is closed, so a pool replaces it
    instead of handing out a connection with results still in flight."""
    pid = conn.info.backend_pid
    call = asyncio.ensure_future(round_trip(conn, [Statement("SELECT pg_sleep(60)")]))
    async with await psycopg.AsyncConnection.connect(database.admin_url,
                                                     autocommit=True) as admin:
        for _ in range(100):  # until the statement runs
            cursor = await admin.execute(
                "SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
            if await cursor.fetchone() == ("active",):
                break
            await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert conn.closed
        for _ in range(100):  # the backend ends: statement cancelled, then its client gone
            cursor = await admin.execute(
                "SELECT state, query FROM pg_stat_activity WHERE pid = %s", (pid,))
            if await cursor.fetchone() is None:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the abandoned statement still runs")
