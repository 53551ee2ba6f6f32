"""The one way to the database: every operation of every PostgreSQL adapter goes through here.

An adapter hands the gateway a unit of work (`read`, `query`, `append_audit`) and gets back
its result or a domain error; it never sees psycopg's errors, the pool or a retry. For each
unit the gateway:

- admits it under the caller's share (`UserConcurrencyLimit`: RATE_LIMITED beyond it);
- takes a pooled connection, waiting at most the pool timeout (busy: SERVICE_UNAVAILABLE), and
  while the database refuses connections at most `outage_wait_s` (SERVICE_UNAVAILABLE: the
  database is unreachable), instead of the pool timeout;
- runs it in the caller's own transaction: BEGIN READ ONLY and the signed context in one round
  trip, with the statement timeout of its kind (curated tools, or the shorter one for
  model-written SQL), always rolled back;
- runs read-only work once more on a fresh connection when its connection broke;
- translates every error (adapters/postgres/errors.py) and reports the operation, its duration
  and outcome to the query monitor, so `zava://performance` covers every operation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from adapters.postgres.errors import UNREACHABLE, is_connection_error, translate
from adapters.postgres.pool import (
    AsyncConn,
    Reachability,
    answers,
    context_binding,
    mark_finished,
    retry_on_broken_connection,
    suspect_every_connection,
)
from adapters.postgres.request_context import PROPAGATE_CONTEXT, ContextSigner
from adapters.postgres.round_trip import ResultRows, Statement, round_trip, settle, unsettled
from adapters.postgres.user_limit import UserConcurrencyLimit
from domain.errors import ServiceUnavailableError
from domain.model import UserId
from ports.metrics import QueryObserver

T = TypeVar("T")
log = logging.getLogger("zava.db")

# BEGIN and the signed context in one round trip (round_trip.py: libpq's pipeline mode): the
# signed value travels as a bind parameter, so it never appears in statement text
# (pg_stat_activity, logs) where another session of the same role could read it.
_BEGIN_READ_ONLY = Statement("BEGIN READ ONLY")
_BEGIN_READ_WRITE = Statement("BEGIN READ WRITE")
_ROLLBACK = Statement("ROLLBACK")
_SET_QUERY_CONTEXT = (
    "SELECT set_config('zava.context', $1, true),"
    " set_config('statement_timeout', $2, true),"
    " set_config('lock_timeout', $3, true),"
    " set_config('idle_in_transaction_session_timeout', $4, true)"
)
_SET_AUDIT_CONTEXT = "SELECT set_config('zava.context', $1, true)"
_PROPAGATE_CONTEXT = Statement(PROPAGATE_CONTEXT)  # a Citus coordinator's workers (sql/030)
_OPEN = (TransactionStatus.INTRANS, TransactionStatus.INERROR)


# While the database refuses connections, how long a call waits for it to come back before
# SERVICE_UNAVAILABLE: long enough to ride out a fast restart (~0.5 s), short enough that a
# real outage answers within 2 s.
OUTAGE_WAIT_S = 1.5


class DatabaseGateway:
    """Runs each unit of work in its own transaction under the caller's signed identity.

    The context is set with set_config(..., is_local => true), so it ends with the transaction
    and a pooled connection never carries it to the next request; the statement, lock and
    idle-in-transaction timeouts are set the same way, in the same round trip as BEGIN. The
    transaction is read-only and always rolled back (audit appends excepted: they commit).
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[AsyncConn],
        signer: ContextSigner,
        *,
        statement_timeout_s: float = 30.0,
        model_sql_timeout_s: float | None = None,
        lock_timeout_s: float = 5.0,
        observer: QueryObserver | None = None,
        reachability: Reachability | None = None,
        user_limit: UserConcurrencyLimit | None = None,
        outage_wait_s: float = OUTAGE_WAIT_S,
        audit_pool: AsyncConnectionPool[AsyncConn] | None = None,
    ) -> None:
        self._pool = pool
        self._audit_pool = audit_pool or pool
        self._signer = signer
        self.statement_timeout_s = statement_timeout_s
        self.model_sql_timeout_s = model_sql_timeout_s or statement_timeout_s
        self._lock_timeout_ms = str(int(lock_timeout_s * 1000))
        self._observer = observer
        self.reachability = reachability or Reachability()
        self.reachability.on_down(self._outage_began)
        self._user_limit = user_limit
        self._outage_wait_s = outage_wait_s
        self._returning: set[asyncio.Task[None]] = set()
        self._waiting: set[tuple[asyncio.Timeout, float]] = set()  # (its scope, outage wait)
        self._draining: set[asyncio.Task[None]] = set()
        self._checking: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ units of work

    async def read(
        self,
        operation: str,
        user_id: UserId | None,
        work: Callable[[AsyncConn], Awaitable[T]],
        *,
        limited: bool = True,
    ) -> T:
        """`work(conn)` in the caller's read-only transaction under the curated tools'
        statement timeout (`operation` names it in the query monitor). `limited=False`: not
        counted against the caller's share (UserConcurrencyLimit), for work that is already
        at most one per user in flight (the access lookup)."""

        async def attempt(outage_wait: float) -> T:
            async with self.session(user_id, outage_wait_s=outage_wait) as conn:
                return await work(conn)

        return await self._run(operation, user_id, operation, self.statement_timeout_s, attempt,
                               limited=limited)

    async def query(
        self,
        operation: str,
        user_id: UserId,
        statement: str,
        *,
        fingerprint: str,
    ) -> ResultRows:
        """Model-written SQL (one statement, already validated, and bounded in rows and bytes
        by the caller) under the shorter statement timeout: its columns and rows (see
        result_session)."""

        async def attempt(outage_wait: float) -> ResultRows:
            async with self.result_session(user_id, statement,
                                           outage_wait_s=outage_wait) as result:
                return result

        return await self._run(operation, user_id, fingerprint, self.model_sql_timeout_s,
                               attempt)

    async def append_audit(self, sql: str, params: tuple[object, ...]) -> None:
        """One committed write of the audit trail, on the audit writer's own connection (never
        queued behind tenants), failing at once while the database is unreachable so the
        writer can spool. Idempotent by the records' ids, so a broken connection is retried."""

        async def attempt(outage_wait: float) -> None:
            async with self.audit_session(outage_wait_s=outage_wait) as conn:
                await conn.execute(sql, params)  # type: ignore[arg-type,unused-ignore]

        await self._run("audit.append_tool_calls", None, "audit.append_tool_calls",
                        self.statement_timeout_s, attempt, outage_wait_s=0.0, limited=False)

    async def ping(self) -> None:
        """SELECT 1 on a pooled connection, at once SERVICE_UNAVAILABLE while the database
        refuses connections (/health)."""

        async def attempt(outage_wait: float) -> None:
            async with self._connection(self._pool, outage_wait) as conn:
                await conn.execute("SELECT 1")

        await self._run("health", None, "SELECT 1", self.statement_timeout_s, attempt,
                        outage_wait_s=0.0, limited=False, observed=False)

    async def _run(
        self,
        operation: str,
        user_id: UserId | None,
        fingerprint: str,
        timeout_s: float,
        attempt: Callable[[float], Awaitable[T]],
        *,
        outage_wait_s: float | None = None,
        limited: bool = True,
        observed: bool = True,
    ) -> T:
        async with self._share(user_id if limited else None):
            started = time.perf_counter()
            ok = False
            try:
                wait = self._outage_wait_s if outage_wait_s is None else outage_wait_s
                result = await retry_on_broken_connection(
                    lambda: self._noting_broken_connections(attempt(wait)))
                ok = True
                return result
            except psycopg.Error as e:
                raise translate(e, timeout_s=timeout_s) from e
            finally:
                if observed and self._observer is not None:
                    self._observer.query_finished(
                        operation, time.perf_counter() - started, fingerprint=fingerprint,
                        user_id=user_id, ok=ok)

    async def _noting_broken_connections(self, work: Awaitable[T]) -> T:
        """A connection that broke under a statement (every backend terminated, a restart)
        says its idle siblings may be dead too: they are checked at once, in the background,
        so the retry gets a live one instead of the next dead one (each failed checkout would
        also cost the pool's own 1 s backoff)."""
        try:
            return await work
        except psycopg.Error as e:
            if is_connection_error(e):
                suspect_every_connection()
                if self._checking is None or self._checking.done():
                    self._checking = asyncio.get_running_loop().create_task(self._pool.check())
            raise

    def _share(self, user_id: UserId | None) -> contextlib.AbstractAsyncContextManager[None]:
        if self._user_limit is None or user_id is None:
            return contextlib.nullcontext()
        return self._user_limit.slot(user_id)

    # ------------------------------------------------------------------ connections

    def _outage_deadline(self, outage_wait: float) -> float | None:
        """While the database refuses connections: `outage_wait` after it began to (so every
        operation of a call, and every call, fails at once once the outage outlasted it)."""
        down_since = self.reachability.down_since
        return None if down_since is None else down_since + outage_wait

    async def _acquire(self, pool: AsyncConnectionPool[AsyncConn], outage_wait: float
                       ) -> AsyncConn:
        """A pooled connection. The pool's own timeout bounds the wait when it is merely busy;
        once the database refuses connections (now, or while this call waits) the wait ends
        `outage_wait` after the refusals began, with SERVICE_UNAVAILABLE. (time.monotonic is
        asyncio's clock.)"""
        try:
            async with asyncio.timeout_at(self._outage_deadline(outage_wait)) as scope:
                entry = (scope, outage_wait)
                self._waiting.add(entry)
                try:
                    return await self._live_connection(pool)
                finally:
                    self._waiting.discard(entry)
        except TimeoutError:
            down = self.reachability.down_since
            for_s = 0.0 if down is None else time.monotonic() - down
            raise ServiceUnavailableError(
                f"{UNREACHABLE} (no connection for {for_s:.1f} s: it may be restarting or"
                " failing over)", retry_after_s=2,
            ) from None

    async def _live_connection(self, pool: AsyncConnectionPool[AsyncConn]) -> AsyncConn:
        """A pooled connection that answers (see pool.answers); a dead one goes back to the
        pool, which replaces it, and the next is taken at once. The pool's timeout bounds
        each wait for a connection."""
        for _ in range(pool.max_size):
            conn = await pool.getconn()
            if await answers(conn):
                return conn
            await pool.putconn(conn)
        return await pool.getconn()  # every one was dead: the next is a new one, or fails

    def _outage_began(self) -> None:
        """The pool's connection attempts are refused: calls waiting for a connection stop
        waiting at their outage deadline, and the idle connections (dead with the server) are
        replaced, so that the first call after the database is back gets a live one."""
        for scope, outage_wait in list(self._waiting):
            deadline = self._outage_deadline(outage_wait)
            current = scope.when()
            if deadline is not None and (current is None or current > deadline):
                scope.reschedule(deadline)
        for pool in self._pools():
            task = asyncio.get_running_loop().create_task(pool.drain())
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)

    @asynccontextmanager
    async def _connection(self, pool: AsyncConnectionPool[AsyncConn], outage_wait: float
                          ) -> AsyncIterator[AsyncConn]:
        """A pooled connection that goes back to the pool through `finish`, in the background:
        the request's answer does not wait for the round trip that ends its transaction, and
        the connection is handed out again only once that round trip is over."""
        conn = await self._acquire(pool, outage_wait)
        try:
            yield conn
        finally:
            task = asyncio.get_running_loop().create_task(self._finish_and_return(pool, conn))
            self._returning.add(task)
            task.add_done_callback(self._returning.discard)

    async def _finish_and_return(self, pool: AsyncConnectionPool[AsyncConn], conn: AsyncConn
                                 ) -> None:
        try:
            await self.finish(conn)
        finally:
            try:
                await pool.putconn(conn)
            except Exception:  # nobody awaits this task: say it here, not at garbage collection
                log.warning("could not return a connection to the pool", exc_info=True)

    async def open(self, *, timeout_s: float = 30.0) -> None:
        """Open the pools (at start: the database must answer within `timeout_s`)."""
        for pool in self._pools():
            await pool.open(wait=True, timeout=timeout_s)

    async def close(self) -> None:
        """Wait for the connections of finished requests, then close the pools."""
        self.reachability.closed = True  # reconnection attempts stop
        await self.drain()
        for pool in self._pools():
            await pool.close()

    def _pools(self) -> list[AsyncConnectionPool[AsyncConn]]:
        return [self._pool] if self._audit_pool is self._pool else [self._pool, self._audit_pool]

    async def drain(self) -> None:
        """Wait until every connection a finished request used is back in the pool (before
        the pool closes)."""
        while self._returning:
            await asyncio.gather(*self._returning, return_exceptions=True)

    # ------------------------------------------------------------------ sessions

    @asynccontextmanager
    async def session(self, user_id: UserId | None, *, outage_wait_s: float | None = None
                      ) -> AsyncIterator[AsyncConn]:
        wait = self._outage_wait_s if outage_wait_s is None else outage_wait_s
        async with self._connection(self._pool, wait) as conn:
            await round_trip(conn, self._opening(conn, user_id, self.statement_timeout_s))
            yield conn

    @asynccontextmanager
    async def result_session(
        self, user_id: UserId | None, statement: str, *, outage_wait_s: float | None = None,
    ) -> AsyncIterator[ResultRows]:
        """A session that runs one statement (model-written, already validated; the caller
        bounds its rows and bytes): BEGIN, the signed context and the statement go to the
        server in one round trip (pipeline mode, hence the extended protocol, which refuses a
        second statement). Yields the statement's columns and rows.

        One statement with its own LIMIT, not DECLARE ... CURSOR and FETCH: the same rows in
        one statement fewer, which cost ~4 % of a cache-off call's server CPU in psycopg and
        PostgreSQL's own portal work."""
        wait = self._outage_wait_s if outage_wait_s is None else outage_wait_s
        async with self._connection(self._pool, wait) as conn:
            yield await round_trip(
                conn, [*self._opening(conn, user_id, self.model_sql_timeout_s),
                       Statement(statement)],
                then=self._end_of_request(TransactionStatus.INTRANS))

    def _opening(self, conn: AsyncConn, user_id: UserId | None, statement_timeout_s: float
                 ) -> list[Statement]:
        """BEGIN READ ONLY and the caller's signed context, with the statement, lock and
        idle-in-transaction timeouts (all local to the transaction)."""
        backend, propagate = context_binding(conn)
        context = self._signer.sign("query", "" if user_id is None else str(user_id), backend)
        timeout_ms = int(statement_timeout_s * 1000)
        opening = [_BEGIN_READ_ONLY, Statement(_SET_QUERY_CONTEXT, (
            context, str(timeout_ms), self._lock_timeout_ms, str(timeout_ms + 5000)))]
        if propagate:
            opening.append(_PROPAGATE_CONTEXT)
        return opening

    @asynccontextmanager
    async def audit_session(self, *, outage_wait_s: float | None = None
                            ) -> AsyncIterator[AsyncConn]:
        """A short read-write transaction for the audit writer, committed when the block ends
        without an error."""
        wait = self._outage_wait_s if outage_wait_s is None else outage_wait_s
        async with self._connection(self._audit_pool, wait) as conn:
            backend, propagate = context_binding(conn)
            context = self._signer.sign("audit", "0", backend)
            await round_trip(conn, [_BEGIN_READ_WRITE, Statement(_SET_AUDIT_CONTEXT, (context,)),
                                    *([_PROPAGATE_CONTEXT] if propagate else [])])
            yield conn
            await conn.execute("COMMIT")

    # What ends every request, in the pipeline segments after its own (round_trip's `then`):
    # ROLLBACK, then the session's reset (DISCARD ALL: it may not run inside a transaction
    # block, hence a segment of its own). The pool's reset is then skipped (see pool._reset).
    SESSION_RESET = "DISCARD ALL"

    def _end_of_request(self, status: int) -> list[list[Statement]]:
        reset = [Statement(self.SESSION_RESET)]
        return [[_ROLLBACK], reset] if status in _OPEN else [reset]

    async def finish(self, conn: AsyncConn) -> None:
        """The request is over: roll back whatever is open and discard the session state
        (sent with the request's own statements by result_session: then only their results
        are read here). A broken connection is left to the pool, which discards it."""
        if conn.closed:
            return
        try:
            if not unsettled(conn):
                status = conn.info.transaction_status
                if status not in (*_OPEN, TransactionStatus.IDLE):
                    return
                # all in later segments (the first is empty): settle reads every result
                # before it raises the first error, so the connection leaves pipeline mode
                await round_trip(conn, (), then=self._end_of_request(status))
            await settle(conn)
        except psycopg.Error:
            return  # the pool's reset tries DISCARD ALL, or discards the connection
        if conn.info.transaction_status == TransactionStatus.IDLE:
            mark_finished(conn)
