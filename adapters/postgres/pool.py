"""The connection pool of the query role and the per-request RLS transaction."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from adapters.postgres.errors import is_connection_error
from adapters.postgres.request_context import ContextSigner
from domain.model import UserId

AsyncConn = AsyncConnection[TupleRow]
T = TypeVar("T")

log = logging.getLogger("zava.db")

_FIRST_RETRY_WAIT_S = 0.05  # and the backoff's base: 50 ms, doubling, with jitter


def connection_retries(attempts: int = 3) -> AsyncRetrying:
    """Retry a read-only unit of work when its connection broke (the database restarted, a
    network blip): exponential backoff with jitter, 50 ms to 0.5 s. Work that the database
    rejected, timed out or that found no free connection (PoolTimeout) is never retried."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=_FIRST_RETRY_WAIT_S, max=0.5),
        retry=retry_if_exception(is_connection_error),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    )


async def retry_on_broken_connection(
    work: Callable[[], Awaitable[T]], attempts: int = 3
) -> T:
    """`work` (read-only, always rolled back: safe to run again) under connection_retries.
    The first attempt runs outside tenacity, whose bookkeeping cost ~5 % of a tool call's CPU:
    only once it failed on a broken connection does the retry loop start, with the first
    backoff, for the attempts left."""
    try:
        return await work()
    except Exception as e:
        if attempts < 2 or not is_connection_error(e):
            raise
        log.warning("connection broke (%s); retrying", type(e).__name__)
    await asyncio.sleep(_FIRST_RETRY_WAIT_S)
    async for attempt in connection_retries(attempts - 1):
        with attempt:
            result = await work()
    return result


async def _configure(conn: AsyncConn) -> None:
    # Autocommit so the pool's reset can run DISCARD ALL outside a transaction; every request
    # opens its own explicit transaction anyway.
    await conn.set_autocommit(True)


# Connections that RlsDatabase already rolled back and discarded as their request ended (one
# round trip for both), so the pool's reset on return has nothing left to do...
_DISCARDED: weakref.WeakSet[AsyncConn] = weakref.WeakSet()
# ...and when each connection last answered the server, for the check on checkout.
_ANSWERED_AT: weakref.WeakKeyDictionary[AsyncConn, float] = weakref.WeakKeyDictionary()
# A connection that answered this recently is handed out without another round trip: one that
# broke in between fails its request with a connection error, which is retried (tenacity).
_RECENTLY_ANSWERED_S = 1.0


async def _reset(conn: AsyncConn) -> None:
    # Undo anything a request left at session level before another user's request gets the
    # connection. DISCARD ALL = RESET ALL (back to the startup values, including
    # default_transaction_read_only=on from the connection options) + DEALLOCATE ALL + DISCARD
    # PLANS + closing cursors: no plan made under this request's signed context survives it,
    # which the plan-time store scope (sql/009) relies on.
    if conn in _DISCARDED:
        _DISCARDED.discard(conn)  # RlsDatabase.finish ran DISCARD ALL just now
        return
    await conn.execute("DISCARD ALL")
    _ANSWERED_AT[conn] = time.monotonic()


async def _check(conn: AsyncConn) -> None:
    """The pool's check on checkout, skipped for a connection that answered within the last
    second (its reset just succeeded): a round trip saved on every busy request."""
    answered = _ANSWERED_AT.get(conn)
    if answered is not None and time.monotonic() - answered < _RECENTLY_ANSWERED_S:
        return
    await AsyncConnectionPool.check_connection(conn)
    _ANSWERED_AT[conn] = time.monotonic()


