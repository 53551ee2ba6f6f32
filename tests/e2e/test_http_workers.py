"""`serve --transport http --workers 2`, the real command: new connections are handed to the
workers in turn (a burst of keep-alive connections splits evenly, where one shared listening
socket left one worker idle), a worker that dies is replaced without dropping a connection,
and SIGTERM lets every worker finish its call in flight. And a port in use is one line, exit 2,
before anything starts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest

from adapters.auth.jwt_tokens import mint_token
from ports.database_server import DatabaseEndpoints
from tests.support.http_server import REPO_ROOT, free_port, start_serve_http, wait_healthy

pytestmark = pytest.mark.e2e

HEAD_OFFICE = "5ba86bc5-6c7d-4d93-9337-3175bdc44ad8"
SECRET = "http-workers-secret-that-is-long-enough-for-hs256"
SLOW_SQL = "SELECT count(*) AS n FROM generate_series(1, 15000000) AS g"
SERVING = "is serving"  # the supervisor's log line when a worker takes connections


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    stderr_path: Path

    def log(self) -> str:
        return self.stderr_path.read_text()

    def wait_for_log(self, text: str, count: int, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.log().count(text) < count:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"never {count} x {text!r}:\n{self.log()}"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def served(database: DatabaseEndpoints, data_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("workers")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_LOG_LEVEL="INFO",
               ZAVA_POOL_MIN="1", ZAVA_POOL_MAX="2", TMPDIR=str(tmp_path))
    running = Served(start_serve_http(port, env, tmp_path / "serve.stderr", "--workers", "2"),
                     port, tmp_path / "serve.stderr")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout_s=180)
        running.wait_for_log(SERVING, 2)
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.process.communicate()


class KeepAliveClient:
    """One HTTP/1.1 connection, kept open, posting tool calls."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def connect(self) -> KeepAliveClient:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    @property
    def local_port(self) -> int:
        return int(self.writer.get_extra_info("sockname")[1])

    async def call(self, name: str = "whoami", arguments: dict[str, object] | None = None
                   ) -> dict[str, object]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": name, "arguments": arguments or {}}}).encode()
        self.writer.write((
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            f"Authorization: Bearer {mint_token(SECRET, HEAD_OFFICE, 300)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        answer: dict[str, object] = json.loads(await self.reader.readexactly(length))
        return answer

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def burst(port: int, connections: int) -> dict[int, int]:
    """Open `connections` at once, call a tool twice on each (keep-alive), and say which
    process holds the server end of each: {client port: pid}."""
    clients = await asyncio.gather(*(KeepAliveClient(port).connect() for _ in range(connections)))
    try:
        for _ in range(2):
            answers = await asyncio.gather(*(client.call() for client in clients))
            assert all(answer["result"]["isError"] is False for answer in answers)  # type: ignore[index]
        return server_side_owners(port, {client.local_port for client in clients})
    finally:
        await asyncio.gather(*(client.close() for client in clients))


def server_side_owners(server_port: int, client_ports: set[int]) -> dict[int, int]:
    """For each client port, the pid whose file table holds the accepted socket (from /proc).

    One pass over /proc is not a snapshot: /proc/net/tcp is read a page at a time while other
    sockets come and go (an entry can slip between pages), and a process's fd can close between
    listing its directory and reading the link. The connections asked about stay open and keep
    their owner, so passes are merged until every one is found."""
    owners: dict[int, int] = {}
    for _ in range(20):
        owners.update(_owners_in_one_pass(server_port, client_ports))
        if set(owners) == client_ports:
            return owners
        time.sleep(0.05)
    raise AssertionError(f"no owner found for some connections: {owners}, {client_ports}")


def _owners_in_one_pass(server_port: int, client_ports: set[int]) -> dict[int, int]:
    inodes: dict[str, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port in client_ports:
            inodes[f"socket:[{fields[9]}]"] = remote_port
    owners = {}
    for pid_dir in Path("/proc").glob("[0-9]*/fd"):
        try:
            fds = list(pid_dir.iterdir())
        except OSError:  # a process that ended meanwhile, or not ours to read
            continue
        for fd in fds:
            try:
                with_port = inodes.get(os.readlink(fd))
            except OSError:  # closed since the listing: the process's other fds still count
                continue
            if with_port is not None:
                owners[with_port] = int(pid_dir.parent.name)
    return owners


def test_a_burst_of_8_keep_alive_connections_is_split_evenly(served: Served) -> None:
    per_worker = Counter(asyncio.run(burst(served.port, 8)).values())
    assert served.process.pid not in per_worker  # the supervisor keeps none
    assert sorted(per_worker.values()) == [4, 4], per_worker


def test_a_worker_that_dies_is_replaced_without_dropping_a_connection(served: Served) -> None:
    victim, survivor = sorted(set(asyncio.run(burst(served.port, 2)).values()))
    os.kill(victim, signal.SIGKILL)
    served.wait_for_log("died", 1)  # (what was in flight to it in that instant is lost)
    # until its replacement is ready, every new connection goes to the survivor
    assert set(asyncio.run(burst(served.port, 4)).values()) == {survivor}
    served.wait_for_log(SERVING, 3)
    per_worker = Counter(asyncio.run(burst(served.port, 8)).values())
    assert survivor in per_worker
    assert victim not in per_worker
    assert sorted(per_worker.values()) == [4, 4], per_worker


def test_sigterm_lets_each_worker_finish_its_call_in_flight(served: Served) -> None:
    """Runs last in this module: it stops the server."""
    async def slow_calls() -> list[dict[str, object]]:
        clients = await asyncio.gather(*(KeepAliveClient(served.port).connect()
                                         for _ in range(2)))
        calls = [asyncio.ensure_future(c.call("execute_sales_query",
                                              {"postgresql_query": SLOW_SQL}))
                 for c in clients]
        await asyncio.sleep(0.5)  # both queries are running, one per worker
        assert len(set(server_side_owners(served.port,
                                          {c.local_port for c in clients}).values())) == 2
        served.process.send_signal(signal.SIGTERM)
        try:
            return list(await asyncio.gather(*calls))
        finally:
            await asyncio.gather(*(client.close() for client in clients))

    answers = asyncio.run(slow_calls())
    assert [a["result"]["structuredContent"]["rows"] for a in answers  # type: ignore[index]
            ] == [[[15000000]]] * 2
    out, _ = served.process.communicate(timeout=60)
    assert out == b""
    assert served.process.returncode in (0, 128 + signal.SIGTERM)
    assert "Traceback" not in served.log()
    with pytest.raises(httpx2.TransportError):
        httpx2.get(f"http://127.0.0.1:{served.port}/health", timeout=2)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_and_exit_2_before_anything_starts(
    tmp_path: Path, workers: str
) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--transport", "http",
             "--port", str(port), "--workers", workers],
            cwd=REPO_ROOT, env=env, capture_output=True, timeout=120,
        )
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode() == (
        f"zava-mcp: error: port {port} is already in use on 127.0.0.1: stop the server using"
        " it or pass another --port\n")
    assert not data_dir.exists()  # no database started, no secret written, no model loaded

