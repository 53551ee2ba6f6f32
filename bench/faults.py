"""Benchmark: what each fault costs a loaded server, measured from outside.

The real `zava-mcp serve --transport http --workers 2` (cache on, Redis shared cache, pool of
10) on the small demo database, 8 clients calling `execute_sales_query` back to back, each
call a distinct one-row query whose answer is known (`SELECT <client> * 1000000 + <n>`: never
a cache hit, so every call reaches Redis and PostgreSQL, and a wrong answer is noticed).
Per fault: errors (by code), wrong answers, the longest call, the p50 before and during, the
recovery time (from the moment the dependency is back to the end of the last failed call) and
what /health answered during the fault, and how fast.

Faults, one after the other on the same server:
- outage: PostgreSQL stopped (pg_ctl stop -m fast) for --outage-s seconds, then started;
- fast restart: pg_ctl restart -m fast;
- backend kill: pg_terminate_backend of every server connection, three times;
- Redis kill: SIGKILL of redis-server, started again 3 s later (empty);
- worker kill: SIGKILL of one of the two worker processes.
Then fair sharing: a quiet user's p50 and errors alone, and while a noisy user saturates their
share with slow queries (16 clients, each query ~0.3 s).

    .venv/bin/python bench/faults.py [--outage-s 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx2
import psycopg
from _common import (
    RESULTS,
    ROOT,
    audit_rows,
    bench_database,
    machine_description,
    machine_markdown,
    median,
    wait_for_audit,
)

from adapters.auth.jwt_tokens import mint_token
from adapters.demodata.reference import USERS
from adapters.postgres.embedded import EmbeddedPostgresServer
from tests.support.db_outage import DatabaseFaults
from tests.support.http_server import free_port
from tests.support.redis_server import RedisServer

SECRET = "faults-benchmark-secret-that-is-long-enough-for-hs256"
HEAD_OFFICE = str(USERS[-1].user_id)
QUIET_USER = str(USERS[0].user_id)  # a store manager
CLIENTS = 8
SLOW_SQL = "SELECT count(*) + {n} FROM generate_series(1, 3000000)"
_ERROR_CODE = re.compile(rb"\b([A-Z_]{5,}_[A-Z_]+|RATE_LIMITED|MCP_ERROR)\b")


@dataclass
class Call:
    started: float
    ended: float
    ok: bool
    wrong: bool = False
    code: str | None = None


class Client:
    """One keep-alive HTTP/1.1 connection posting tools/call execute_sales_query."""

    def __init__(self, port: int, user: str) -> None:
        self._port = port
        self._token = mint_token(SECRET, user, 3600)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def query(self, sql: str) -> tuple[bool, bytes]:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "execute_sales_query",
            "arguments": {"postgresql_query": sql, "max_rows": 1}}}).encode()
        request = (
            f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            "MCP-Protocol-Version: 2025-11-25\r\n"
            f"Authorization: Bearer {self._token}\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        try:
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(
                    "127.0.0.1", self._port)
            assert self._reader is not None
            self._writer.write(request)
            async with asyncio.timeout(60):
                head = await self._reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                answer = await self._reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as e:
            await self.close()
            return False, f"TRANSPORT_ERROR {type(e).__name__}".encode()
        return head.startswith(b"HTTP/1.1 200") and b'"isError":false' in answer, answer

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        self._reader = self._writer = None


def code_of(answer: bytes) -> str:
    if answer.startswith(b"TRANSPORT_ERROR"):
        return "TRANSPORT_ERROR"
    match = _ERROR_CODE.search(answer)
    return match.group(1).decode() if match else "UNKNOWN"


@dataclass
class Load:
    port: int
    user: str
    clients: int
    sql: Callable[[int, int], tuple[str, int | None]]
    calls: list[Call] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def _client(self, number: int) -> None:
        client = Client(self.port, self.user)
        n = 0
        while not self._stop.is_set():
            n += 1
            sql, expected = self.sql(number, n)
            started = time.monotonic()
            ok, answer = await client.query(sql)
            call = Call(started, time.monotonic(), ok)
            if ok and expected is not None:
                call.wrong = f"[[{expected}]]".encode() not in answer.replace(b" ", b"")
            if not ok:
                call.code = code_of(answer)
                await asyncio.sleep(0.05)  # a client that backs off a little
            self.calls.append(call)
        await client.close()

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


def distinct_query(client: int, n: int) -> tuple[str, int]:
    value = client * 1_000_000 + n
    return f"SELECT {value}", value


def p50(calls: list[Call]) -> float:
    ok = sorted(c.ended - c.started for c in calls if c.ok)
    return round(ok[len(ok) // 2] * 1000, 2) if ok else float("nan")


@dataclass
class FaultResult:
    fault: str
    calls: int
    errors: int
    error_codes: dict[str, int]
    wrong_answers: int
    longest_call_s: float
    p50_before_ms: float
    p50_during_ms: float
    recovery_s: float
    health_during: str
    answered: int  # calls the server answered (a result or an error code), not lost in transit
    audited: int  # audit rows the run added, once the writer has flushed (and replayed its spool)


async def health(port: int) -> str:
    started = time.monotonic()
    try:
        async with httpx2.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/health", timeout=30)
        status = str(response.status_code)
    except httpx2.TransportError as e:
        status = type(e).__name__
    return f"{status} in {time.monotonic() - started:.2f} s"


async def measure(name: str, port: int, admin_url: str, fault: Callable[[], Awaitable[float]],
                  settle_s: float = 5.0) -> FaultResult:
    """Load for 3 s, the fault (returns when the dependency is back), load for settle_s; then
    the audit rows those calls added against the calls the server answered."""
    before = await asyncio.to_thread(audit_rows, admin_url)
    load = Load(port, HEAD_OFFICE, CLIENTS, distinct_query)
    load.start()
    await asyncio.sleep(3.0)
    began = time.monotonic()
    health_probe = asyncio.create_task(asyncio.sleep(0.7))
    health_answer = asyncio.ensure_future(_after(health_probe, health(port)))
    back = await fault()
    await asyncio.sleep(settle_s)
    await load.stop()
    during = [c for c in load.calls if c.started >= began]
    failed = [c for c in load.calls if not c.ok]
    last_failure = max((c.ended for c in failed), default=back)
    answered = sum(c.code != "TRANSPORT_ERROR" for c in load.calls)
    audited = await asyncio.to_thread(wait_for_audit, admin_url, before + answered, 20.0)
    result = FaultResult(
        fault=name, calls=len(during), errors=len(failed),
        error_codes=dict(Counter(c.code or "?" for c in failed)),
        wrong_answers=sum(c.wrong for c in load.calls),
        longest_call_s=round(max(c.ended - c.started for c in load.calls), 2),
        p50_before_ms=p50([c for c in load.calls if c.ended < began]),
        p50_during_ms=p50([c for c in during if c.started < back + settle_s]),
        recovery_s=round(max(0.0, last_failure - back), 2),
        health_during=await health_answer,
        answered=answered, audited=audited - before,
    )
    print(result, file=sys.stderr)
    return result


async def _after(first: Awaitable[object], then: Awaitable[str]) -> str:
    await first
    return await then


def worker_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def start_server(data_dir: Path, port: int, redis_url: str, log: Path | None,
                 **settings: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET,
               ZAVA_LOG_LEVEL=os.environ.get("FAULTS_LOG_LEVEL", "WARNING"),
               ZAVA_CACHE_TTL_S="300", ZAVA_REDIS_URL=redis_url, ZAVA_POOL_MIN="4",
               ZAVA_POOL_MAX="10", **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "serve", "--transport", "http",
         "--port", str(port), "--workers", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if log is None else log.open("w"),
    )
    deadline = time.monotonic() + 300
    while True:
        with contextlib.suppress(httpx2.TransportError):
            if httpx2.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200:
                return process
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not become healthy")
        time.sleep(0.3)


async def settled(port: int, timeout_s: float = 300.0) -> None:
    """Until /health says "ok" four times in a row, each on a new connection (so from both
    workers): a worker started again after the worker-kill fault loads its embedding model
    first, and that load must not be measured as the noisy user's doing."""
    deadline = time.monotonic() + timeout_s
    in_a_row = 0
    while in_a_row < 4:
        with contextlib.suppress(httpx2.TransportError):
            answer = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=10)
            ok = answer.status_code == 200 and answer.json()["status"] == "ok"
            in_a_row = in_a_row + 1 if ok else 0
        if time.monotonic() > deadline:
            raise RuntimeError("the server's workers did not all report ok")
        await asyncio.sleep(0.3)


