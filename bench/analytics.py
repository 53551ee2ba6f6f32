"""Benchmark: the sales analytics service calls on the `large` dataset (~1M orders).

Each call goes through the real stack: SalesAnalyticsService -> psycopg repositories -> the
query role in a signed RLS transaction per query, over the daily rollups (sql/005). Interleaved
with it, the straightforward version: ONE SQL statement over the raw tables (orders,
order_items, products, categories, inventory) that computes the same answer, run in the same
kind of RLS transaction as the same user. p50/p95 of each, and the ratio service / single SQL
(below 1 = the service is faster). Target: get_store_performance p50 <= 50 ms for head office
over last_90_days. The clock is fixed at the dataset's anchor date; VACUUM ANALYZE runs first
so both sides read tables with a current visibility map and statistics (as autovacuum would).
Before timing, each baseline is checked to return the service's revenue.

    .venv/bin/python bench/analytics.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from _common import (
    BENCH_ANCHOR,
    RESULTS,
    bench_database,
    machine_description,
    machine_markdown,
    median,
    percentile,
    timed,
)

from adapters.demodata.reference import SEATTLE, STORES, USERS
from adapters.memory.clock import FixedClock
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.analytics import (
    PsycopgInventoryRepository,
    PsycopgSalesRepository,
    PsycopgStoreCatalog,
)
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.migrations import apply_migrations
from adapters.postgres.pool import make_query_pool
from adapters.postgres.request_context import ContextSigner, read_context_key
from domain.model import UserId
from domain.services.sales_analytics import SalesAnalyticsService
from domain.time_period import TimePeriod

HEAD_OFFICE = UserId(USERS[9].user_id)
SEATTLE_MANAGER = UserId(USERS[0].user_id)
NOW = datetime.combine(BENCH_ANCHOR, datetime.min.time(), tzinfo=UTC)
ALL_STORES = [s.store_id for s in STORES]

# ---------------------------------------------------------------- single-SQL baselines
# Each computes, in one statement over the raw tables, what the service call returns.

_PERIODS = """periods(idx, lo, hi) AS (VALUES (0, %(lo0)s::timestamptz, %(hi0)s::timestamptz),
                                           (1, %(lo1)s::timestamptz, %(hi1)s::timestamptz))"""
_LINES = """
o AS MATERIALIZED (
    SELECT p.idx, o.store_id, o.order_id FROM periods p
    JOIN retail.orders o ON o.order_date >= p.lo AND o.order_date < p.hi
    WHERE o.status = 'completed' AND o.store_id = ANY (%(stores)s)),
by_product AS (
    SELECT o.idx, i.product_id, sum(i.quantity) AS units, sum(i.total_amount) AS revenue
    FROM o JOIN retail.order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
    GROUP BY 1, 2),
products AS (
    SELECT b.*, b.units * p.cost AS cost, p.sku, p.name, c.name AS category
    FROM by_product b JOIN retail.products p USING (product_id)
    JOIN retail.categories c ON c.category_id = p.category_id)"""

STORE_PERFORMANCE = f"""
WITH {_PERIODS}, {_LINES},
top AS (SELECT * FROM products WHERE idx = 0 ORDER BY revenue DESC, sku LIMIT 10)
SELECT json_build_object(
  'totals', (SELECT json_agg(json_build_object('idx', t.idx, 'orders', t.orders,
             'revenue', x.revenue, 'units', x.units, 'cost', x.cost))
             FROM (SELECT idx, count(*) AS orders FROM o GROUP BY idx) t
             JOIN (SELECT idx, sum(revenue) revenue, sum(units) units, sum(cost) cost
                   FROM products GROUP BY idx) x USING (idx)),
  'categories', (SELECT json_agg(c) FROM (SELECT idx, category, sum(revenue) AS revenue,
                 sum(units) AS units, sum(revenue - cost) AS margin FROM products
                 GROUP BY idx, category) c),
  'top', (SELECT json_agg(top ORDER BY revenue DESC, sku) FROM top),
  'stock', (SELECT json_agg(i) FROM retail.inventory i
            WHERE i.store_id = ANY (%(stores)s) AND i.product_id IN (SELECT product_id FROM top)))
