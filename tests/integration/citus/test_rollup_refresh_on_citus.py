"""`zava-mcp db refresh-rollups` on Citus, where the rollup triggers cannot run: after writes to
the workers' shards (an order inserted, a status changed, a line changed or deleted, an order
deleted), the incremental refresh recomputes only the store-days they touched and leaves
exactly what a full rebuild leaves; overlapping refreshes are serialised; every change is
undone at the end (the other Citus tests share the data)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import psycopg
import pytest

from adapters.postgres import provisioning
from ports.database_server import DatabaseEndpoints
from tests.conftest import DEMO_ANCHOR

# a day with no sales: after the demo's anchor date
NEW_ORDER_AT = datetime.combine(DEMO_ANCHOR + timedelta(days=400), time(12), tzinfo=UTC)
ROLLUPS = (
    "SELECT store_id::text, sales_date, orders, units, revenue, cost"
    " FROM retail.daily_store_sales ORDER BY 1, 2",
    "SELECT store_id::text, sales_date, product_id::text, units, revenue, cost"
    " FROM retail.daily_product_sales ORDER BY 1, 2, 3",
)


def rollups(url: str) -> tuple[list[Any], ...]:
    with psycopg.connect(url) as conn:
        return tuple(conn.execute(query).fetchall() for query in ROLLUPS)


def write(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    with psycopg.connect(url) as conn:
        cursor = conn.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def incremental_equals_full(url: str, changed_at_most: int) -> tuple[list[Any], ...]:
    """Refresh incrementally, then rebuild everything: both leave the same rollups."""
    refreshed = provisioning.refresh_rollups(url)
    assert not refreshed.full, refreshed
    assert 1 <= refreshed.recomputed <= changed_at_most, refreshed
    incremental = rollups(url)
    assert provisioning.refresh_rollups(url, full=True).full
    assert rollups(url) == incremental
    return incremental


@pytest.fixture(scope="module")
def refreshed(database: DatabaseEndpoints) -> Iterator[tuple[list[Any], ...]]:
    """Rollups with fingerprints from a first refresh; the rollups as they were."""
    provisioning.refresh_rollups(database.admin_url, full=True)
    before = rollups(database.admin_url)
    yield before
    assert rollups(database.admin_url) == before


@pytest.fixture
def order(database: DatabaseEndpoints) -> dict[str, Any]:
    """A completed order with lines, its first line, and a day with no other sales."""
    (store, order_id, day), = write(database.admin_url, """
        SELECT o.store_id, o.order_id, (o.order_date AT TIME ZONE 'UTC')::date
        FROM retail.orders o WHERE o.status = 'completed'
          AND (SELECT count(*) FROM retail.order_items i
               WHERE i.store_id = o.store_id AND i.order_id = o.order_id) >= 2
        ORDER BY o.order_id LIMIT 1""")
    (line,) = write(database.admin_url, """
        SELECT * FROM retail.order_items WHERE store_id = %(s)s AND order_id = %(o)s
        ORDER BY order_item_id LIMIT 1""", {"s": store, "o": order_id})
    return {"store": store, "order": order_id, "day": day, "line": line}


def test_incremental_refresh_after_writes_equals_a_full_rebuild(
    database: DatabaseEndpoints, refreshed: tuple[list[Any], ...], order: dict[str, Any]
) -> None:
    url, key = database.admin_url, {"s": order["store"], "o": order["order"]}
    line = order["line"]
    try:
        # a new completed order, on a day that had no sales, with two lines
        write(url, """
            WITH o AS (
                INSERT INTO retail.orders (store_id, customer_id, order_date, status, total_amount)
                SELECT store_id, customer_id, %(at)s, 'completed', 30 FROM retail.orders
                WHERE store_id = %(s)s AND order_id = %(o)s
                RETURNING store_id, order_id)
            INSERT INTO retail.order_items (store_id, order_id, product_id, quantity, unit_price,
                                            total_amount)
            SELECT o.store_id, o.order_id, i.product_id, 2, 7.5, 15
            FROM o, retail.order_items i WHERE i.store_id = %(s)s AND i.order_id = %(o)s
            """, {**key, "at": NEW_ORDER_AT})
        assert incremental_equals_full(url, 1) != refreshed
        # a status change: the order leaves its day's rollups
        write(url, "UPDATE retail.orders SET status = 'cancelled'"
                   " WHERE store_id = %(s)s AND order_id = %(o)s", key)
        incremental_equals_full(url, 1)
        write(url, "UPDATE retail.orders SET status = 'completed'"
                   " WHERE store_id = %(s)s AND order_id = %(o)s", key)
        # a line's quantity changes, then the line is deleted (its order untouched)
        write(url, "UPDATE retail.order_items SET quantity = quantity + 1,"
                   " total_amount = total_amount + unit_price"
                   " WHERE store_id = %(s)s AND order_item_id = %(i)s",
              {**key, "i": line[1]})
        incremental_equals_full(url, 2)
        write(url, "DELETE FROM retail.order_items WHERE store_id = %(s)s"
                   " AND order_item_id = %(i)s", {**key, "i": line[1]})
        incremental_equals_full(url, 1)
        # the new order is deleted again
        write(url, """
            DELETE FROM retail.order_items WHERE store_id = %(s)s AND order_id IN (
                SELECT order_id FROM retail.orders WHERE store_id = %(s)s AND order_date = %(at)s);
            """, {**key, "at": NEW_ORDER_AT})
        write(url, "DELETE FROM retail.orders WHERE store_id = %(s)s AND order_date = %(at)s",
              {**key, "at": NEW_ORDER_AT})
        incremental_equals_full(url, 1)
    finally:
        _restore(url, order)
    provisioning.refresh_rollups(url)
    assert rollups(url) == refreshed


def _restore(url: str, order: dict[str, Any]) -> None:
    key = {"s": order["store"], "o": order["order"], "at": NEW_ORDER_AT}
    write(url, "DELETE FROM retail.order_items WHERE store_id = %(s)s AND order_id IN ("
               " SELECT order_id FROM retail.orders WHERE store_id = %(s)s"
               " AND order_date = %(at)s)", key)
    write(url, "DELETE FROM retail.orders WHERE store_id = %(s)s AND order_date = %(at)s", key)
    write(url, "UPDATE retail.orders SET status = 'completed'"
               " WHERE store_id = %(s)s AND order_id = %(o)s", key)
    with psycopg.connect(url) as conn:
        columns = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'retail.order_items'::regclass"
            " AND attnum > 0 AND NOT attisdropped ORDER BY attnum")]
        conn.execute("DELETE FROM retail.order_items WHERE store_id = %s AND order_item_id = %s",
                     (order["store"], order["line"][1]))
        conn.execute(
            f"INSERT INTO retail.order_items ({', '.join(columns)})"
            f" VALUES ({', '.join(['%s'] * len(columns))})", order["line"])


def test_nothing_changed_recomputes_nothing(
    database: DatabaseEndpoints, refreshed: tuple[list[Any], ...]
) -> None:
    provisioning.refresh_rollups(database.admin_url)
    again = provisioning.refresh_rollups(database.admin_url)
    assert (again.full, again.recomputed) == (False, 0)
    assert again.store_days == len(refreshed[0])


def test_overlapping_refreshes_are_serialised(
    database: DatabaseEndpoints, refreshed: tuple[list[Any], ...]
) -> None:
    """Two refreshes at once (one full, one incremental): both finish, and the rollups are
    what a full rebuild gives (each ran alone, under the advisory lock)."""
    errors: list[BaseException] = []

    def run(full: bool) -> None:
        try:
            provisioning.refresh_rollups(database.admin_url, full=full)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(full,)) for full in (True, False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert rollups(database.admin_url) == refreshed


def test_the_cli_refreshes_incrementally_or_fully(
    database: DatabaseEndpoints, refreshed: tuple[list[Any], ...]
) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ZAVA_DATABASE_URL": database.query_url,
           "ZAVA_ADMIN_DATABASE_URL": database.admin_url}

    def cli(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "db", "refresh-rollups", *args],
            capture_output=True, text=True, env=env, check=True, timeout=120).stderr

    assert "full rebuild, 8,7" in cli("--full")
    assert "0 changed store-days recomputed of 8,7" in cli()
