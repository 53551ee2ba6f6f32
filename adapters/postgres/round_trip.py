"""A request's statements in one round trip, straight through libpq's pipeline mode.

Every tool call opens its transaction the same way: BEGIN, the signed context (a bind
parameter), on Citus its propagation, and for model-written SQL the statement itself. Through
psycopg's `pipeline()` that sequence cost ~0.2 ms of the server's CPU per call (measured in a
tight loop: 270 µs against 70 µs for the same messages sent here), about a fifth of a
cache-off call: psycopg flushes and polls the socket as each statement is queued and keeps a
result queue per statement. Here the statements are queued with libpq's own calls
(`psycopg.pq`, psycopg's documented libpq wrapper), sent with one flush, and their results read
as they arrive, on the connection's socket through the event loop. What ends the request
(ROLLBACK, DISCARD ALL) can ride along in later pipeline segments of the same write
(`then`): the caller gets its rows at the first segment's end, and `settle` reads the rest
before the connection is used again (in the gateway, in the background, as the connection
goes back to the pool).

Only what the gateway needs: text parameters, text results, and the last statement's rows
loaded with psycopg's own `Transformer`, so values have the same Python types as a cursor's.
Errors are psycopg's: the first statement that failed raises its own error class (the rest
of the pipeline is aborted by the server), and a connection that broke raises
`OperationalError`, so `errors.translate` and the retry on a broken connection see exactly
what they saw through psycopg. A round trip interrupted half way (a cancelled call) leaves
the connection in an unknown state: its running statement is cancelled and the connection
closed, so the pool replaces it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import abc, pq
from psycopg.adapt import Transformer
from psycopg.errors import error_from_result

log = logging.getLogger("zava.db")

_ExecStatus = pq.ExecStatus
_OK = (_ExecStatus.COMMAND_OK, _ExecStatus.TUPLES_OK)
# how long a cancelled round trip waits for the server to acknowledge the cancel request
_CANCEL_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a round trip: its text with $1, $2... placeholders, and the
    parameters' values as text (None: SQL NULL)."""

    sql: str
    params: Sequence[str | None] = ()