"""

COMPARE_STORES = f"""
WITH {_PERIODS},
o AS (SELECT p.idx, o.store_id, o.order_id FROM periods p
      JOIN retail.orders o ON o.order_date >= p.lo AND o.order_date < p.hi
      WHERE o.status = 'completed' AND o.store_id = ANY (%(stores)s))
SELECT o.idx, o.store_id, count(DISTINCT o.order_id), sum(i.quantity), sum(i.total_amount),
       sum(i.quantity * p.cost)
FROM o JOIN retail.order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
JOIN retail.products p ON p.product_id = i.product_id
GROUP BY 1, 2
"""

SALES_TREND = """
SELECT date_trunc('week', o.order_date AT TIME ZONE 'UTC') AS week, count(*),
       sum(l.revenue)
FROM retail.orders o
JOIN LATERAL (SELECT sum(i.total_amount) AS revenue FROM retail.order_items i
              WHERE i.store_id = o.store_id AND i.order_id = o.order_id) l ON true
WHERE o.status = 'completed' AND o.store_id = ANY (%(stores)s)
  AND o.order_date >= %(lo0)s AND o.order_date < %(hi0)s
GROUP BY 1 ORDER BY 1
"""

TOP_PRODUCTS = """
SELECT p.sku, p.name, c.name, sum(i.quantity), sum(i.total_amount),
       sum(i.total_amount) - sum(i.quantity) * p.cost
FROM retail.orders o
JOIN retail.order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
JOIN retail.products p ON p.product_id = i.product_id
JOIN retail.categories c ON c.category_id = p.category_id
WHERE o.status = 'completed' AND o.store_id = ANY (%(stores)s)
  AND o.order_date >= %(lo0)s AND o.order_date < %(hi0)s
GROUP BY p.product_id, p.sku, p.name, c.name, p.cost
ORDER BY sum(i.total_amount) DESC, p.sku LIMIT 10
"""

INVENTORY_ALERTS = """
SELECT inv.store_id, p.sku, p.name, inv.stock_level, inv.reorder_point,
       coalesce(s.units, 0) AS units
FROM retail.inventory inv
JOIN retail.products p ON p.product_id = inv.product_id
LEFT JOIN (SELECT i.store_id, i.product_id, sum(i.quantity) AS units
           FROM retail.orders o
           JOIN retail.order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
           WHERE o.status = 'completed' AND o.store_id = ANY (%(stores)s)
             AND o.order_date >= %(lo0)s AND o.order_date < %(hi0)s
           GROUP BY 1, 2) s ON s.store_id = inv.store_id AND s.product_id = inv.product_id