async def bare_round_trips(url: str, stop: asyncio.Event) -> list[float]:
    """`SELECT 1` on a connection of its own every 20 ms until `stop`: how fast PostgreSQL
    itself answers a quiet client at that moment, the baseline of the quiet user's calls."""
    took: list[float] = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            started = time.monotonic()
            await conn.execute("SELECT 1")
            took.append(time.monotonic() - started)
            await asyncio.sleep(0.02)
    return took


async def fair_sharing(port: int, query_url: str, share: str) -> dict[str, object]:
    """A quiet user's p50 alone, then while a noisy user saturates their share, each with
    a bare connection's `SELECT 1` in the same seconds as its baseline."""
    def quiet_sql(client: int, n: int) -> tuple[str, int]:
        return distinct_query(client + 100, n)

    await settled(port)
    alone, bare_alone = await quiet_calls(port, query_url, quiet_sql)
    noisy = Load(port, HEAD_OFFICE, 16,
                 lambda client, n: (SLOW_SQL.format(n=client * 1_000_000 + n), None))
    noisy.start()
    await asyncio.sleep(2)
    shared, bare_shared = await quiet_calls(port, query_url, quiet_sql)
    await noisy.stop()
    result: dict[str, object] = {
        "share": share,
        "quiet_p50_alone_ms": p50(alone.calls),
        "quiet_p50_with_noisy_ms": p50(shared.calls),
        "bare_p50_alone_ms": median_ms(bare_alone),
        "bare_p50_with_noisy_ms": median_ms(bare_shared),
        "quiet_calls": len(shared.calls),
        "quiet_errors": sum(not c.ok for c in shared.calls),
        "noisy_calls": len(noisy.calls),
        "noisy_ok": sum(c.ok for c in noisy.calls),
        "noisy_error_codes": dict(Counter(c.code or "?" for c in noisy.calls if not c.ok)),
    }
    result["p50_ratio"] = round(
        float(result["quiet_p50_with_noisy_ms"]) / float(result["quiet_p50_alone_ms"]), 2)
    result["bare_p50_ratio"] = round(
        float(result["bare_p50_with_noisy_ms"]) / float(result["bare_p50_alone_ms"]), 2)
    print(result, file=sys.stderr)
    return result


