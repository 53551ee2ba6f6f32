"""Benchmark: latency of the SQL guard (`PglastSqlGuard.check`) on representative queries.

Target: p50 <= 1 ms per typical analytics query, parse + walk included.

For each query, `check()` is timed call by call, interleaved in the same run with two baselines
on the same text: `pglast.parse_sql` (libpg_query + pglast's Python AST, what a guard walking
pglast nodes would pay before doing any work) and `pglast.parser.parse_sql_json` (the bare C
parse the guard starts from). Results go to stdout and to bench/results/sql_guard.md with a
description of the machine.

    .venv/bin/python bench/sql_guard.py [--iterations 1000]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from a checkout

import pglast  # noqa: E402
from pglast import parser as pg_parser  # noqa: E402

from adapters.sqlguard import PglastSqlGuard  # noqa: E402
from domain.errors import ValidationError  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "sql_guard.md"

QUERIES: list[tuple[str, str]] = [
    ("count", "SELECT count(*) FROM retail.orders"),
    ("store_list", "SELECT name, city FROM retail.stores ORDER BY name"),
    ("filter_limit", "SELECT * FROM retail.orders WHERE status = 'completed' LIMIT 10"),
    ("revenue_by_store", """
        SELECT s.name AS store, sum(o.total_amount) AS revenue, count(*) AS orders,
               round(avg(o.total_amount), 2) AS avg_order_value
        FROM retail.orders AS o JOIN retail.stores AS s ON s.store_id = o.store_id
        WHERE o.order_date >= date_trunc('month', now()) - interval '3 months'
          AND o.status = 'completed'
        GROUP BY s.name ORDER BY revenue DESC"""),
    ("monthly_growth_cte_window", """
        WITH monthly AS (
            SELECT s.name AS store, date_trunc('month', o.order_date) AS month,
                   sum(oi.total_amount) AS revenue, count(DISTINCT o.order_id) AS orders
            FROM retail.orders o
            JOIN retail.order_items oi ON oi.store_id = o.store_id AND oi.order_id = o.order_id
            JOIN retail.stores s ON s.store_id = o.store_id
            WHERE o.order_date >= now() - interval '12 months' AND o.status = 'completed'
            GROUP BY 1, 2)
        SELECT store, month, revenue, orders,
               round(100.0 * (revenue - lag(revenue) OVER w)
                     / nullif(lag(revenue) OVER w, 0), 1) AS growth_pct,
               rank() OVER (PARTITION BY month ORDER BY revenue DESC) AS rank_in_month
        FROM monthly WINDOW w AS (PARTITION BY store ORDER BY month)
        ORDER BY month DESC, revenue DESC LIMIT 100"""),
    ("margin_by_category", """
        SELECT c.name AS category, pt.name AS product_type, p.name, p.base_price,
               round(100 * (p.base_price - p.cost) / nullif(p.base_price, 0), 1) AS margin_pct
        FROM retail.products p JOIN retail.categories c USING (category_id)
        JOIN retail.product_types pt ON pt.type_id = p.type_id
        WHERE lower(c.name) LIKE '%garden%' OR upper(pt.name) = 'PAINT'
        ORDER BY margin_pct DESC NULLS LAST FETCH FIRST 20 ROWS ONLY"""),
    ("reorder_exists", """
        SELECT i.store_id, p.sku, p.name, i.stock_level, i.reorder_point
        FROM retail.inventory i JOIN retail.products p ON p.product_id = i.product_id
        WHERE i.stock_level <= i.reorder_point
          AND EXISTS (SELECT 1 FROM retail.order_items oi WHERE oi.product_id = i.product_id
                      AND oi.created_at > now() - interval '30 days')"""),
    ("channel_union", """
        SELECT 'online' AS channel, count(*) FROM retail.orders o
        JOIN retail.stores s ON s.store_id = o.store_id WHERE s.is_online
        UNION ALL
        SELECT 'physical', count(*) FROM retail.orders o
        JOIN retail.stores s ON s.store_id = o.store_id WHERE NOT s.is_online"""),
    ("customer_strings", """
        SELECT customer_id, initcap(first_name) || ' ' || initcap(last_name) AS customer,
               split_part(email, '@', 2) AS email_domain, length(email)
        FROM retail.customers WHERE email ~* '@example[.](com|org)$' AND trim(first_name) <> ''
        """),
    ("json_summary", """
        SELECT jsonb_build_object('store', s.name, 'city', s.city, 'orders', count(o.order_id),
                                  'statuses', jsonb_agg(DISTINCT o.status)) AS summary
        FROM retail.stores s LEFT JOIN retail.orders o ON o.store_id = s.store_id
        GROUP BY s.store_id, s.name, s.city"""),
    ("quarterly_percentiles", """
        SELECT extract(year FROM order_date) AS year, extract(quarter FROM order_date) AS q,
               to_char(order_date, 'YYYY-MM') AS month_label,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY total_amount) AS median_order,
               count(*) FILTER (WHERE status = 'returned') AS returns
        FROM retail.orders GROUP BY ROLLUP (1, 2), 3"""),
    ("recursive_days", """
        WITH RECURSIVE days(d) AS (
            SELECT CURRENT_DATE - 6 UNION ALL SELECT d + 1 FROM days WHERE d < CURRENT_DATE)
        SELECT days.d, coalesce(sum(o.total_amount), 0) AS revenue
        FROM days LEFT JOIN retail.orders o ON o.order_date::date = days.d
        GROUP BY days.d ORDER BY days.d"""),
    ("generate_series_days", """
        SELECT d::date AS day, count(o.order_id)
        FROM generate_series(CURRENT_DATE - 13, CURRENT_DATE, interval '1 day') AS d
        LEFT JOIN retail.orders o ON o.order_date >= d AND o.order_date < d + interval '1 day'
        GROUP BY 1 ORDER BY 1"""),
    ("lateral_top_products", """
        SELECT p.name, x.n FROM retail.products p
        CROSS JOIN LATERAL (SELECT count(*) AS n FROM retail.order_items oi
                            WHERE oi.product_id = p.product_id) x
        ORDER BY x.n DESC LIMIT 5"""),
    ("region_case_bands", """
        SELECT r.name AS region, s.name AS store,
               CASE WHEN sum(o.total_amount) > 100000 THEN 'high'
                    WHEN sum(o.total_amount) > 10000 THEN 'medium' ELSE 'low' END AS band
        FROM retail.regions r JOIN retail.stores s USING (region_id)
        LEFT JOIN retail.orders o ON o.store_id = s.store_id
        GROUP BY r.name, s.name HAVING count(o.order_id) > 0"""),
    ("full_text_search", """
        SELECT p.name,
               ts_rank(p.search_document, websearch_to_tsquery('english', 'outdoor paint')) AS s
        FROM retail.products p
        WHERE p.search_document @@ websearch_to_tsquery('english', 'outdoor paint')
        ORDER BY s DESC LIMIT 10"""),
    ("window_stats", """
        SELECT ntile(4) OVER w AS quartile, percent_rank() OVER w, cume_dist() OVER w,
               first_value(total_amount) OVER w, row_number() OVER (ORDER BY order_date) AS rn
        FROM retail.orders
        WINDOW w AS (ORDER BY total_amount ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"""),
    ("reject_set_config",
     "SELECT set_config('zava.user_id', '5ba86bc5-6c7d-4d93-9337-3175bdc44ad8', true), *"
     " FROM retail.orders"),
    ("reject_stacked", "COMMIT; DROP SCHEMA retail CASCADE"),
    ("reject_catalog", "SELECT query FROM pg_stat_activity WHERE state = 'active'"),
]  # fmt: skip


@dataclass(frozen=True)
class Row:
    name: str
    chars: int
    accepted: bool
    guard: list[float]
    parse_sql: list[float]
    parse_json: list[float]


def _guard_call(guard: PglastSqlGuard, sql: str) -> Callable[[], object]:
    def call() -> object:
        try:
            return guard.check(sql)
        except ValidationError as error:
            return error

    return call


def _time_once(func: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    func()
    return (time.perf_counter_ns() - start) / 1000.0  # microseconds


def measure(iterations: int) -> list[Row]:
    guard = PglastSqlGuard(remembered=0)  # the parse path, not the memo of repeated texts
    rows: list[Row] = []
    for name, sql in QUERIES:
        accepted = not isinstance(_guard_call(guard, sql)(), ValidationError)
        calls: dict[str, Callable[[], object]] = {
            "guard": _guard_call(guard, sql),
            "parse_sql": partial(pglast.parse_sql, sql),
            "parse_json": partial(pg_parser.parse_sql_json, sql),
        }
        samples: dict[str, list[float]] = {key: [] for key in calls}
        for _ in range(max(10, iterations // 20)):  # warm-up
            for func in calls.values():
                func()
        gc.collect()
        for _ in range(iterations):  # interleaved, so drift hits all three alike
            for key, func in calls.items():
                samples[key].append(_time_once(func))
        guard_samples, parse_samples, json_samples = samples.values()
        rows.append(
            Row(name, len(sql.strip()), accepted, guard_samples, parse_samples, json_samples)
        )
    return rows


def _p(samples: list[float], percentile: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percentile - 1]


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    pg_major, pg_minor = pg_parser.get_postgresql_version()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- CPU: {model}; nproc: {usable}; load average at the end of the run: {load}",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"pglast {pglast.__version__} (libpg_query for PostgreSQL {pg_major}.{pg_minor})",
    ]


def report(rows: list[Row], iterations: int) -> str:
    lines = [
        "# SQL guard latency (`PglastSqlGuard.check`)",
        "",
        "Generated by `bench/sql_guard.py`; target: p50 <= 1 ms per typical analytics query.",
        "",
        *machine(),
        f"- {iterations} timed calls per query and per function, interleaved, after warm-up",
        "",
        "`check` = parse (libpg_query -> JSON) + json.loads + tree walk + scanner pass for the",
        "comment-free SQL and the fingerprint. Baselines on the same text in the same run:",
        "`parse_sql` = `pglast.parse_sql` (C parse + pglast Python AST), `parse_json` =",
        "`pglast.parser.parse_sql_json` (C parse only). Ratio = check p50 / parse_sql p50.",
        "",
        "| query | chars | verdict | check p50 us | check p95 us | parse_sql p50 us "
        "| parse_json p50 us | ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        guard_p50 = _p(row.guard, 50)
        parse_p50 = _p(row.parse_sql, 50)
        verdict = "accepted" if row.accepted else "rejected"
        lines.append(
            f"| {row.name} | {row.chars} | {verdict} | {guard_p50:.0f} | {_p(row.guard, 95):.0f}"
            f" | {parse_p50:.0f} | {_p(row.parse_json, 50):.0f} | {guard_p50 / parse_p50:.2f} |"
        )
    accepted = [row for row in rows if row.accepted]
    all_guard = [sample for row in accepted for sample in row.guard]
    all_parse = [sample for row in accepted for sample in row.parse_sql]
    per_query_p50 = [_p(row.guard, 50) for row in accepted]
    lines += [
        "",
        f"Accepted queries overall ({len(accepted)} queries): check p50 "
        f"{_p(all_guard, 50):.0f} us, p95 {_p(all_guard, 95):.0f} us, worst per-query p50 "
        f"{max(per_query_p50):.0f} us; parse_sql p50 {_p(all_parse, 50):.0f} us; "
        f"ratio {_p(all_guard, 50) / _p(all_parse, 50):.2f}.",
        "",
        "The guard is cheaper than `pglast.parse_sql` alone because it never builds pglast's",
        "Python node objects: it walks the JSON form of the same libpg_query tree, typed by",
        "pglast's node schema (see adapters/sqlguard/pglast_guard.py).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--iterations", type=int, default=1000)
    arguments.add_argument("--output", type=Path, default=RESULTS)
    options = arguments.parse_args()
    rows = measure(options.iterations)
    text = report(rows, options.iterations)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