def make_query_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    max_idle_s: float = 300.0,
    timeout_s: float = 30.0,
    work_mem: str = "16MB",
) -> AsyncConnectionPool[AsyncConn]:
    """One pool per process for the least-privileged query role. Not opened here: the entrypoint
    opens it explicitly (`await pool.open(wait=True)`) so no I/O happens at wiring time."""
    # search_path: the model writes unqualified retail names; pgvector's operators live in
    # public. standard_conforming_strings pinned on: the SQL guard's parser always reads string
    # literals that way, so the server must too.
    options = (
        f"-c default_transaction_read_only=on -c jit=off -c work_mem={work_mem}"
        " -c search_path=retail,public -c standard_conforming_strings=on"
    )
    return AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        max_idle=max_idle_s,
        timeout=timeout_s,
        open=False,
        configure=_configure,
        reset=_reset,
        check=_check,
        # prepare_threshold=None: psycopg never turns a repeated statement into a server-side
        # prepared statement, whose cached plan would keep the store list folded in for the
        # first caller (sql/009).
        kwargs={"application_name": "zava-mcp", "options": options, "prepare_threshold": None},
        name="zava-query",
    )


# BEGIN and the signed context in one round trip, through psycopg's pipeline mode: the signed
# value travels as a bind parameter, so it never appears in statement text (pg_stat_activity,
# logs) where another session of the same role could read it.
_SET_QUERY_CONTEXT = (
    "SELECT set_config('zava.context', %s, true),"
    " set_config('statement_timeout', %s, true),"
    " set_config('lock_timeout', %s, true),"
    " set_config('idle_in_transaction_session_timeout', %s, true)"
)
# The one cursor of a query session: its transaction always ends with ROLLBACK and CLOSE ALL,
# so a fixed name never meets another, and plain text saves composing SQL on every request.
RESULT_CURSOR = "zava_result"
_DECLARE_RESULT = f"DECLARE {RESULT_CURSOR} NO SCROLL CURSOR FOR "


def fetch_statement(rows: int) -> str:
    return f"FETCH FORWARD {int(rows)} FROM {RESULT_CURSOR}"


_SET_AUDIT_CONTEXT = "SELECT set_config('zava.context', %s, true)"
_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


@asynccontextmanager
async def pipelined(conn: AsyncConn) -> AsyncIterator[None]:
    """`conn.pipeline()` that reports a failed statement once, as the block's error.

    psycopg raises a statement's error from whichever call reads its result first: the
    pipeline's exit, or (when the server answered quickly) a later execute inside the block.
    In the second case the exit then fails too ("pipeline aborted") and psycopg logs
    "error ignored terminating AsyncPipeline" as a warning, for what is only the user's bad SQL.
    So an error inside the block is held until the pipeline has ended, and raised after it."""
    failure: psycopg.Error | None = None
    try:
        async with conn.pipeline():
            try:
                yield
            except psycopg.Error as error:
                failure = error
    except psycopg.errors.PipelineAborted:
        if failure is None:
            raise
    if failure is not None:
        raise failure