async def quiet_calls(port: int, query_url: str, sql: Callable[[int, int], tuple[str, int]]
                      ) -> tuple[Load, list[float]]:
    """The quiet user's 2 clients for 5 s, and the bare connection's round trips meanwhile."""
    load = Load(port, QUIET_USER, 2, sql)
    stop = asyncio.Event()
    bare = asyncio.create_task(bare_round_trips(query_url, stop))
    load.start()
    await asyncio.sleep(5)
    await load.stop()
    stop.set()
    return load, await bare


def median_ms(took: list[float]) -> float:
    return round(median(took) * 1000, 2) if took else float("nan")


async def main_async(args: argparse.Namespace) -> None:
    endpoints = bench_database("small")
    data_dir = ROOT / ".data" / "bench-small"
    faults = DatabaseFaults(EmbeddedPostgresServer(data_dir).pgdata, endpoints.admin_url)
    redis = RedisServer(Path(tempfile.mkdtemp(prefix="zava-faults-redis-")))
    redis.start()
    port = free_port()
    server = start_server(data_dir, port, redis.url, args.server_log)
    results: list[FaultResult] = []
    try:
        async def outage() -> float:
            await asyncio.to_thread(faults.stop)
            await asyncio.sleep(args.outage_s)
            return await asyncio.to_thread(faults.start)

        async def fast_restart() -> float:
            return await asyncio.to_thread(faults.restart)

        async def backend_kill() -> float:
            for _ in range(3):
                await asyncio.to_thread(faults.terminate_backends)
                await asyncio.sleep(0.5)
            return time.monotonic()

        async def redis_kill() -> float:
            redis._process.kill()  # type: ignore[union-attr]  # SIGKILL
            await asyncio.sleep(3)
            await asyncio.to_thread(redis.start)
            return time.monotonic()

        async def worker_kill() -> float:
            os.kill(worker_pids(server.pid)[0], signal.SIGKILL)
            return time.monotonic()

        for name, fault in ((f"outage {args.outage_s:g} s", outage),
                            ("fast restart", fast_restart), ("backend kill x3", backend_kill),
                            ("Redis kill 3 s", redis_kill), ("worker kill", worker_kill)):
            if not args.only or name.split()[0].lower() in args.only:
                results.append(await measure(name, port, endpoints.admin_url, fault))
        if args.only:
            return  # a partial run (debugging): nothing written
        sharing = [await fair_sharing(port, endpoints.query_url,
                                      "7 per worker (default for a pool of 10)")]
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        server = start_server(data_dir, port := free_port(), redis.url, args.server_log,
                              ZAVA_USER_MAX_IN_FLIGHT="1")
        sharing.append(await fair_sharing(port, endpoints.query_url,
                                          "1 per worker (ZAVA_USER_MAX_IN_FLIGHT=1)"))
    finally:
        faults.ensure_running()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        redis.stop()
    machine = machine_description()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faults.json").write_text(json.dumps(
        {"machine": machine, "clients": CLIENTS, "faults": [asdict(r) for r in results],
         "fair_sharing": sharing}, indent=2) + "\n")
    (RESULTS / "faults.md").write_text(markdown(results, sharing, machine))
    print((RESULTS / "faults.md").read_text())