@dataclass(frozen=True, slots=True)
class ResultRows:
    """The last statement's result: its column names and its rows, as tuples."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


# Connections whose round trip sent more segments than it read (round_trip's `then`), and how
# many: their results are read by `settle`, before the connection is used again.
_UNREAD_SEGMENTS: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], int] = (
    weakref.WeakKeyDictionary()
)

# The loaders of each connection's results (psycopg's Transformer, made from its adapters).
_TRANSFORMERS: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], abc.Transformer] = (
    weakref.WeakKeyDictionary()
)


async def round_trip(conn: psycopg.AsyncConnection[Any], statements: Sequence[Statement], *,
                     then: Sequence[Sequence[Statement]] = ()) -> ResultRows:
    """Send `statements` in one pipeline segment (one Sync: the server runs them as one
    implicit transaction unless they open their own) and return the last one's rows. The
    connection must be idle (no statement of its own in flight).

    `then`: more segments, each with its own Sync, sent in the same write but not waited
    for: what ends the request (its ROLLBACK, the session's reset) rides along with it
    instead of costing a round trip of its own. Their results are read by `settle`, which
    must run before the connection is used again."""
    pgconn = conn.pgconn
    encoding = conn.info.encoding
    results: list[pq.abc.PGresult] = []
    pgconn.enter_pipeline_mode()
    try:
        for segment in (statements, *then):
            for statement in segment:
                pgconn.send_query_params(
                    statement.sql.encode(encoding),
                    [None if p is None else p.encode(encoding) for p in statement.params]
                    or None)
            pgconn.pipeline_sync()
        await _flush(pgconn)
        results = await _results_until_sync(pgconn)
        if then:
            _UNREAD_SEGMENTS[conn] = len(then)
        else:
            pgconn.exit_pipeline_mode()
    except BaseException:
        await _abandon(conn)
        raise
    return _last_rows(conn, results, encoding)


def unsettled(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether `conn` has segments of a round trip whose results `settle` has yet to read."""
    return conn in _UNREAD_SEGMENTS


async def settle(conn: psycopg.AsyncConnection[Any]) -> None:
    """Read the results of the segments round_trip sent after its first (`then`) and leave
    pipeline mode; the first error among them raised as psycopg's."""
    pending = _UNREAD_SEGMENTS.pop(conn, 0)
    if not pending:
        return
    pgconn = conn.pgconn
    failed: pq.abc.PGresult | None = None
    try:
        for _ in range(pending):
            for result in await _results_until_sync(pgconn):
                if failed is None and result.status not in _OK:
                    failed = result
        pgconn.exit_pipeline_mode()
    except BaseException:
        await _abandon(conn)
        raise
    if failed is not None:
        raise _error(pgconn, failed, conn.info.encoding)


async def _flush(pgconn: pq.abc.PGconn) -> None:
    loop = asyncio.get_running_loop()
    while pgconn.flush():  # 1: the socket's buffer is full, the rest waits for it to drain
        await _ready(loop.add_writer, loop.remove_writer, pgconn.socket)
        pgconn.consume_input()  # the server may be answering meanwhile


async def _readable_result(pgconn: pq.abc.PGconn) -> None:
    """Wait until get_result() will not block. What the server already sent is read first:
    the segments `settle` reads have usually arrived by then, and a wait for the socket costs
    two epoll registrations and a turn of the event loop."""
    if not pgconn.is_busy():
        return
    pgconn.consume_input()
    if not pgconn.is_busy():
        return
    loop = asyncio.get_running_loop()
    while True:
        await _ready(loop.add_reader, loop.remove_reader, pgconn.socket)
        pgconn.consume_input()
        if not pgconn.is_busy():
            return


async def _results_until_sync(pgconn: pq.abc.PGconn) -> list[pq.abc.PGresult]:
    """Every result up to the pipeline's Sync. In pipeline mode libpq ends each statement's
    results with a None, and marks the Sync with a PIPELINE_SYNC result."""
    results: list[pq.abc.PGresult] = []
    while True:
        await _readable_result(pgconn)
        result = pgconn.get_result()
        if result is None:
            continue
        if result.status == _ExecStatus.PIPELINE_SYNC:
            return results
        results.append(result)


async def _ready(add: Any, remove: Any, fd: int) -> None:
    future = asyncio.get_running_loop().create_future()
    add(fd, future.set_result, None)
    try:
        await future
    finally:
        remove(fd)


def _last_rows(conn: psycopg.AsyncConnection[Any], results: list[pq.abc.PGresult],
               encoding: str) -> ResultRows:
    for result in results:  # the first failure is the cause; those after it were aborted
        if result.status not in _OK:
            raise _error(conn.pgconn, result, encoding)
    last = results[-1] if results else None
    if last is None or last.status != _ExecStatus.TUPLES_OK:
        return ResultRows((), [])
    columns = tuple((last.fname(i) or b"").decode(encoding) for i in range(last.nfields))
    transformer = _TRANSFORMERS.get(conn)
    if transformer is None:  # one per connection, as a psycopg cursor keeps one
        transformer = _TRANSFORMERS[conn] = Transformer.from_context(conn)
    transformer.set_pgresult(last)
    return ResultRows(columns, transformer.load_rows(0, last.ntuples, tuple))


def _error(pgconn: pq.abc.PGconn, result: pq.abc.PGresult, encoding: str) -> psycopg.Error:
    """psycopg's error for a failed statement; a lost connection (libpq reports it as a
    failed result without an SQLSTATE) as OperationalError, which the retry recognises."""
    if pgconn.status == pq.ConnStatus.BAD and not result.error_field(
            pq.DiagnosticField.SQLSTATE):
        message = (result.error_message or pgconn.error_message).decode(encoding, "replace")
        return psycopg.OperationalError(message.strip() or "the connection is lost")
    return error_from_result(result, encoding=encoding)


async def _abandon(conn: psycopg.AsyncConnection[Any]) -> None:
    """The round trip did not finish (cancelled, or the connection failed): ask the server to
    cancel what may still run, then close the connection, whose protocol state is unknown.
    The pool replaces a closed connection."""
    _UNREAD_SEGMENTS.pop(conn, None)
    if conn.closed:
        return
    try:
        await asyncio.wait_for(conn.cancel_safe(), _CANCEL_TIMEOUT_S)
    except Exception as error:  # the connection is closed either way
        log.debug("cancelling an abandoned round trip failed: %s", type(error).__name__)
    finally:
        conn.pgconn.finish()