class RlsDatabase:
    """Runs each request in its own transaction under the caller's signed identity.

    The context is set with set_config(..., is_local => true), so it ends with the transaction
    and a pooled connection never carries it to the next request; the statement, lock and
    idle-in-transaction timeouts are set the same way, in the same round trip as BEGIN. The
    transaction is read-only and always rolled back.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConn],
        signer: ContextSigner,
        *,
        statement_timeout_s: float = 30.0,
        lock_timeout_s: float = 5.0,
    ) -> None:
        self._pool = pool
        self._signer = signer
        self._statement_timeout_ms = str(int(statement_timeout_s * 1000))
        self._lock_timeout_ms = str(int(lock_timeout_s * 1000))
        self._idle_timeout_ms = str(int(statement_timeout_s * 1000) + 5000)
        self._returning: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConn]:
        """A pooled connection that goes back to the pool through `finish`, in the background:
        the request's answer does not wait for the round trip that ends its transaction, and
        the connection is handed out again only once that round trip is over."""
        conn = await self._pool.getconn()
        try:
            yield conn
        finally:
            task = asyncio.get_running_loop().create_task(self._finish_and_return(conn))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)

    async def _finish_and_return(self, conn: AsyncConn) -> None:
        try:
            await self.finish(conn)
        finally:
            try:
                await self._pool.putconn(conn)
            except Exception:  # nobody awaits this task: say it here, not at garbage collection
                log.warning("could not return a connection to the pool", exc_info=True)

    async def drain(self) -> None:
        """Wait until every connection a finished request used is back in the pool (before
        the pool closes)."""
        while self._returning:
            await asyncio.gather(*self._returning, return_exceptions=True)

    @asynccontextmanager
    async def session(self, user_id: UserId | None) -> AsyncIterator[AsyncConn]:
        async with self._connection() as conn:
            async with pipelined(conn):
                await self._begin(conn.cursor(), user_id)
            yield conn

    @asynccontextmanager
    async def cursor_session(
        self, user_id: UserId | None, query: str, first_fetch: int
    ) -> AsyncIterator[tuple[AsyncConn, AsyncCursor[Any]]]:
        """A session whose first statement is a server-side cursor (RESULT_CURSOR) over
        `query` (one statement, already validated): BEGIN, the signed context, DECLARE and the
        first FETCH go to the server in one round trip (pipeline mode, hence the extended
        protocol, which refuses a second statement). Yields the connection, for further
        FETCHes, and the cursor holding the first FETCH's result."""
        async with self._connection() as conn:
            cursor = conn.cursor()  # one client cursor for the pipeline: the last result counts
            async with pipelined(conn):
                await self._begin(cursor, user_id)
                await cursor.execute(_DECLARE_RESULT + query)  # type: ignore[arg-type,unused-ignore]
                await cursor.execute(fetch_statement(first_fetch))  # type: ignore[arg-type,unused-ignore]
            yield conn, cursor

    async def _begin(self, cursor: AsyncCursor[Any], user_id: UserId | None) -> None:
        context = self._signer.sign(
            "query", "" if user_id is None else str(user_id), cursor.connection.info.backend_pid
        )
        await cursor.execute("BEGIN READ ONLY")
        await cursor.execute(_SET_QUERY_CONTEXT, (
            context, self._statement_timeout_ms, self._lock_timeout_ms, self._idle_timeout_ms,
        ))

    @asynccontextmanager
    async def audit_session(self) -> AsyncIterator[AsyncConn]:
        """A short read-write transaction for the audit writer, committed when the block ends
        without an error."""
        async with self._connection() as conn:
            context = self._signer.sign("audit", "0", conn.info.backend_pid)
            async with pipelined(conn):
                await conn.execute("BEGIN READ WRITE")
                await conn.execute(_SET_AUDIT_CONTEXT, (context,))
            yield conn
            await conn.execute("COMMIT")

    # What ends every request as its connection goes back to the pool, in one round trip with
    # the ROLLBACK (simple query protocol: no parameters, so the statements travel together):
    # DISCARD ALL as PostgreSQL documents it, step by step, because DISCARD ALL itself may not
    # run in the implicit transaction of a multi-statement query. The pool's reset is then
    # skipped (see _reset).
    DISCARD_SESSION_STATE = (
        "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; DEALLOCATE ALL; UNLISTEN *;"
        " SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; DISCARD SEQUENCES"
    )

    async def finish(self, conn: AsyncConn) -> None:
        """The request is over: roll back whatever is open and discard the session state.
        A broken connection is left to the pool, which discards it."""
        status = conn.info.transaction_status
        if conn.closed or status not in (*_OPEN, TransactionStatus.IDLE):
            return
        rollback = "ROLLBACK; " if status in _OPEN else ""
        try:
            await conn.execute(rollback + self.DISCARD_SESSION_STATE)
        except psycopg.Error:
            return  # the pool's reset tries DISCARD ALL, or discards the connection
        _DISCARDED.add(conn)
        _ANSWERED_AT[conn] = time.monotonic()
