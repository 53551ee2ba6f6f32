"""Benchmark: what row-level security costs.

The same aggregate over orders, for the Seattle store manager:
- RLS: as the query role inside a signed request context (the policy's access function verifies
  the HMAC once per planned statement and the planner folds the caller's store list into the
  plan, sql/009);
- baseline: as the owner (no RLS) with the equivalent explicit `WHERE store_id = ANY(...)`.
Both through psycopg on the same connection type, interleaved, on the `large` dataset; the median
ratio is the figure (target <= 1.15). The full request path (BEGIN, signed context, query,
ROLLBACK) is reported too.

    .venv/bin/python bench/rls_overhead.py [--scale large] [--repeats 60]
"""

from __future__ import annotations

import argparse
import json

import psycopg
from _common import (
    RESULTS,
    bench_database,
    machine_description,
    machine_markdown,
    median,
    percentile,
    timed,
)

from adapters.demodata.reference import USERS, DemoUser
from adapters.postgres.request_context import ContextSigner, read_context_key

# the target is the store manager's; head office (every store) shows the policy costs the
# widest scope nothing either
USERS_MEASURED = (USERS[0], USERS[-1])
QUERIES = {
    "monthly revenue, full history": """
        SELECT date_trunc('month', order_date) AS month, count(*), sum(total_amount)
        FROM retail.orders WHERE status = 'completed' {extra} GROUP BY 1 ORDER BY 1""",
    "last 90 days revenue": """
        SELECT count(*), sum(total_amount) FROM retail.orders
        WHERE order_date >= timestamptz '2026-06-30' - interval '90 days' {extra}""",
    "category revenue (orders x items x products)": """
        SELECT p.category_id, sum(i.total_amount) FROM retail.order_items i
        JOIN retail.products p USING (product_id)
        WHERE true {extra_items} GROUP BY 1""",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "large"), default="large")
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    if args.repeats < 10:
        parser.error("--repeats must be at least 10 (runs are interleaved in blocks of 10)")
    endpoints = bench_database(args.scale)
    signer = ContextSigner(read_context_key(endpoints.admin_url))
    rows = []
    # prepare_threshold=None on both, as the server's query pool: every statement is planned
    # with the values it runs with
    with psycopg.connect(endpoints.query_url, autocommit=True, prepare_threshold=None) as rls, \
            psycopg.connect(endpoints.admin_url, autocommit=True, prepare_threshold=None) as owner:
        for conn in (rls, owner):
            conn.execute("SET jit = off")
        for user in USERS_MEASURED:
            for name, template in QUERIES.items():
                rows.append(measure(rls, owner, signer, user, name, template, args.repeats))
                print(f"{user.display_name:<24} {name:<46} RLS p50 {rows[-1]['rls_p50_ms']:8.2f}"
                      f" ms   owner p50 {rows[-1]['owner_p50_ms']:8.2f} ms"
                      f"   ratio {rows[-1]['ratio_p50']:.3f}")
    write_results(args, rows)
    return 0


def measure(rls: psycopg.Connection, owner: psycopg.Connection, signer: ContextSigner,
            user: DemoUser, name: str, template: str, repeats: int) -> dict[str, object]:
    rls_sql = template.format(extra="", extra_items="")
    owner_sql = template.format(extra="AND store_id = ANY(%(s)s)",
                                extra_items="AND i.store_id = ANY(%(s)s)")
    stores = list(user.store_ids)

    def run_rls() -> None:
        with rls.transaction(force_rollback=True):
            rls.execute("SELECT set_config('zava.context', %s, true)",
                        (signer.sign("query", str(user.user_id), rls.info.backend_pid),))
            rls.execute(rls_sql).fetchall()

    def run_owner() -> None:
        with owner.transaction(force_rollback=True):
            owner.execute(owner_sql, {"s": stores}).fetchall()

    rls_ms: list[float] = []
    owner_ms: list[float] = []
    for _ in range(repeats // 10):  # interleave to share the machine's noise
        rls_ms += timed(run_rls, 10, warmup=1)
        owner_ms += timed(run_owner, 10, warmup=1)
    return {
        "user": user.display_name,
        "stores": len(stores),
        "query": name,
        "rls_p50_ms": round(median(rls_ms), 3),
        "rls_p95_ms": round(percentile(rls_ms, 95), 3),
        "owner_p50_ms": round(median(owner_ms), 3),
        "owner_p95_ms": round(percentile(owner_ms, 95), 3),
        "ratio_p50": round(median(rls_ms) / median(owner_ms), 3),
    }


def write_results(args: argparse.Namespace, rows: list[dict[str, object]]) -> None:
    machine = machine_description()
    (RESULTS / "rls_overhead.json").write_text(json.dumps(
        {"scale": args.scale, "repeats": args.repeats, "machine": machine, "results": rows},
        indent=2) + "\n")
    table = "\n".join(
        f"| {r['user']} ({r['stores']}) | {r['query']} | {r['rls_p50_ms']} | {r['rls_p95_ms']} |"
        f" {r['owner_p50_ms']} | {r['owner_p95_ms']} | **{r['ratio_p50']}** |" for r in rows)
    (RESULTS / "rls_overhead.md").write_text(f"""# Row-level security overhead

Generated by `bench/rls_overhead.py` on the `{args.scale}` dataset, {args.repeats} interleaved
runs per query. RLS = the query role in a signed request context (BEGIN, set_config, query,
ROLLBACK); baseline = the owner, no RLS, the same query with `store_id = ANY(...)` (BEGIN, query,
ROLLBACK). Users: the Seattle store manager (the target: median ratio <= 1.15) and head office
(all stores). Both sides plan each statement afresh (no prepared statements), as the server does.

| user (stores) | query | RLS p50 ms | RLS p95 ms | owner p50 ms | owner p95 ms | ratio (p50) |
|---|---|---:|---:|---:|---:|---:|
{table}

{machine_markdown(machine)}
""")


if __name__ == "__main__":
    raise SystemExit(main())
