"""Refreshing the daily sales rollups (`zava-mcp db refresh-rollups`): incremental by default,
a full rebuild on request.

A single PostgreSQL keeps the rollups exact with triggers (sql/005, sql/008); on Citus those
cannot run on distributed tables and the rollups catch up by this refresh. The incremental
refresh recomputes only the store-days whose source rows changed since the last refresh:
1. one aggregate, pushed down to every shard, computes per store and UTC day a fingerprint of
   what the rollups are computed from (each completed order and each of its lines with
   product, quantity, amount and the product's current cost: the sum of a 64-bit hash per
   line, and the line count);
2. it is compared with the fingerprints stored at the last refresh
   (zava_meta.sales_rollup_fingerprints); an insert, update or delete of any of those rows
   changes the fingerprint of every store-day it touched (a changed day going unnoticed
   needs a 64-bit hash collision);
3. those store-days' rollup rows are deleted and recomputed from the orders, and their
   fingerprints stored.
All in one REPEATABLE READ transaction, so the fingerprints stored and the rollups written see
the same rows (on Citus: the same snapshot per shard, hence per store), and readers see the
old rollups until it commits. Refreshes are serialised by an advisory lock taken before the
transaction starts (a waiting refresh then reads what the first one committed). A full
rebuild (retail.rebuild_sales_rollups()) runs when asked (`--full`, the way to repair rollups
changed behind the refresh's back), when no fingerprints are stored yet, and when more than
half of the store-days changed (one TRUNCATE and rewrite is then cheaper than deleting and
re-inserting most rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

_LOCK_KEY = 0x5A7A_2011  # pg_advisory_lock key serialising refreshes
_FULL_REBUILD_SHARE = 0.5  # more changed store-days than this share: rebuild everything

# Per store and UTC day of completed orders: the line count and the sum of a 64-bit hash of
# each line (an order without lines is one line of its own). Grouped by store_id, so Citus
# runs it on every shard in parallel and the coordinator only collects one row per store-day.
_FINGERPRINTS = """
SELECT o.store_id, (o.order_date AT TIME ZONE 'UTC')::date AS sales_date, count(*) AS lines,
       sum(hashtextextended(concat_ws('|', o.order_id, i.product_id, i.quantity,
                                      i.total_amount, p.cost), 0)::numeric) AS fingerprint
FROM retail.orders AS o
LEFT JOIN retail.order_items AS i ON i.store_id = o.store_id AND i.order_id = o.order_id
LEFT JOIN retail.products AS p ON p.product_id = i.product_id
WHERE o.status = 'completed'
GROUP BY 1, 2
"""
# The store-days to recompute, as 'store_id/day number' keys: a filter Citus pushes down to
# the shards of those stores (store_id = ANY prunes the shards). Day numbers, because Citus
# refuses STABLE functions of columns in a DELETE, and date-to-text is STABLE (DateStyle).
_EPOCH = date(2000, 1, 1)
_CHOSEN = ("{alias}store_id = ANY (%(stores)s::uuid[]) AND ({alias}store_id::text || '/'"
           " || ({day} - DATE '2000-01-01')) = ANY (%(keys)s::text[])")
_ORDER_DAY = "(o.order_date AT TIME ZONE 'UTC')::date"
_RECOMPUTE = (
    "DELETE FROM retail.daily_product_sales WHERE " + _CHOSEN.format(alias="", day="sales_date"),
    "DELETE FROM retail.daily_store_sales WHERE " + _CHOSEN.format(alias="", day="sales_date"),
    """
    INSERT INTO retail.daily_product_sales (store_id, sales_date, product_id, units, revenue, cost)
    SELECT x.store_id, x.sales_date, x.product_id, x.units, x.revenue, x.units * p.cost
    FROM (SELECT o.store_id, (o.order_date AT TIME ZONE 'UTC')::date AS sales_date,
                 i.product_id, sum(i.quantity) AS units, sum(i.total_amount) AS revenue
          FROM retail.orders AS o
          JOIN retail.order_items AS i ON i.store_id = o.store_id AND i.order_id = o.order_id
          WHERE o.status = 'completed' AND """ + _CHOSEN.format(alias="o.", day=_ORDER_DAY) + """
          GROUP BY 1, 2, 3) AS x
    JOIN retail.products AS p ON p.product_id = x.product_id
    """,
    """
    INSERT INTO retail.daily_store_sales (store_id, sales_date, orders, units, revenue, cost)
    SELECT o.store_id, o.sales_date, o.orders, coalesce(d.units, 0), coalesce(d.revenue, 0),
           coalesce(d.cost, 0)
    FROM (SELECT o.store_id, (o.order_date AT TIME ZONE 'UTC')::date AS sales_date,
                 count(*) AS orders
          FROM retail.orders AS o
          WHERE o.status = 'completed' AND """ + _CHOSEN.format(alias="o.", day=_ORDER_DAY) + """
          GROUP BY 1, 2) AS o
    LEFT JOIN (SELECT store_id, sales_date, sum(units) AS units, sum(revenue) AS revenue,
                      sum(cost) AS cost
               FROM retail.daily_product_sales
               WHERE """ + _CHOSEN.format(alias="", day="sales_date") + """
               GROUP BY 1, 2) AS d
           ON d.store_id = o.store_id AND d.sales_date = o.sales_date
    """,
)

StoreDay = tuple[str, date]
Fingerprint = tuple[int, str]  # (lines, hash sum) as read


@dataclass(frozen=True)
class RollupRefresh:
    full: bool  # a full rebuild (else only the changed store-days were recomputed)
    recomputed: int  # store-days recomputed (a full rebuild: every store-day with sales)
    store_days: int  # store-days with completed orders after the refresh
    reason: str  # why it rebuilt everything, or what it found

    def summary(self) -> str:
        if self.full:
            return f"full rebuild, {self.store_days:,} store-days ({self.reason})"
        return (f"{self.recomputed:,} changed store-days recomputed"
                f" of {self.store_days:,}")


def refresh(admin_url: str, *, full: bool = False) -> RollupRefresh:
    """Bring the rollups up to date with the orders (see the module's docstring)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                conn.execute("SET LOCAL ROLE zava_owner")
                return _refresh(conn, full)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))


