"""Benchmark: what a tool call costs on top of the database.

`execute_sales_query` with a one-row query (`SELECT 1 AS one`) over streamable HTTP (stateless
JSON, bearer JWT, the real `zava-mcp serve --transport http` in its own process) at 1, 8, 32
and 64 concurrent clients: throughput, p50, p99, errors and the server's CPU per call — versus
the same SQL through a bare psycopg pool in this process, in the same run.

Runs the server with the result cache off (every call reaches PostgreSQL: the tool overhead
proper), on (every call after the first is a cache hit), and off with `--workers 2`; each is
called in both protocol eras (2025-11-25 handshake-era POSTs, as Claude Desktop, VS Code and
the Inspector send, and 2026-07-28 single-exchange requests, as the SDK 2.x `Client` sends).
The load generator is a minimal keep-alive HTTP/1.1 client on asyncio (one connection per
client), so it costs little of the two cores it shares with the server and PostgreSQL.

    .venv/bin/python bench/tool_overhead.py [--seconds 4] [--clients 1,8,32,64]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx2
from _common import RESULTS, ROOT, bench_database, machine_description, machine_markdown
from psycopg_pool import AsyncConnectionPool

from adapters.auth.jwt_tokens import mint_token
from adapters.demodata.reference import USERS

SQL = "SELECT 1 AS one"
SECRET = "tool-overhead-benchmark-secret-long-enough-for-hs256"
HEAD_OFFICE = str(USERS[-1].user_id)
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Era:
    """How a client of one protocol era posts the call: the 2025-11-25 (handshake era)
    stateless POST that Claude Desktop, VS Code and the Inspector send, or the 2026-07-28
    single-exchange envelope the SDK 2.x `Client` sends (`_meta` envelope and routing
    headers; the SDK serves it without a per-request transport)."""

    name: str
    headers: str
    body: bytes


ARGUMENTS = {"postgresql_query": SQL, "max_rows": 1}
ERAS = {
    "2025-11-25": Era("2025-11-25", "MCP-Protocol-Version: 2025-11-25\r\n", json.dumps({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "execute_sales_query", "arguments": ARGUMENTS},
    }).encode()),
    "2026-07-28": Era(
        "2026-07-28",
        "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n"
        "Mcp-Name: execute_sales_query\r\n",
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "execute_sales_query", "arguments": ARGUMENTS,
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}},
        }}).encode(),
    ),
}


@dataclass(frozen=True)
class Level:
    path: str
    clients: int
    calls: int
    errors: int
    seconds: float
    calls_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_call: float | None
    # The rest of the machine's CPU per call: the database's processes and this load
    # generator's. Their sum with the server's bounds the calls/s the 2 cores can give.
    postgres_cpu_ms_per_call: float | None = None
    client_cpu_ms_per_call: float | None = None

    @property
    def ceiling_calls_per_s(self) -> float | None:
        """What the cores could serve if all of them were busy with calls at this CPU cost."""
        parts = (self.server_cpu_ms_per_call, self.postgres_cpu_ms_per_call,
                 self.client_cpu_ms_per_call)
        if any(p is None for p in parts):
            return None
        return (os.cpu_count() or 1) * 1000 / sum(p for p in parts if p is not None)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its worker processes (from /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    total = sum(int(x) for x in fields[11:13]) / CLK_TCK
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else []:
        with contextlib.suppress(OSError):
            total += cpu_seconds(int(child))
    return total


class HttpClient:
    """One keep-alive HTTP/1.1 connection posting the same JSON-RPC request."""

    def __init__(self, port: int, token: str, era: Era) -> None:
        self._port = port
        self._request = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            f"{era.headers}Authorization: Bearer {token}\r\n"
            f"Content-Length: {len(era.body)}\r\n\r\n"
        ).encode() + era.body
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def call(self) -> bool:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self._port)
        assert self._reader is not None
        self._writer.write(self._request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await self._reader.readexactly(length)
        return head.startswith(b"HTTP/1.1 200") and b'"isError":false' in body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()


async def drive(call_factory: list, seconds: float) -> tuple[list[float], int, float]:  # type: ignore[type-arg]
    """Each client calls in a loop for `seconds`; returns latencies (ms), errors, elapsed."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def loop(call) -> None:  # type: ignore[no-untyped-def]
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                ok = await call()
            except Exception:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            if not ok:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in call_factory))
    return latencies, errors, time.perf_counter() - started