def markdown(results: list[FaultResult], sharing: list[dict[str, object]],
             machine: dict[str, object]) -> str:
    rows = [
        f"| {r.fault} | {r.calls} | {r.errors} | "
        f"{', '.join(f'{k} {v}' for k, v in r.error_codes.items()) or '-'} | {r.wrong_answers} |"
        f" {r.longest_call_s:.2f} | {r.p50_before_ms:.1f} | {r.p50_during_ms:.1f} |"
        f" {r.recovery_s:.2f} | {r.health_during} | {r.audited} / {r.answered} |"
        for r in results
    ]
    return "\n".join([
        "# Faults under load",
        "",
        "Generated by `bench/faults.py`: `zava-mcp serve --transport http --workers 2` (cache",
        f"on with Redis, pool of 10 per worker) on the small demo database, {CLIENTS} clients",
        "calling `execute_sales_query` back to back with distinct one-row queries of known",
        "answer (every call reaches Redis and PostgreSQL). Errors are counted over the whole",
        "run of each fault (3 s before, the fault, 5 s after the dependency is back); recovery",
        "is from the moment it is back to the end of the last failed call; /health is asked",
        "0.7 s into the fault. Audited: the rows the run added to audit.tool_calls (after the",
        "writer's last flush and the spool's replay) against the calls the server answered",
        "with a result or an error code (a call cut off at the transport is not counted).",
        "",
        "| fault | calls | errors | error codes | wrong answers | longest call s |"
        " p50 before ms | p50 during ms | recovery s | /health during | audited / answered |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|",
        *rows,
        "",
        "## Fair sharing",
        "",
        "A store manager (2 clients, distinct one-row queries) alone, then while head office",
        f"runs 16 clients of `{SLOW_SQL.format(n=0)}` (CPU-bound in PostgreSQL, ~0.3 s",
        "alone). Beyond their share a call waits 2 s for one of their own, then RATE_LIMITED.",
        "The baseline, in the same seconds: `SELECT 1` every 20 ms on a bare connection of",
        "its own (how fast PostgreSQL itself answers a quiet client while the noisy queries",
        "share its cores). Measured once every worker reports ok (after the worker-kill",
        "fault, the new worker's model load).",
        "",
        "| noisy user's share | quiet p50 alone ms | quiet p50 with noisy ms | ratio |"
        " bare SELECT 1 p50 alone / with noisy ms | bare ratio |"
        " quiet calls | quiet errors | noisy calls | noisy ok | noisy errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *(f"| {s['share']} | {s['quiet_p50_alone_ms']} | {s['quiet_p50_with_noisy_ms']} |"
          f" {s['p50_ratio']} | {s['bare_p50_alone_ms']} / {s['bare_p50_with_noisy_ms']} |"
          f" {s['bare_p50_ratio']} | {s['quiet_calls']} | {s['quiet_errors']} |"
          f" {s['noisy_calls']} | {s['noisy_ok']} | {s['noisy_error_codes'] or '-'} |"
          for s in sharing),
        "",
        machine_markdown(machine),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage-s", type=float, default=8.0)
    parser.add_argument("--only", nargs="*", default=[],
                        help="run only these faults (outage, fast, backend, redis, worker);"
                        " nothing is written")
    parser.add_argument("--server-log", type=Path, help="the server's stderr goes here")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
