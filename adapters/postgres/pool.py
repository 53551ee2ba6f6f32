"""The connection pool of the query role: its reset and check, reconnection while the
database is down, and the retry of read-only work on a broken connection."""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
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


async def configure_query_connection(conn: AsyncConn) -> None:
    # Autocommit so the pool's reset can run DISCARD ALL outside a transaction; every request
    # opens its own explicit transaction anyway.
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