def postmaster_pid(data_dir: Path) -> int:
    """The bench database's postmaster (its backends are its children)."""
    pgdata = data_dir / "pgdata"
    return int((pgdata / "postmaster.pid").read_text().split()[0])


@dataclass(frozen=True)
class CpuUsed:
    """CPU seconds over one level: the server's (None for the bare pool), PostgreSQL's (None
    when its postmaster is not known) and this load generator's."""

    server: float | None
    database: float | None
    client: float


@dataclass
class CpuMeter:
    """Measures CpuUsed from `start()` to `used()`."""

    server_pid: int | None
    postgres_pid: int | None = None
    _started: tuple[float | None, float | None, float] = (None, None, 0.0)

    def _read(self) -> tuple[float | None, float | None, float]:
        return (None if self.server_pid is None else cpu_seconds(self.server_pid),
                None if self.postgres_pid is None else cpu_seconds(self.postgres_pid),
                time.process_time())

    def start(self) -> None:
        self._started = self._read()

    def used(self) -> CpuUsed:
        (server, database, client), now = self._started, self._read()
        return CpuUsed(None if server is None or now[0] is None else now[0] - server,
                       None if database is None or now[1] is None else now[1] - database,
                       now[2] - client)


def per_call_ms(seconds: float | None, calls: int) -> float | None:
    return None if seconds is None or not calls else round(seconds * 1000 / calls, 3)


def level(path: str, clients: int, latencies: list[float], errors: int, elapsed: float,
          cpu: CpuUsed) -> Level:
    calls = len(latencies)
    return Level(
        path=path, clients=clients, calls=calls, errors=errors,
        seconds=round(elapsed, 2), calls_per_s=round(calls / elapsed, 1),
        p50_ms=round(percentile(latencies, 50), 3), p99_ms=round(percentile(latencies, 99), 3),
        server_cpu_ms_per_call=per_call_ms(cpu.server, calls),
        postgres_cpu_ms_per_call=per_call_ms(cpu.database, calls),
        client_cpu_ms_per_call=per_call_ms(cpu.client, calls),
    )


async def bare_pool(query_url: str, clients: list[int], seconds: float,
                    postgres_pid: int | None = None) -> list[Level]:
    results = []
    meter = CpuMeter(None, postgres_pid)
    async with AsyncConnectionPool(query_url, min_size=10, max_size=10, open=False) as pool:
        await pool.wait()
        for n in clients:
            async def call() -> bool:
                async with pool.connection() as conn:
                    cur = await conn.execute(SQL)
                    return await cur.fetchone() == (1,)

            await drive([call] * n, 0.5)  # warm-up
            meter.start()
            latencies, errors, elapsed = await drive([call] * n, seconds)
            results.append(level("bare psycopg pool", n, latencies, errors, elapsed,
                                 meter.used()))
            print(results[-1], file=sys.stderr)
    return results


def wait_until_idle(pid: int, timeout_s: float = 180.0) -> None:
    """Until the server (all its workers) uses under 5 % of a core for a whole second."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return


def start_server(data_dir: Path, port: int, cache_ttl_s: float,
                 workers: int = 1, checkout: Path = ROOT) -> subprocess.Popen[bytes]:
    """`zava-mcp serve --transport http` of `checkout` (this one, or another revision's
    worktree: `python -m` imports the packages of its working directory)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_LOG_LEVEL="WARNING",
               ZAVA_CACHE_TTL_S=str(cache_ttl_s), ZAVA_POOL_MIN="10", ZAVA_POOL_MAX="10")
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--transport", "http",
         "--port", str(port), "--workers", str(workers)],
        cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while True:
        try:
            # "ok" only once the embedding model has loaded too: its load would eat the CPU
            # of the first measurements
            health = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=10)
            if health.status_code == 200 and health.json()["status"] == "ok":
                wait_until_idle(process.pid)  # every worker has loaded its embedding model
                return process
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not become healthy")
        time.sleep(0.2)


