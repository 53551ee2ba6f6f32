"""The daily sales rollups (sql/005) stay exactly equal to a from-scratch aggregation of orders
and order lines through every kind of write, and are tenant tables like the rest: row-level
security for the query role, no writes, no access for a model's SQL."""

from __future__ import annotations

import psycopg
import pytest

from adapters.demodata.reference import SEATTLE, USERS
from adapters.postgres.request_context import ContextSigner
from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.integration

EXPECTED_PRODUCTS = """
SELECT o.store_id, (o.order_date AT TIME ZONE 'UTC')::date, i.product_id, sum(i.quantity),
       sum(i.total_amount), sum(i.quantity) * p.cost
FROM retail.orders o
JOIN retail.order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
JOIN retail.products p ON p.product_id = i.product_id
WHERE o.status = 'completed' AND o.order_date >= '2026-05-01'
GROUP BY 1, 2, 3, p.cost"""
EXPECTED_STORES = """
SELECT o.store_id, o.day, o.n, coalesce(l.units, 0), coalesce(l.revenue, 0), coalesce(l.cost, 0)
FROM (SELECT store_id, (order_date AT TIME ZONE 'UTC')::date AS day, count(*) AS n
      FROM retail.orders WHERE status = 'completed' AND order_date >= '2026-05-01'
      GROUP BY 1, 2) o
LEFT JOIN (SELECT store_id, sales_date AS day, sum(units) AS units, sum(revenue) AS revenue,
                  sum(cost) AS cost
           FROM retail.daily_product_sales WHERE sales_date >= '2026-05-01' GROUP BY 1, 2) l
     USING (store_id, day)"""
ACTUAL_PRODUCTS = ("SELECT store_id, sales_date, product_id, units, revenue, cost"
                   " FROM retail.daily_product_sales WHERE sales_date >= '2026-05-01'")
ACTUAL_STORES = ("SELECT store_id, sales_date, orders, units, revenue, cost"
                 " FROM retail.daily_store_sales WHERE sales_date >= '2026-05-01'")
# The writes touch orders of June 2026 only (and move none before May), so comparing the rollups
# from May on checks every change while keeping each comparison small. Most change a few hundred
# rows (the triggers' static, plan-cached path); the updated_at one changes every June order,
# more than 1000 (the EXECUTE path bulk statements take), and the COPY of the demo load did too.
RECENT = "order_date >= '2026-06-01'"
RECENT_LINES = ("(store_id, order_id) IN (SELECT store_id, order_id FROM retail.orders"
                f" WHERE {RECENT})")

WRITES = [
    "UPDATE retail.orders SET status = 'returned' WHERE order_id IN (SELECT order_id FROM"
    f" retail.orders WHERE status = 'completed' AND {RECENT} ORDER BY order_id LIMIT 300)",
    "UPDATE retail.orders SET status = 'completed' WHERE order_id IN (SELECT order_id FROM"
    f" retail.orders WHERE status = 'cancelled' AND {RECENT} ORDER BY order_id LIMIT 100)",
    "UPDATE retail.orders SET order_date = order_date + interval '13 hours' WHERE order_id IN"
    f" (SELECT order_id FROM retail.orders WHERE {RECENT} ORDER BY order_id DESC LIMIT 200)",
    f"UPDATE retail.orders SET updated_at = updated_at + interval '1 second' WHERE {RECENT}",
    "UPDATE retail.order_items SET quantity = quantity + 1, total_amount = total_amount"
    " + unit_price WHERE order_item_id IN (SELECT order_item_id FROM retail.order_items"
    f" WHERE {RECENT_LINES} ORDER BY order_item_id LIMIT 400)",
    "DELETE FROM retail.order_items WHERE order_item_id IN (SELECT order_item_id FROM"
    f" retail.order_items WHERE {RECENT_LINES} ORDER BY order_item_id DESC LIMIT 500)",
    f"DELETE FROM retail.orders o WHERE {RECENT} AND NOT EXISTS (SELECT 1 FROM"
    " retail.order_items i WHERE i.store_id = o.store_id AND i.order_id = o.order_id)",
    "UPDATE retail.products SET cost = cost + 0.37 WHERE sku IN"
    " (SELECT sku FROM retail.products ORDER BY sku LIMIT 15)",
    "INSERT INTO retail.orders (store_id, order_id, customer_id, order_date, status,"
    " total_amount) SELECT store_id, '00000000-0000-4000-8000-0000000000a1', customer_id,"
    " '2026-06-29 23:59:59+00', 'completed', 30 FROM retail.customers"
    f" WHERE store_id = '{SEATTLE.store_id}' LIMIT 1",
    "INSERT INTO retail.order_items (store_id, order_id, product_id, quantity, unit_price,"
    " discount_amount, total_amount) SELECT o.store_id, o.order_id, p.product_id, 2, 5, 0, 10"
    " FROM retail.orders o, (SELECT product_id FROM retail.products ORDER BY sku LIMIT 3) p"
    " WHERE o.order_id = '00000000-0000-4000-8000-0000000000a1'",
    "TRUNCATE retail.order_items",
    "TRUNCATE retail.orders, retail.order_items",
]