WHERE inv.store_id = ANY (%(stores)s) AND inv.stock_level <= inv.reorder_point
ORDER BY units DESC, inv.reorder_point - inv.stock_level DESC LIMIT 50
"""


@dataclass(frozen=True)
class Case:
    name: str
    user: UserId
    call: Callable[[SalesAnalyticsService], Coroutine[Any, Any, Any]]
    baseline: str
    stores: list[Any]
    period: str


CASES = [
    Case("get_store_performance(Seattle, last_90_days), head office", HEAD_OFFICE,
         lambda s: s.store_performance(HEAD_OFFICE, "seattle", "last_90_days"),
         STORE_PERFORMANCE, [SEATTLE.store_id], "last_90_days"),
    Case("get_store_performance(Seattle, last_90_days), Seattle manager", SEATTLE_MANAGER,
         lambda s: s.store_performance(SEATTLE_MANAGER, "seattle", "last_90_days"),
         STORE_PERFORMANCE, [SEATTLE.store_id], "last_90_days"),
    Case("get_store_performance(all 8 stores, last_90_days), head office", HEAD_OFFICE,
         lambda s: s.store_performance(HEAD_OFFICE, None, "last_90_days"),
         STORE_PERFORMANCE, ALL_STORES, "last_90_days"),
    Case("get_sales_trend(ytd, week), head office", HEAD_OFFICE,
         lambda s: s.sales_trend(HEAD_OFFICE, "ytd", "week"),
         SALES_TREND, ALL_STORES, "ytd"),
    Case("get_top_products(last_30_days, revenue, 10), head office", HEAD_OFFICE,
         lambda s: s.top_products(HEAD_OFFICE, "last_30_days"),
         TOP_PRODUCTS, ALL_STORES, "last_30_days"),
    Case("compare_stores(last_90_days, revenue_growth), head office", HEAD_OFFICE,
         lambda s: s.compare_stores(HEAD_OFFICE, "last_90_days", "revenue_growth"),
         COMPARE_STORES, ALL_STORES, "last_90_days"),
    Case("get_inventory_alerts(all stores), head office", HEAD_OFFICE,
         lambda s: s.inventory_alerts(HEAD_OFFICE),
         INVENTORY_ALERTS, ALL_STORES, "last_30_days"),
]


def parameters(case: Case) -> dict[str, Any]:
    period = TimePeriod.parse(case.period, NOW)
    previous = period.previous()
    return {"stores": case.stores, "lo0": period.start, "hi0": period.end,
            "lo1": previous.start, "hi1": previous.end}


async def run_baseline(database: DatabaseGateway, case: Case) -> list[tuple[Any, ...]]:
    async with database.session(case.user) as conn:
        cur = await conn.execute(case.baseline, parameters(case))
        return await cur.fetchall()


def check_same_revenue(case: Case, answer: Any, rows: list[tuple[Any, ...]]) -> None:
    """The baseline computes what the service answers (spot check on revenue)."""
    if case.baseline is STORE_PERFORMANCE:
        totals = {t["idx"]: Decimal(str(t["revenue"])) for t in rows[0][0]["totals"]}
        assert totals[0] == answer.current.revenue, (case.name, totals, answer.current)
    elif case.baseline is COMPARE_STORES:
        baseline = sum(r[4] for r in rows if r[0] == 0)
        assert baseline == sum(s.current.revenue for s in answer.standings), case.name
    elif case.baseline is SALES_TREND:
        assert sum(r[2] for r in rows) == answer.total_revenue, case.name
    elif case.baseline is TOP_PRODUCTS:
        assert [r[0] for r in rows] == [p.product.sku for p in answer.products], case.name
    else:
        assert len(rows) == len(answer.alerts), case.name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    endpoints = bench_database("large")
    with psycopg.connect(endpoints.admin_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('retail.daily_product_sales')").fetchone() == (None,):
            apply_migrations(endpoints.admin_url)  # a bench database older than sql/005
        conn.execute("VACUUM (ANALYZE) retail.orders, retail.order_items, retail.inventory,"
                     " retail.daily_store_sales, retail.daily_product_sales")
        counts = conn.execute("SELECT (SELECT count(*) FROM retail.orders),"
                              " (SELECT count(*) FROM retail.order_items),"
                              " (SELECT count(*) FROM retail.daily_product_sales)").fetchone()
    rows = measure(endpoints.query_url, endpoints.admin_url, args.repeats)
    write_results(args.repeats, counts, rows)
    return 0


def measure(query_url: str, admin_url: str, repeats: int) -> list[dict[str, object]]:
    """Each case: a correctness check, then blocks of 5 service calls and 5 baseline
    statements, alternating (so both share the machine's noise), on one event loop."""
    results: list[dict[str, object]] = []
    with asyncio.Runner() as runner:
        pool = make_query_pool(query_url, min_size=4, max_size=4)
        runner.run(pool.open(wait=True))
        database = DatabaseGateway(pool, ContextSigner(read_context_key(admin_url)))
        service = SalesAnalyticsService(
            PsycopgAccessDirectory(database), PsycopgStoreCatalog(database),
            PsycopgSalesRepository(database), PsycopgInventoryRepository(database),
            FixedClock(NOW))
        try:
            for case in CASES:
                check_same_revenue(case, runner.run(case.call(service)),
                                   runner.run(run_baseline(database, case)))
                # steady state: the service alone, back to back (its pages stay cached)
                alone_ms = timed(lambda c=case: runner.run(c.call(service)), repeats, warmup=3)
                service_ms: list[float] = []
                baseline_ms: list[float] = []
                for _ in range(max(1, repeats // 5)):
                    service_ms += timed(lambda c=case: runner.run(c.call(service)), 5, warmup=1)
                    baseline_ms += timed(lambda c=case: runner.run(run_baseline(database, c)),
                                         5, warmup=1)
                results.append({
                    "call": case.name,
                    "service_alone_p50_ms": round(median(alone_ms), 2),
                    "service_alone_p95_ms": round(percentile(alone_ms, 95), 2),
                    "service_p50_ms": round(median(service_ms), 2),
                    "service_p95_ms": round(percentile(service_ms, 95), 2),
                    "single_sql_p50_ms": round(median(baseline_ms), 2),
                    "single_sql_p95_ms": round(percentile(baseline_ms, 95), 2),
                    "ratio_p50": round(median(service_ms) / median(baseline_ms), 3),
                })
                r = results[-1]
                print(f"{case.name:<66} alone p50 {r['service_alone_p50_ms']:7.2f} ms"
                      f"  interleaved p50 {r['service_p50_ms']:8.2f} ms  p95"
                      f" {r['service_p95_ms']:8.2f}   single SQL p50"
                      f" {r['single_sql_p50_ms']:8.2f} ms   ratio {r['ratio_p50']:.3f}",
                      flush=True)
        finally:
            runner.run(pool.close())
    return results


HEADER = ("| call (ms) | alone p50 | alone p95 | interleaved p50 | interleaved p95"
          " | single SQL p50 | single SQL p95 | ratio (p50) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")


def write_results(repeats: int, counts: Any, rows: list[dict[str, object]]) -> None:
    machine = machine_description()
    (RESULTS / "analytics.json").write_text(json.dumps(
        {"scale": "large", "repeats": repeats, "orders": counts[0], "order_items": counts[1],
         "daily_product_sales_rows": counts[2], "machine": machine, "results": rows},
        indent=2, default=str) + "\n")
    table = "\n".join(
        f"| {r['call']} | {r['service_alone_p50_ms']} | {r['service_alone_p95_ms']} |"
        f" {r['service_p50_ms']} | {r['service_p95_ms']} |"
        f" {r['single_sql_p50_ms']} | {r['single_sql_p95_ms']} | **{r['ratio_p50']}** |"
        for r in rows)
    (RESULTS / "analytics.md").write_text(f"""# Sales analytics service calls

Generated by `bench/analytics.py` on the `large` dataset ({counts[0]:,} orders, {counts[1]:,}
order lines; {counts[2]:,} rows in retail.daily_product_sales), {repeats} timed calls of each
kind. **Service** = `SalesAnalyticsService` through the psycopg
repositories: every query in its own signed RLS transaction as the user, over the daily
rollups of sql/005 (a call is 2-4 queries: the user's scope, then the data queries, in
parallel where independent). **Single SQL** =
one straightforward statement over the raw tables computing the same answer, in the same kind
of RLS transaction. *Alone*: the service call {repeats} times back to back (steady state, its
pages cached, as on a server answering such questions all day). *Interleaved*: blocks of 5
service calls and 5 single-SQL statements alternating, so both share the machine's noise; the
single SQL reads far more than shared_buffers holds and evicts the rollups' pages between
blocks, which can make these service figures pessimistic. Ratio = interleaved service p50 /
single-SQL p50 (below 1: the service is faster).
Target: `get_store_performance` p50 <= 50 ms for head office over `last_90_days`. The machine
was shared with other jobs during the run (load average below).

{HEADER}
{table}

{machine_markdown(machine)}
""")


if __name__ == "__main__":
    raise SystemExit(main())