def _refresh(conn: psycopg.Connection, full: bool) -> RollupRefresh:
    current = _fingerprints(conn, _FINGERPRINTS)
    stored = _fingerprints(
        conn, "SELECT store_id, sales_date, lines, fingerprint"
              " FROM zava_meta.sales_rollup_fingerprints")
    changed = sorted(key for key in current.keys() | stored.keys()
                     if current.get(key) != stored.get(key))
    reason = _full_rebuild_reason(full, stored, changed)
    if reason is not None:
        conn.execute("SELECT retail.rebuild_sales_rollups()")
        conn.execute("TRUNCATE zava_meta.sales_rollup_fingerprints")
        _store(conn, current, list(current))
        return RollupRefresh(True, len(current), len(current), reason)
    if changed:
        chosen = {"stores": sorted({store for store, _ in changed}),
                  "keys": [f"{store}/{(day - _EPOCH).days}" for store, day in changed]}
        for statement in _RECOMPUTE:
            conn.execute(statement, chosen)
        conn.execute(
            "DELETE FROM zava_meta.sales_rollup_fingerprints"
            " WHERE " + _CHOSEN.format(alias="", day="sales_date"), chosen)
        _store(conn, current, [key for key in changed if key in current])
    return RollupRefresh(False, len(changed), len(current),
                         f"{len(changed)} of {len(current)} store-days changed")


def _full_rebuild_reason(full: bool, stored: dict[StoreDay, Fingerprint],
                         changed: list[StoreDay]) -> str | None:
    if full:
        return "a full rebuild was asked for"
    if not stored:
        return "no fingerprints from an earlier refresh"
    if len(changed) > _FULL_REBUILD_SHARE * len(stored):
        return f"{len(changed)} of {len(stored)} store-days changed"
    return None


def _fingerprints(conn: psycopg.Connection, query: str) -> dict[StoreDay, Fingerprint]:
    return {(str(store), day): (int(lines), str(fingerprint))
            for store, day, lines, fingerprint in conn.execute(query)}


def _store(conn: psycopg.Connection, current: dict[StoreDay, Fingerprint],
           keys: list[StoreDay]) -> None:
    with conn.cursor().copy(
        "COPY zava_meta.sales_rollup_fingerprints (store_id, sales_date, lines, fingerprint)"
        " FROM STDIN"
    ) as copy:
        for key in keys:
            copy.write_row((*key, *current[key]))
