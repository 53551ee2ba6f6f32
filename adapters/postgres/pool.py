"""The connection pool of the query role: its reset and check, reconnection while the
database is down, and the retry of read-only work on a broken connection."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from adapters.postgres.errors import is_connection_error
from adapters.postgres.request_context import BINDING_QUERY, GLOBAL_PID_QUERY

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


# What each connection's signed contexts are bound to, asked once as the pool opens it: the
# backend pid on a single PostgreSQL; on a Citus cluster the global pid, with the context to be
# propagated to the workers (access.propagate_context(), sql/030). The database's context check
# (access.verified_context) decides which: the server signs what that function compares.
_CONTEXT_BINDING: weakref.WeakKeyDictionary[AsyncConn, tuple[int, bool]] = (
    weakref.WeakKeyDictionary()
)
# When each connection was opened (QueryPool keeps to the pool's max_lifetime and drain()).
_OPENED_AT: weakref.WeakKeyDictionary[AsyncConn, float] = weakref.WeakKeyDictionary()


async def configure_query_connection(conn: AsyncConn) -> None:
    # Autocommit so the pool's reset can run DISCARD ALL outside a transaction; every request
    # opens its own explicit transaction anyway.
    _OPENED_AT[conn] = time.monotonic()
    await conn.set_autocommit(True)
    cur = await conn.execute(BINDING_QUERY)
    pid, on_citus = await cur.fetchone() or (conn.info.backend_pid, False)
    if on_citus:
        cur = await conn.execute(GLOBAL_PID_QUERY)
        (pid,) = await cur.fetchone() or (pid,)
    _CONTEXT_BINDING[conn] = (int(pid), bool(on_citus))


def context_binding(conn: AsyncConn) -> tuple[int, bool]:
    """(backend id to sign, propagate to Citus workers) for a pooled connection."""
    return _CONTEXT_BINDING.get(conn) or (conn.info.backend_pid, False)


# Connections that DatabaseGateway already rolled back and discarded as their request ended (one
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
        _DISCARDED.discard(conn)  # DatabaseGateway.finish ran DISCARD ALL just now
        return
    await conn.execute("DISCARD ALL")
    _ANSWERED_AT[conn] = time.monotonic()


async def answers(conn: AsyncConn) -> bool:
    """The check on checkout (DatabaseGateway), skipped for a connection that answered within
    the last second (its reset just succeeded): a round trip saved on every busy request.
    Not the pool's own `check`: after a failed check the pool waits 1 s, then 2, 4, 8, 16 s
    within one checkout, so a run of dead connections (every backend terminated) made a call
    wait 30 s; the gateway hands a dead one back and takes the next at once."""
    answered = _ANSWERED_AT.get(conn)
    if answered is not None and time.monotonic() - answered < _RECENTLY_ANSWERED_S:
        return True
    try:
        await AsyncConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    _ANSWERED_AT[conn] = time.monotonic()
    return True


class Reachability:
    """Whether new connections to the database succeed, as the pool's own connection attempts
    find out (see reconnecting_connection): down from the first refused attempt until the
    next accepted one. The gateway fails calls fast while it is down; /health reads it."""

    def __init__(self) -> None:
        self.down_since: float | None = None
        self.last_error = ""
        self.closed = False  # the pool is closing: connection attempts stop
        self._on_down: list[Callable[[], None]] = []

    @property
    def unreachable(self) -> bool:
        return self.down_since is not None

    def on_down(self, callback: Callable[[], None]) -> None:
        self._on_down.append(callback)

    def connect_failed(self, error: BaseException) -> None:
        self.last_error = type(error).__name__
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("the database refuses connections (%s); calls fail fast until it is"
                        " back", _first_line(error))
            for callback in self._on_down:
                callback()

    def connected(self) -> None:
        if self.down_since is not None:
            log.warning("the database accepts connections again after %.1f s",
                        time.monotonic() - self.down_since)
            self.down_since = None


def _first_line(error: BaseException) -> str:
    # psycopg's connection messages name the socket or host; the log may say it, a client not
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# How often a connection attempt is repeated while the database refuses connections: the first
# call after it is back waits at most this long (plus the connection's own set-up).
RECONNECT_INTERVAL_S = 0.2


def reconnecting_connection(reachability: Reachability, *, give_up_s: float = 300.0
                            ) -> type[AsyncConn]:
    """The pool's connection class: a refused connection attempt is repeated every
    RECONNECT_INTERVAL_S instead of after the pool's own backoff (1 s, doubling: after an 8 s
    outage its next attempt came up to 8 s after the database was back), and every attempt
    tells `reachability` what it found."""

    class ReconnectingConnection(AsyncConnection[TupleRow]):
        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            give_up_at = time.monotonic() + give_up_s
            while True:
                try:
                    conn = await super().connect(conninfo, **kwargs)
                except psycopg.OperationalError as e:
                    reachability.connect_failed(e)
                    if reachability.closed or time.monotonic() > give_up_at:
                        raise
                    await asyncio.sleep(RECONNECT_INTERVAL_S)
                    continue
                reachability.connected()
                return conn

    return ReconnectingConnection



# How long a finished connection may wait on QueryPool's warm stack before it goes back to the
# pool proper (where max_idle, the pool's statistics and its checks apply to it again).
WARM_IDLE_S = 1.0


class QueryPool(AsyncConnectionPool[AsyncConn]):
    """psycopg_pool's pool with a stack of warm connections in front of it.

    A connection whose request ended cleanly (DatabaseGateway.finish rolled it back and ran
    DISCARD ALL: `mark_finished`) goes to the next client waiting for one, or onto the stack,
    and the next checkout takes the one returned last. psycopg's pool hands its connections out
    first in, first out and returns each through a task of its worker (to run the reset, here
    already done); measured in a tight loop of gateway queries, the stack saved ~0.1 ms of the
    server's CPU per call and ~0.08 ms of PostgreSQL's (the same few backends stay hot instead
    of all of them taking turns). The connections taken from the pool proper (`_held`: on the
    stack or out) never exceed max_size; a checkout that finds the stack empty and all of them
    out waits for the next one returned, within the pool's timeout. Everything else is the
    pool's:

    - a connection not cleanly finished, one past max_lifetime or opened before the last
      drain(), and any connection while the pool is closing go back through the pool, which
      resets, replaces or closes it (and a client waiting here then asks the pool);
    - while a checkout is inside the pool's own getconn (growing the pool, or waiting for a
      connection it is replacing), returned connections go to the pool too, which hands them
      to that client;
    - a connection unused on the stack for WARM_IDLE_S goes back to the pool, so its idle
      shrinking and statistics hold (available connections include the stack);
    - drain() and check() first hand the stack back to the pool; close() closes the stack's
      connections once the pool is closed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._warm: deque[tuple[AsyncConn, float]] = deque()  # (connection, since), newest last
        self._held = 0  # taken from the pool proper: on the stack or out
        self._clients: deque[asyncio.Future[AsyncConn | None]] = deque()  # waiting here
        self._in_pool_getconn = 0
        self._warm_drained_at = 0.0
        self._cooling: asyncio.TimerHandle | None = None
        self._handing_back: set[asyncio.Task[None]] = set()

    @property
    def warm(self) -> int:
        """How many finished connections wait on the stack."""
        return len(self._warm)

    async def getconn(self, timeout: float | None = None) -> AsyncConn:  # noqa: ASYNC109 (psycopg's signature)
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if self._warm and not self.closed:
                return self._handed_out(self._unstack(self._warm.pop()))
            if self._held < self.max_size or self.closed:
                return await self._from_pool(deadline)
            conn = await self._wait_for_return(deadline, timeout)
            if conn is not None:
                return self._handed_out(conn)
            # None: a connection went back to the pool proper; ask again

    @staticmethod
    def _handed_out(conn: AsyncConn) -> AsyncConn:
        _DISCARDED.discard(conn)  # its next return must be finished anew to be kept
        return conn

    async def _from_pool(self, deadline: float) -> AsyncConn:
        self._held += 1
        self._in_pool_getconn += 1
        try:
            return await super().getconn(max(0.0, deadline - time.monotonic()))
        except BaseException:
            self._held -= 1
            raise
        finally:
            self._in_pool_getconn -= 1

    async def _wait_for_return(self, deadline: float, patience_s: float) -> AsyncConn | None:
        """The next connection returned cleanly, or None when one went back to the pool proper
        instead (then ask the pool)."""
        client: asyncio.Future[AsyncConn | None] = asyncio.get_running_loop().create_future()
        self._clients.append(client)
        try:
            async with asyncio.timeout_at(deadline):
                return await client
        except BaseException as error:
            if client.done() and not client.cancelled():
                # handed over as this wait ended (timed out, cancelled): pass it on
                handed = client.result()
                if handed is None:
                    self._wake_one(None)
                else:
                    self._give(handed)
            else:
                self._clients.remove(client)
            if isinstance(error, TimeoutError):
                raise PoolTimeout(
                    f"couldn't get a connection after {patience_s:.2f} sec") from None
            raise

    async def putconn(self, conn: AsyncConn) -> None:
        if self._keeps_warm(conn):
            self._give(conn)
            return
        self._held -= 1
        await super().putconn(conn)
        self._wake_one(None)  # a client waiting here may now get one from the pool proper

    def _keeps_warm(self, conn: AsyncConn) -> bool:
        opened = _OPENED_AT.get(conn)
        return (
            not self._in_pool_getconn and not self.closed and conn in _DISCARDED
            and opened is not None and opened > self._warm_drained_at
            and time.monotonic() - opened < self.max_lifetime
            and not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE
        )

    def _give(self, conn: AsyncConn) -> None:
        """To the first client still waiting, or onto the stack."""
        if self._wake_one(conn):
            return
        now = time.monotonic()
        # as psycopg's pool does for its idle connections: no reference from the connection
        # back to the pool while it waits here, or an abandoned pool and its connections would
        # be a cycle, closed only by the garbage collector's full pass (their server slots
        # held until then)
        conn._pool = None
        self._warm.append((conn, now))
        if self._cooling is None:
            self._cooling = asyncio.get_running_loop().call_at(now + WARM_IDLE_S, self._cool)

    def _unstack(self, entry: tuple[AsyncConn, float]) -> AsyncConn:
        conn = entry[0]
        conn._pool = self  # putconn checks where it came from
        return conn

    def _wake_one(self, conn: AsyncConn | None) -> bool:
        while self._clients:
            client = self._clients.popleft()
            if not client.done():
                client.set_result(conn)
                return True
        return False

    def _cool(self) -> None:
        """Hand the connections unused for WARM_IDLE_S back to the pool (oldest first)."""
        self._cooling = None
        now = time.monotonic()
        while self._warm and now - self._warm[0][1] >= WARM_IDLE_S:
            self._hand_back(self._unstack(self._warm.popleft()))
        if self._warm:
            self._cooling = asyncio.get_running_loop().call_at(
                self._warm[0][1] + WARM_IDLE_S, self._cool)

    def _hand_back(self, conn: AsyncConn) -> None:
        self._held -= 1
        self._wake_one(None)
        task = asyncio.get_running_loop().create_task(super().putconn(conn))
        self._handing_back.add(task)
        task.add_done_callback(self._handing_back.discard)

    async def _hand_back_all(self) -> None:
        if self._cooling is not None:
            self._cooling.cancel()
            self._cooling = None
        while self._warm:
            self._held -= 1
            await super().putconn(self._unstack(self._warm.popleft()))
            self._wake_one(None)
        if self._handing_back:
            await asyncio.gather(*self._handing_back, return_exceptions=True)

    async def drain(self) -> None:
        self._warm_drained_at = time.monotonic()
        await self._hand_back_all()  # then the pool proper closes them with its idle ones
        await super().drain()

    async def check(self) -> None:
        await self._hand_back_all()
        await super().check()

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 (psycopg's signature)
        # The pool first, then the stack: handed to an open pool, a connection is returned by
        # a task of its workers, which the pool's closing then discards without closing the
        # connection; handed to a closed one, it is closed at once.
        await super().close(timeout)
        await self._hand_back_all()
        while self._wake_one(None):  # clients waiting here ask the closed pool: refused
            pass

    def get_stats(self) -> dict[str, int]:
        return self._with_warm(super().get_stats())

    def pop_stats(self) -> dict[str, int]:
        return self._with_warm(super().pop_stats())

    def _with_warm(self, stats: dict[str, int]) -> dict[str, int]:
        stats["pool_available"] = stats.get("pool_available", 0) + len(self._warm)
        stats["requests_waiting"] = stats.get("requests_waiting", 0) + len(self._clients)
        return stats


def make_query_pool(
    url: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    max_idle_s: float = 300.0,
    timeout_s: float = 30.0,
    work_mem: str = "16MB",
    reachability: Reachability | None = None,
    name: str = "zava-query",
) -> QueryPool:
    """One pool per process for the least-privileged query role. Not opened here: the entrypoint
    opens it explicitly (`await pool.open(wait=True)`) so no I/O happens at wiring time."""
    # search_path: the model writes unqualified retail names; pgvector's operators live in
    # public. standard_conforming_strings pinned on: the SQL guard's parser always reads string
    # literals that way, so the server must too.
    options = (
        f"-c default_transaction_read_only=on -c jit=off -c work_mem={work_mem}"
        " -c search_path=retail,public -c standard_conforming_strings=on"
    )
    return QueryPool(
        url,
        connection_class=reconnecting_connection(reachability or Reachability()),
        min_size=min_size,
        max_size=max_size,
        max_idle=max_idle_s,
        timeout=timeout_s,
        open=False,
        configure=configure_query_connection,
        reset=_reset,
        # prepare_threshold=None: psycopg never turns a repeated statement into a server-side
        # prepared statement, whose cached plan would keep the store list folded in for the
        # first caller (sql/009).
        # connect_timeout: an address that does not answer at all (a failover in progress, a
        # network partition) costs 2 s per attempt, not the kernel's TCP timeout.
        kwargs={"application_name": "zava-mcp", "options": options, "prepare_threshold": None,
                "connect_timeout": 2},
        name=name,
    )


def suspect_every_connection() -> None:
    """A connection broke under a statement: its siblings may be dead too (every backend
    terminated, a restart), so each is checked on its next checkout, however recent its
    last answer."""
    _ANSWERED_AT.clear()


def mark_finished(conn: AsyncConn) -> None:
    """The request on `conn` ended with its session state discarded (DatabaseGateway.finish):
    the pool's reset and its next check on checkout have nothing left to do."""
    _DISCARDED.add(conn)
    _ANSWERED_AT[conn] = time.monotonic()
