"""Shared by the benchmarks: a machine description and a cached demo database per scale."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

from adapters.postgres import provisioning  # noqa: E402
from adapters.postgres.embedded import EmbeddedPostgresServer  # noqa: E402
from ports.database_server import DatabaseEndpoints  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BENCH_ANCHOR = date(2026, 6, 30)


def machine_description() -> dict[str, object]:
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as info:
        mem_kb = next(int(line.split()[1]) for line in info if line.startswith("MemTotal:"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "load_average": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def machine_markdown(machine: dict[str, object]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in machine.items())


def bench_database(scale: str, products: int | None = None) -> DatabaseEndpoints:
    """An embedded database with the demo data of `scale`, kept under .data/bench-<scale> so
    repeated runs do not reload it (delete the folder to start over)."""
    suffix = f"-{products}" if products else ""
    server = EmbeddedPostgresServer(ROOT / ".data" / f"bench-{scale}{suffix}")
    endpoints = server.start()
    # Every run: the first loads the data, a later one applies the migrations added since.
    # Not gated on the highest applied version: migrations land out of order (each branch has
    # its own number range), so a cached database at 030 may still lack a later-landed 020.
    if not provisioning.status(endpoints).initialised:
        print(f"initialising the {scale} dataset…", file=sys.stderr)
    provisioning.initialise(
        endpoints,
        provisioning.DemoDataRequest(seed=42, scale=scale, products=products,
                                     anchor=BENCH_ANCHOR),
    )
    return endpoints


def timed(call: Callable[[], object], repeats: int, warmup: int = 3) -> list[float]:
    """Wall-clock milliseconds of `repeats` calls after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def audit_rows(admin_url: str) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT count(*) FROM audit.tool_calls").fetchone()
    return int(row[0]) if row else 0


def wait_for_audit(admin_url: str, expected: int, timeout_s: float = 60.0) -> int:
    """The audit writer flushes in batches (0.5 s) and at shutdown: wait until the rows are in."""
    deadline = time.monotonic() + timeout_s
    rows = audit_rows(admin_url)
    while rows < expected and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = audit_rows(admin_url)
    return rows