def _difference(conn: psycopg.Connection, expected: str, actual: str) -> tuple[int, int]:
    missing = conn.execute(f"SELECT count(*) FROM ({expected} EXCEPT {actual}) x").fetchone()
    extra = conn.execute(f"SELECT count(*) FROM ({actual} EXCEPT {expected}) x").fetchone()
    assert missing is not None
    assert extra is not None
    return missing[0], extra[0]


def test_rollups_stay_exact_through_every_kind_of_write(database: DatabaseEndpoints) -> None:
    with psycopg.connect(database.admin_url) as conn, conn.transaction(force_rollback=True):
        rows = conn.execute("SELECT count(*) FROM retail.daily_product_sales").fetchone()
        assert rows is not None
        assert rows[0] > 10_000
        assert _difference(conn, EXPECTED_PRODUCTS, ACTUAL_PRODUCTS) == (0, 0)
        assert _difference(conn, EXPECTED_STORES, ACTUAL_STORES) == (0, 0)
        for write in WRITES:
            conn.execute(write)
            assert _difference(conn, EXPECTED_PRODUCTS, ACTUAL_PRODUCTS) == (0, 0), write
            assert _difference(conn, EXPECTED_STORES, ACTUAL_STORES) == (0, 0), write
        assert conn.execute("SELECT count(*) FROM retail.daily_store_sales").fetchone() == (0,)


def test_rebuilding_reproduces_the_maintained_rollups(database: DatabaseEndpoints) -> None:
    snapshot = ("SELECT md5(string_agg(t::text, ',' ORDER BY store_id, sales_date{})) FROM {} t")
    tables = [("retail.daily_store_sales", ""), ("retail.daily_product_sales", ", product_id")]
    with psycopg.connect(database.admin_url) as conn, conn.transaction(force_rollback=True):
        before = [conn.execute(snapshot.format(k, t)).fetchone() for t, k in tables]
        conn.execute("SELECT retail.rebuild_sales_rollups()")
        assert [conn.execute(snapshot.format(k, t)).fetchone() for t, k in tables] == before


def test_rollups_are_tenant_tables_for_the_query_role(
    database: DatabaseEndpoints, signer: ContextSigner
) -> None:
    seattle_manager = str(USERS[0].user_id)
    with psycopg.connect(database.query_url) as conn:
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT set_config('zava.context', %s, true)",
                         (signer.sign("query", seattle_manager, conn.info.backend_pid),))
            for table in ("daily_store_sales", "daily_product_sales"):
                stores = conn.execute(f"SELECT DISTINCT store_id FROM retail.{table}").fetchall()
                assert stores == [(SEATTLE.store_id,)]
        with conn.transaction(force_rollback=True):  # no context: no rows
            assert conn.execute("SELECT count(*) FROM retail.daily_store_sales").fetchone() == (0,)
        for statement in ("DELETE FROM retail.daily_store_sales",
                          "SELECT retail.rebuild_sales_rollups()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)


def test_the_incremental_refresh_agrees_with_the_triggers(database: DatabaseEndpoints) -> None:
    """`db refresh-rollups` on a single node (its triggers keep the rollups exact): after a
    status change it recomputes that one store-day and changes nothing the triggers wrote."""
    from adapters.postgres import provisioning

    snapshot = ("SELECT md5(string_agg(t::text, ',' ORDER BY store_id, sales_date{})) FROM {} t")
    tables = [("retail.daily_store_sales", ""), ("retail.daily_product_sales", ", product_id")]
    flip = ("UPDATE retail.orders SET status = %s WHERE order_id = (SELECT order_id"
            " FROM retail.orders WHERE status = %s ORDER BY order_id LIMIT 1) RETURNING order_id")
    assert provisioning.refresh_rollups(database.admin_url, full=True).full
    with psycopg.connect(database.admin_url) as conn:
        (order_id,) = conn.execute(flip, ("returned", "completed")).fetchone() or (None,)
        conn.commit()
        try:
            by_triggers = [conn.execute(snapshot.format(k, t)).fetchone() for t, k in tables]
            refreshed = provisioning.refresh_rollups(database.admin_url)
            assert (refreshed.full, refreshed.recomputed) == (False, 1)
            assert [conn.execute(snapshot.format(k, t)).fetchone() for t, k in tables
                    ] == by_triggers
        finally:
            conn.execute("UPDATE retail.orders SET status = 'completed' WHERE order_id = %s",
                         (order_id,))
            conn.commit()
    assert provisioning.refresh_rollups(database.admin_url).recomputed == 1
