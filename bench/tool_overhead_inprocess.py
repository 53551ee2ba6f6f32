"""Benchmark: the server CPU of a tool call in-process, this checkout against another revision.

`tool_overhead_ab.py` measures whole servers over HTTP; on a shared 2-core machine the load
generator, uvicorn and the kernel's loopback add noise that hides changes of a few per cent.
This calls each revision's ASGI app directly (`build_http_app`, the lifespan run as the server
runs it, `execute_sales_query` with `SELECT 1 AS one` as a 2025-11-25 POST, one call at a time),
each revision in its own process (the other revision's checkout is a temporary `git worktree`),
both alive for the whole run, taking turns: round after round, one runs a block of calls while
the other waits. Per block: the process's CPU time per call (user + system, all its threads)
and PostgreSQL's (the bench database's postmaster and backends). Medians over the rounds.

Not measured here: uvicorn and httptools (the same for both revisions), the load generator.

    .venv/bin/python bench/tool_overhead_inprocess.py --before c0ca8cf [--rounds 10]
        [--calls 1000] [--cache off,hit]

writes bench/results/tool_overhead_inprocess_<revision>.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

CACHE = {"off": 0.0, "hit": 300.0}


# --------------------------------------------------------------------------- one revision

def child(root: Path, cache_ttl_s: float, endpoints: dict[str, str], postmaster: int) -> None:
    """Serve one revision's app in this process: read a number of calls per line on stdin,
    make them, print the CPU per call (this process, PostgreSQL) as a JSON line."""
    sys.path.insert(0, str(root))
    sys.path.insert(1, str(root / "bench"))
    for name in [k for k in os.environ if k.startswith("ZAVA_")]:
        del os.environ[name]
    from dependency_injector import providers
    from pydantic import SecretStr
    from tool_overhead import ERAS, HEAD_OFFICE, SECRET, cpu_seconds

    from adapters.auth.jwt_tokens import mint_token
    from entrypoints.container import Container
    from entrypoints.http_app import build_http_app
    from entrypoints.logging_config import configure_logging
    from entrypoints.settings import Settings
    from ports.database_server import DatabaseEndpoints

    settings = Settings(data_dir=Path(endpoints["data_dir"]), pool_min=10, pool_max=10,
                        jwt_secret=SecretStr(SECRET), jwt_jwks_url=None, jwt_issuer=None,
                        jwt_audience=None, public_url=None, allowed_hosts=[],
                        cache_ttl_s=cache_ttl_s, log_level="WARNING")
    configure_logging(settings.log_level, settings.log_format, settings.log_file)
    container = Container(settings=settings)
    container.database_endpoints.override(providers.Object(DatabaseEndpoints(
        admin_url=endpoints["admin_url"], query_url=endpoints["query_url"], kind="external")))
    app = build_http_app(container, settings, "127.0.0.1", 8000)
    era = ERAS["2025-11-25"]
    headers = [(b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
               (b"accept", b"application/json, text/event-stream"),
               (b"authorization", f"Bearer {mint_token(SECRET, HEAD_OFFICE, 3600)}".encode()),
               (b"content-length", str(len(era.body)).encode())]
    for line in era.headers.strip().split("\r\n"):
        name, value = line.split(": ", 1)
        headers.append((name.lower().encode(), value.encode()))
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
             "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/mcp",
             "raw_path": b"/mcp", "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}

    async def call() -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": era.body, "more_body": False}
            await asyncio.sleep(3600)  # the client stays connected
            return {"type": "http.disconnect"}

        messages: list[dict[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            messages.append(dict(message))

        await app(dict(scope, state={}), receive, send)
        # one turn of the event loop between calls, as a server polls its sockets between
        # requests: a cache hit never suspends, and back-to-back hits starved the audit
        # writer's flush task (its backlog filled, then every call paid for dropping a record)
        await asyncio.sleep(0)
        body = b"".join(m.get("body", b"") for m in messages
                        if m["type"] == "http.response.body")
        if messages[0]["status"] != 200 or b'"isError":false' not in body:
            raise RuntimeError(f"the call failed: {messages[0]['status']} {body[:300]!r}")

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            for _ in range(200):
                await call()
            while True:  # until the embedding model has loaded (its threads use CPU)
                used = time.process_time()
                await asyncio.sleep(1.0)
                if time.process_time() - used < 0.05:
                    break
            print(json.dumps({"ready": True}), flush=True)
            loop = asyncio.get_running_loop()
            while line := await loop.run_in_executor(None, sys.stdin.readline):
                calls = int(line)
                for _ in range(50):
                    await call()
                cpu, database = time.process_time(), cpu_seconds(postmaster)
                for _ in range(calls):
                    await call()
                print(json.dumps({
                    "server_us": (time.process_time() - cpu) * 1e6 / calls,
                    "postgres_us": (cpu_seconds(postmaster) - database) * 1e6 / calls,
                }), flush=True)

    import uvloop  # as uvicorn runs the server

    uvloop.run(serve())


# --------------------------------------------------------------------------- the comparison

def start_child(checkout: Path, cache_ttl_s: float, endpoints: dict[str, str],
                postmaster: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(checkout),
         str(cache_ttl_s), json.dumps(endpoints), str(postmaster)],
        cwd=checkout, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    if not json.loads(process.stdout.readline() or "{}").get("ready"):
        raise RuntimeError(f"{checkout}: the app did not start")
    return process


def block(process: subprocess.Popen[str], calls: int) -> dict[str, float]:
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(f"{calls}\n")
    process.stdin.flush()
    return json.loads(process.stdout.readline())  # type: ignore[no-any-return]


def compare(checkouts: dict[str, Path], args: argparse.Namespace) -> list[dict[str, object]]:
    from _common import ROOT, bench_database
    from tool_overhead import postmaster_pid

    database = bench_database("small")
    endpoints = {"admin_url": database.admin_url, "query_url": database.query_url,
                 "data_dir": str(ROOT / ".data" / "bench-small")}  # its audit spool
    postmaster = postmaster_pid(ROOT / ".data" / "bench-small")
    rows: list[dict[str, object]] = []
    for cache in args.cache.split(","):
        processes = {name: start_child(checkout, CACHE[cache], endpoints, postmaster)
                     for name, checkout in checkouts.items()}
        measured: dict[str, list[dict[str, float]]] = {name: [] for name in processes}
        try:
            for _ in range(args.rounds):
                for name, process in processes.items():
                    measured[name].append(block(process, args.calls))
        finally:
            for process in processes.values():
                assert process.stdin is not None
                process.stdin.close()
                process.wait(timeout=60)
        row: dict[str, object] = {"cache": cache}
        for name, blocks in measured.items():
            for figure in ("server_us", "postgres_us"):
                row[f"{name}_{figure}"] = round(statistics.median(b[figure] for b in blocks), 1)
                row[f"{name}_{figure}_rounds"] = [round(b[figure], 1) for b in blocks]
        rows.append(row)
        print(row, file=sys.stderr)
    return rows


def markdown(before: str, rows: list[dict[str, object]], args: argparse.Namespace,
             machine: dict[str, object]) -> str:
    from _common import machine_markdown

    def change(row: dict[str, object], figure: str) -> str:
        old, new = float(row[f"before_{figure}"]), float(row[f"after_{figure}"])  # type: ignore[arg-type]
        return f"{old:,.1f} → {new:,.1f} ({(new - old) / old * 100:+.1f} %)" if old else \
            f"{old:,.1f} → {new:,.1f}"

    return "\n".join([
        f"# Tool-call CPU in-process: {before} → this checkout, interleaved",
        "",
        f"Generated by `bench/tool_overhead_inprocess.py --before {before}`: each revision's",
        "ASGI app in its own process, called directly (no uvicorn, no load generator),",
        "`execute_sales_query` with `SELECT 1 AS one` as a 2025-11-25 POST, one call at a time;",
        f"the two processes take turns, {args.rounds} rounds of {args.calls:,} calls each.",
        "Medians over the rounds of the CPU per call (µs): the app's process (all threads) and",
        "PostgreSQL's (postmaster and backends: the call's statements, the discard, the audit",
        "rows).",
        "",
        "| cache | server CPU µs/call | PostgreSQL CPU µs/call |",
        "|---|---:|---:|",
        *[f"| {r['cache']} | {change(r, 'server_us')} | {change(r, 'postgres_us')} |"
          for r in rows],
        "",
        machine_markdown(machine),
        "",
    ])


def run(args: argparse.Namespace) -> None:
    from _common import RESULTS, ROOT, machine_description

    before = subprocess.run(["git", "rev-parse", "--short", args.before], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    worktree = Path(tempfile.mkdtemp(prefix="zava-inprocess-")) / "before"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), before],
                   cwd=ROOT, check=True, capture_output=True)
    try:
        rows = compare({"before": worktree, "after": ROOT}, args)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT,
                       check=False, capture_output=True)
    machine = machine_description()
    stem = f"tool_overhead_inprocess_{before}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(
        {"machine": machine, "before": before, "rounds": args.rounds, "calls": args.calls,
         "rows": rows}, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(before, rows, args, machine))
    print((RESULTS / f"{stem}.md").read_text())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, root, ttl, endpoints, postmaster = sys.argv
        child(Path(root), float(ttl), json.loads(endpoints), int(postmaster))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the revision to compare against")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--cache", default="off,hit", help="off, hit or both")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