async def tool_calls(port: int, pid: int, path: str, clients: list[int],
                     seconds: float, era: Era, postgres_pid: int | None = None) -> list[Level]:
    token = mint_token(SECRET, HEAD_OFFICE, 3600)
    meter = CpuMeter(pid, postgres_pid)
    results = []
    for n in clients:
        http = [HttpClient(port, token, era) for _ in range(n)]
        await drive([c.call for c in http], 0.5)  # warm-up: connections, JIT-free paths, cache
        meter.start()
        latencies, errors, elapsed = await drive([c.call for c in http], seconds)
        cpu = meter.used()
        for c in http:
            await c.close()
        results.append(level(path, n, latencies, errors, elapsed, cpu))
        print(results[-1], file=sys.stderr)
    return results


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def markdown(levels: list[Level], machine: dict[str, object], seconds: float) -> str:
    bare = {lv.clients: lv for lv in levels if lv.path == "bare psycopg pool"}
    rows = []
    for lv in levels:
        added = "" if lv.path == "bare psycopg pool" else \
            f"{lv.p50_ms - bare[lv.clients].p50_ms:+.2f}"
        cpu = [_ms(lv.server_cpu_ms_per_call), _ms(lv.postgres_cpu_ms_per_call),
               _ms(lv.client_cpu_ms_per_call)]
        ceiling = lv.ceiling_calls_per_s
        rows.append(f"| {lv.path} | {lv.clients} | {lv.calls_per_s:,.0f} | {lv.p50_ms:.2f} |"
                    f" {added} | {lv.p99_ms:.2f} | {lv.errors} | {' | '.join(cpu)} |"
                    f" {'' if ceiling is None else f'{ceiling:,.0f}'} |")
    return "\n".join([
        "# Tool-call overhead",
        "",
        f"Generated by `bench/tool_overhead.py`: `execute_sales_query` with `{SQL}` over",
        "streamable HTTP (stateless JSON, bearer JWT, one `zava-mcp serve --transport http`",
        f"process, pool of 10) for {seconds:g} s per level, against the same SQL through a bare",
        "psycopg pool of 10 in the load generator's process. Cache off: every call reaches",
        "PostgreSQL (guard, RLS context, the size-capped statement, audit, metrics). Cache on:",
        "all but the first call are cache hits. The load generator shares the 2 cores.",
        "Server log level WARNING (at INFO each call also writes its one log line).",
        "Each server is called in both protocol eras: 2025-11-25 (the stateless POST of",
        "handshake-era clients: Claude Desktop, VS Code, the Inspector) and 2026-07-28 (the",
        "single-exchange envelope the SDK 2.x `Client` sends); both are served by the SDK's",
        "single-exchange driver, without a per-request transport.",
        "",
        "CPU per call (ms, from /proc): the server's processes, PostgreSQL's (postmaster and",
        "backends) and this load generator's. The machine's cores divided by their sum is the",
        "ceiling on calls/s at that cost, whatever the concurrency: the three share 2 cores.",
        "",
        "| path | clients | calls/s | p50 ms | p50 vs bare | p99 ms | errors |"
        " server CPU | PostgreSQL CPU | load generator CPU | ceiling calls/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        machine_markdown(machine),
        "",
    ])


async def main_async(args: argparse.Namespace) -> None:
    clients = [int(c) for c in args.clients.split(",")]
    eras = [ERAS[e] for e in args.eras.split(",")]
    endpoints = bench_database("small")
    data_dir = ROOT / ".data" / "bench-small"
    postgres = postmaster_pid(data_dir)
    levels = await bare_pool(endpoints.query_url, clients, args.seconds, postgres)
    runs = [("tool call, cache off", 0.0, 1), ("tool call, cache hit", 300.0, 1)]
    if args.workers > 1:
        runs.append((f"tool call, cache off, {args.workers} workers", 0.0, args.workers))
    for path, ttl, workers in runs:
        port = free_port()
        server = start_server(data_dir, port, ttl, workers)
        try:
            for era in eras:
                levels += await tool_calls(port, server.pid, f"{path}, {era.name}", clients,
                                           args.seconds, era, postgres)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    machine = machine_description()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tool_overhead.json").write_text(json.dumps(
        {"machine": machine, "sql": SQL, "seconds_per_level": args.seconds,
         "levels": [{**asdict(lv), "ceiling_calls_per_s": lv.ceiling_calls_per_s}
                    for lv in levels]}, indent=2) + "\n")
    (RESULTS / "tool_overhead.md").write_text(markdown(levels, machine, args.seconds))
    print((RESULTS / "tool_overhead.md").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--clients", default="1,8,32,64")
    parser.add_argument("--eras", default=",".join(ERAS),
                        help=f"protocol eras of the calls, of {', '.join(ERAS)}")
    parser.add_argument("--workers", type=int, default=2,
                        help="also run cache off with this many server processes (1 = skip)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
