"""Database outages on the real embedded PostgreSQL, under concurrent load through the gateway.

While the database is down a call fails within about the gateway's outage wait with a clear,
temporary SERVICE_UNAVAILABLE, never after the pool's 30 s; once it accepts connections again
the first call succeeds within about a second, with no stuck pool. A fast restart and the
termination of every backend cost no error at all.

The bounds are generous (a loaded CI machine) yet fail on the old behaviour, where a call
waited for the 30 s pool timeout and the pool's reconnect backoff (1, 2, 4, 8 s) kept it
unusable for seconds after the database was back.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.embedded import QUERY_ROLE, EmbeddedPostgresServer
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn, Reachability, make_query_pool
from adapters.postgres.request_context import ContextSigner
from domain.errors import ServiceUnavailableError, ZavaError
from domain.model import UserId
from ports.database_server import DatabaseEndpoints
from tests.support.db_outage import DatabaseFaults, socket_dir
from tests.support.http_server import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

CLIENTS = 8


@dataclass
class Call:
    started: float
    ended: float
    error: ZavaError | None


@dataclass
class Load:
    """CLIENTS tasks calling through the gateway back to back, each call recorded."""

    gateway: DatabaseGateway
    calls: list[Call] = field(default_factory=list)
    wrong: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _client(self, n: int) -> None:
        user = UserId(USERS[n % len(USERS)].user_id)

        async def read(conn: AsyncConn) -> object:
            row = await (await conn.execute("SELECT %s::int", (n,))).fetchone()
            return None if row is None else row[0]

        while not self._stop.is_set():
            started = time.monotonic()
            try:
                answer = await self.gateway.read("outage_test", user, read)
                error = None
                self.wrong += answer != n
            except ZavaError as e:
                error = e
            self.calls.append(Call(started, time.monotonic(), error))
            if error is not None:
                await asyncio.sleep(0.05)  # a client that backs off a little

    async def run_while(self, fault: asyncio.Future[float]) -> float:
        clients = [asyncio.create_task(self._client(n)) for n in range(CLIENTS)]
        try:
            back = await fault
            await asyncio.sleep(2.0)  # and a while after
        finally:
            self._stop.set()
            await asyncio.gather(*clients)
        return back

    def errors(self) -> list[Call]:
        return [c for c in self.calls if c.error is not None]


@pytest.fixture
async def gateway(database: DatabaseEndpoints, signer: ContextSigner
                  ) -> AsyncIterator[DatabaseGateway]:
    reachability = Reachability()
    pool = make_query_pool(database.query_url, min_size=2, max_size=4, timeout_s=30,
                           reachability=reachability)
    gateway = DatabaseGateway(pool, signer, statement_timeout_s=5, reachability=reachability)
    await gateway.open()
    yield gateway
    await gateway.close()


@pytest.fixture
def faults(embedded_server: EmbeddedPostgresServer, database: DatabaseEndpoints
           ) -> DatabaseFaults:
    return DatabaseFaults(embedded_server.pgdata, database.admin_url)


async def test_an_outage_fails_fast_and_the_first_call_after_it_succeeds(
    gateway: DatabaseGateway, faults: DatabaseFaults,
) -> None:
    load = Load(gateway)
    seen_down: list[bool] = []
    stopped_at: list[float] = []

    async def outage() -> float:
        await asyncio.sleep(0.5)
        stopped = time.monotonic()
        stopped_at.append(stopped)
        await asyncio.to_thread(faults.stop)
        while time.monotonic() - stopped < 4.0:
            seen_down.append(gateway.reachability.unreachable)
            await asyncio.sleep(0.1)
        return await asyncio.to_thread(faults.start)

    try:
        back = await load.run_while(asyncio.ensure_future(outage()))
    finally:
        await asyncio.to_thread(faults.ensure_running)

    errors = load.errors()
    assert errors, "the outage was not seen"
    assert all(isinstance(c.error, ServiceUnavailableError) for c in errors)
    assert all("temporary" in c.error.message for c in errors if c.error)
    longest_failure = max(c.ended - c.started for c in errors)
    assert longest_failure < 5.0  # about 1.5 s; the old pool made every call wait 30 s
    assert any(seen_down)  # what /health reads: down, at once
    # once the outage outlasted the wait, a call fails at once (not after waiting again)
    late = sorted(c.ended - c.started for c in errors if c.started > stopped_at[0] + 2.5)
    assert late
    assert late[len(late) // 2] < 1.0  # the median: each used to wait the whole 1.5 s
    first_success = min(c.ended for c in load.calls if c.error is None and c.started >= back)
    assert first_success - back < 2.5  # about 0.2 s; the old backoff: up to 8 s after 4 s down
    assert not [c for c in load.calls if c.error is not None and c.started > back + 1.0]
    assert load.wrong == 0
    assert not gateway.reachability.unreachable


async def test_a_fast_restart_costs_no_error(gateway: DatabaseGateway, faults: DatabaseFaults
                                             ) -> None:
    load = Load(gateway)

    async def restart() -> float:
        await asyncio.sleep(0.5)
        return await asyncio.to_thread(faults.restart)

    try:
        await load.run_while(asyncio.ensure_future(restart()))
    finally:
        await asyncio.to_thread(faults.ensure_running)
    assert [str(c.error) for c in load.errors()] == []
    assert load.wrong == 0
    assert len(load.calls) > CLIENTS


async def test_terminating_every_backend_costs_no_error(
    gateway: DatabaseGateway, faults: DatabaseFaults,
) -> None:
    load = Load(gateway)

    async def terminate() -> float:
        killed = 0
        for _ in range(3):
            await asyncio.sleep(0.4)
            killed += await asyncio.to_thread(faults.terminate_backends)
        assert killed > 0
        return time.monotonic()

    await load.run_while(asyncio.ensure_future(terminate()))
    assert [str(c.error) for c in load.errors()] == []
    assert load.wrong == 0


class Forwarder:
    """A TCP address in front of the embedded server's unix socket that can go away: one
    database address of a DSN that lists two."""

    def __init__(self, socket_path: str) -> None:
        self._socket_path = socket_path
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = free_port()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """The address stops answering and every connection through it breaks."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self._socket_path)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def test_a_failover_to_the_next_address_of_the_dsn(
    database: DatabaseEndpoints, signer: ContextSigner,
) -> None:
    """The DSN lists two addresses; the first goes away and the second comes up a second
    later (a failover): calls fail fast meanwhile and succeed on the new address within about
    a second of it answering."""
    [socket_path] = [str(p) for p in Path(socket_dir(database.query_url)).glob(".s.PGSQL.*")
                     if not p.name.endswith(".lock")]
    primary, standby = Forwarder(socket_path), Forwarder(socket_path)
    await primary.start()
    dsn = (f"host=127.0.0.1,127.0.0.1 port={primary.port},{standby.port} dbname=zava"
           f" user={QUERY_ROLE}")
    reachability = Reachability()
    pool = make_query_pool(dsn, min_size=2, max_size=4, reachability=reachability)
    gateway = DatabaseGateway(pool, signer, statement_timeout_s=5, reachability=reachability)
    await gateway.open()
    load = Load(gateway)

    async def failover() -> float:
        await asyncio.sleep(0.5)
        await primary.stop()
        await asyncio.sleep(3.0)
        await standby.start()
        return time.monotonic()

    try:
        back = await load.run_while(asyncio.ensure_future(failover()))
    finally:
        await gateway.close()
        await standby.stop()
    errors = load.errors()
    assert errors
    assert all(isinstance(c.error, ServiceUnavailableError) for c in errors)
    assert max(c.ended - c.started for c in errors) < 5.0
    first_success = min(c.ended for c in load.calls if c.error is None and c.started >= back)
    assert first_success - back < 2.5
    assert load.wrong == 0
