"""Soak: 64 clients call all ten tools, mixed, for ten minutes against one real server.

The real `zava-mcp serve --transport http` (its own process, default settings: pool of 10,
memory cache, batched audit, the local embedding model) on the small demo dataset; 64 clients
spread over the ten demo users, each calling the ten tools in turn with varied arguments (SQL
that hits and misses the cache, every analytics tool, product search, schemas, whoami, the
date). Pass criteria, all measured in the run:

- 0 errors: every call answers HTTP 200 with a result that is not an error (a RATE_LIMITED
  answer is retried once after the delay it names, as it asks; those retries are counted);
- RSS growth <= 10 %: the server's resident memory at the end against the end of warm-up
  (the first 10 % of the run, at least 30 s: pools, caches and the model are full by then);
- audit rows = calls: every answered call is in audit.tool_calls once the last batch flushed
  (a RATE_LIMITED answer is a call the server answered too, so it is audited: the rows are
  compared with every tool call sent, retries included).

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 64]

Writes bench/results/soak.json and soak.md (with the machine description).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
from _common import (
    RESULTS,
    ROOT,
    audit_rows,
    bench_database,
    machine_description,
    machine_markdown,
    wait_for_audit,
)

from adapters.auth.jwt_tokens import mint_token
from adapters.demodata.reference import STORES, USERS

SECRET = "soak-bench-secret-that-is-long-enough-for-hs256"
RETRY_IN = re.compile(r"retry in (\d+(?:\.\d+)?) s")
PERIODS = ["last_30_days", "last_quarter", "2026-Q2", "last_7_days", "2026-06", "this_year"]


def tool_arguments(rng: random.Random, stores: list[str]) -> list[tuple[str, dict[str, object]]]:
    """One call of each of the ten tools, with arguments drawn for this round (`stores`: the
    ones the caller may see)."""
    store, period = rng.choice(stores), rng.choice(PERIODS)
    limit = rng.randint(1, 50)
    return [
        ("whoami", {}),
        ("get_current_utc_date", {}),
        ("execute_sales_query", {"postgresql_query": rng.choice([
            "SELECT s.name, count(*) AS orders FROM orders o JOIN stores s USING (store_id)"
            " GROUP BY s.name ORDER BY orders DESC",
            f"SELECT product_id, sum(quantity) AS units FROM order_items GROUP BY product_id"
            f" ORDER BY units DESC LIMIT {limit}",
            f"SELECT count(*) FROM orders WHERE total_amount > {rng.randint(10, 500)}",
        ]), "max_rows": rng.randint(5, 100)}),
        ("get_multiple_table_schemas", {"table_names": rng.sample(
            ["stores", "orders", "order_items", "products", "inventory", "customers"], 2)}),
        ("get_store_performance", {"store": store, "time_period": period}),
        ("get_sales_trend", {"time_period": period,
                             "granularity": rng.choice(["day", "week", "month"])}),
        ("get_top_products", {"time_period": period, "by": rng.choice(["revenue", "margin"]),
                              "max_rows": rng.randint(1, 10)}),
        ("compare_stores", {"time_period": period,
                            "metric": rng.choice(["revenue", "revenue_growth"])}),
        ("get_inventory_alerts", {"store": store, "max_rows": rng.randint(1, 20)}),
        ("semantic_search_products", {"query_description": rng.choice([
            "pruning shears for branches", "waterproof paint for a deck", "cordless drill",
            "garden hose that does not kink", "LED bulbs for the kitchen"]),
            "max_rows": rng.randint(1, 5)}),
    ]


@dataclass
class Tally:
    calls: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    per_tool: Counter[str] = field(default_factory=Counter)
    rate_limited_retries: int = 0
    attempts: int = 0  # HTTP tool calls sent: the calls plus the retries


async def client(number: int, port: int, deadline: float, tally: Tally) -> None:
    user = USERS[number % len(USERS)]
    headers = {"Authorization": f"Bearer {mint_token(SECRET, user.user_id, 7200)}",
               "Content-Type": "application/json",
               "Accept": "application/json, text/event-stream"}
    rng = random.Random(number)
    names = {s.store_id: s.name for s in STORES}
    stores = [names[store_id] for store_id in user.store_ids]
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        for request_id in itertools.count(1):
            for name, arguments in tool_arguments(rng, stores):
                if time.monotonic() >= deadline:
                    return
                started = time.perf_counter()
                for attempt in range(2):
                    tally.attempts += 1
                    try:
                        response = await http.post("/mcp", headers=headers, json={
                            "jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                            "params": {"name": name, "arguments": arguments}})
                        ok = response.status_code == 200 and not response.json()["result"][
                            "isError"]
                        problem = "" if ok else (
                            f"{name}: HTTP {response.status_code} {response.text[:300]}")
                    except (httpx2.HTTPError, KeyError, ValueError) as e:
                        problem = f"{name}: {type(e).__name__} {e}"
                    hint = RETRY_IN.search(problem)
                    if attempt == 0 and "RATE_LIMITED" in problem and hint:
                        # what the answer asks a client to do: wait as hinted, then once more
                        tally.rate_limited_retries += 1
                        await asyncio.sleep(float(hint.group(1)))
                        continue
                    break
                tally.latencies_ms.append((time.perf_counter() - started) * 1000)
                tally.calls += 1
                tally.per_tool[name] += 1
                if problem:
                    tally.errors[problem] += 1


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(data_dir: Path, port: int, stderr: Path,
                 settings: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAVA_")}
    env.update(ZAVA_DATA_DIR=str(data_dir), ZAVA_JWT_SECRET=SECRET, ZAVA_LOG_LEVEL="WARNING")
    env.update(settings)
    with stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", "--transport", "http",
             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 300
    while True:
        try:
            health = httpx2.get(f"http://127.0.0.1:{port}/health", timeout=10)
            if health.status_code == 200 and health.json()["status"] == "ok":
                return process
        except httpx2.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not become healthy: {stderr.read_text()[-2000:]}")
        time.sleep(0.5)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def soak(port: int, pid: int, clients: int, seconds: float) -> dict[str, object]:
    tally = Tally()
    started = time.monotonic()
    deadline = started + seconds
    warm_up_s = max(30.0, seconds * 0.1)
    samples: list[tuple[float, int]] = []

    async def sample_rss() -> None:
        while time.monotonic() < deadline:
            samples.append((round(time.monotonic() - started, 1), rss_kb(pid)))
            await asyncio.sleep(5)

    sampler = asyncio.create_task(sample_rss())
    await asyncio.gather(*(client(n, port, deadline, tally) for n in range(clients)))
    await sampler
    elapsed = time.monotonic() - started
    end_kb = rss_kb(pid)
    warm_kb = next((kb for t, kb in samples if t >= warm_up_s), samples[0][1])
    ordered = sorted(tally.latencies_ms)
    return {
        "clients": clients, "seconds": round(elapsed, 1), "calls": tally.calls,
        "calls_per_s": round(tally.calls / elapsed, 1),
        "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors.most_common(10)),
        "rate_limited_retries": tally.rate_limited_retries, "attempts": tally.attempts,
        "per_tool": dict(sorted(tally.per_tool.items())),
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
        "rss_after_warm_up_mb": round(warm_kb / 1024, 1), "rss_end_mb": round(end_kb / 1024, 1),
        "rss_max_mb": round(max(kb for _, kb in samples) / 1024, 1),
        "rss_growth_pct": round((end_kb - warm_kb) / warm_kb * 100, 2),
        "warm_up_s": warm_up_s,
        "rss_samples_mb": [(t, round(kb / 1024, 1)) for t, kb in samples],
    }


def markdown(result: dict[str, object], machine: dict[str, object], note: str) -> str:
    verdict = {
        "0 errors": result["errors"] == 0,
        "RSS growth <= 10 %": float(result["rss_growth_pct"]) <= 10,  # type: ignore[arg-type]
        "audit rows = calls": result["audit_rows"] == result["attempts"],
    }
    return "\n".join([
        "# Soak",
        "",
        f"Generated by `bench/soak.py`: {result['clients']} clients over the ten demo users call",
        "all ten tools in turn (varied arguments: cache hits and misses, every analytics tool,",
        "product search with the local model) against one `zava-mcp serve --transport http`",
        f"(pool of 10, memory cache, batched audit; settings: {result['settings']}) for"
        f" {result['seconds']} s.",
        "",
        "| criterion | measured | met |",
        "|---|---|---|",
        f"| 0 errors | {result['errors']} errors in {result['calls']:,} calls"
        f" ({result['calls_per_s']} calls/s; {result['rate_limited_retries']} RATE_LIMITED"
        " answers retried once after their hint) |"
        f" {'yes' if verdict['0 errors'] else 'NO'} |",
        f"| RSS growth <= 10 % | {result['rss_after_warm_up_mb']} MB after"
        f" {result['warm_up_s']:g} s warm-up -> {result['rss_end_mb']} MB at the end"
        f" ({result['rss_growth_pct']:+.2f} %;"
        f" max {result['rss_max_mb']} MB) | {'yes' if verdict['RSS growth <= 10 %'] else 'NO'} |",
        f"| audit rows = calls | {result['audit_rows']:,} rows for {result['attempts']:,} tool"
        f" calls sent ({result['calls']:,} + {result['rate_limited_retries']} retries) |"
        f" {'yes' if verdict['audit rows = calls'] else 'NO'} |",
        "",
        f"Latency (all tools mixed, client side): p50 {result['p50_ms']} ms, p99"
        f" {result['p99_ms']} ms, max {result['max_ms']} ms. Calls per tool:"
        f" {', '.join(f'{k} {v:,}' for k, v in result['per_tool'].items())}.",  # type: ignore[attr-defined]
        "",
        note,
        "",
        machine_markdown(machine),
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--note", default="", help="written under the results (e.g. what else"
                        " ran on the machine)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--setting", action="append", default=[], metavar="ZAVA_X=VALUE",
                        help="a server setting other than the default (repeatable)")
    parser.add_argument("--name", default="soak", help="result files bench/results/NAME.*")
    args = parser.parse_args()
    endpoints = bench_database("small")
    data_dir = ROOT / ".data" / "bench-small"
    port = free_port()
    stderr = Path(tempfile.mkdtemp(prefix="zava-soak-")) / "serve.stderr"
    settings = dict(item.split("=", 1) for item in args.setting)
    server = start_server(data_dir, port, stderr, settings)
    try:
        before = audit_rows(endpoints.admin_url)
        result = asyncio.run(soak(port, server.pid, args.clients, args.minutes * 60))
        result["audit_rows"] = wait_for_audit(endpoints.admin_url,
                                              before + int(result["attempts"])) - before  # type: ignore[call-overload]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    log = stderr.read_text()
    result["server_tracebacks"] = log.count("Traceback")
    result["settings"] = settings or "defaults"
    machine = machine_description()
    text = markdown(result, machine, args.note)
    print(text)
    print(json.dumps({k: v for k, v in result.items() if k != "rss_samples_mb"}, indent=2),
          file=sys.stderr)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{args.name}.json").write_text(json.dumps(
            {"machine": machine, "note": args.note, **result}, indent=2) + "\n")
        (RESULTS / f"{args.name}.md").write_text(text)


if __name__ == "__main__":
    main()
