"""Invariants of the loaded demo data, checked in SQL on the real database."""

from __future__ import annotations

import psycopg
import pytest

from adapters.demodata.reference import CATEGORIES, STORES, USERS
from ports.database_server import DatabaseEndpoints
from tests.conftest import DEMO_ANCHOR

pytestmark = pytest.mark.integration


def _scalar(conn: psycopg.Connection, query: str) -> object:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def admin(database: DatabaseEndpoints):
    with psycopg.connect(database.admin_url) as conn:
        yield conn


def test_order_totals_match_their_lines(admin: psycopg.Connection) -> None:
    mismatches = _scalar(admin, """
        SELECT count(*) FROM retail.orders o
        JOIN (SELECT store_id, order_id, sum(total_amount) AS lines
              FROM retail.order_items GROUP BY 1, 2) i USING (store_id, order_id)
        WHERE o.total_amount <> i.lines""")
    assert mismatches == 0
    assert _scalar(admin, """SELECT count(*) FROM retail.orders o WHERE NOT EXISTS
        (SELECT 1 FROM retail.order_items i
         WHERE i.store_id = o.store_id AND i.order_id = o.order_id)""") == 0


def test_line_totals(admin: psycopg.Connection) -> None:
    assert _scalar(admin, """SELECT count(*) FROM retail.order_items
        WHERE total_amount <> quantity * unit_price - discount_amount""") == 0


def test_every_tenant_row_belongs_to_a_demo_store(admin: psycopg.Connection) -> None:
    stores = {str(s.store_id) for s in STORES}
    for table in ("customers", "orders", "order_items", "inventory"):
        found = {r[0] for r in admin.execute(f"SELECT DISTINCT store_id::text FROM retail.{table}")}
        assert found == stores, table


def test_sizes_of_the_small_scale(admin: psycopg.Connection) -> None:
    assert 350 <= _scalar(admin, "SELECT count(*) FROM retail.products") <= 500
    assert 3_000 <= _scalar(admin, "SELECT count(*) FROM retail.customers") <= 8_000
    assert 30_000 <= _scalar(admin, "SELECT count(*) FROM retail.orders") <= 80_000
    assert _scalar(admin, "SELECT count(DISTINCT category_id) FROM retail.products") == len(
        CATEGORIES
    )


def test_dates_span_three_years_before_the_anchor(admin: psycopg.Connection) -> None:
    first, last = admin.execute(
        "SELECT min(order_date)::date, max(order_date)::date FROM retail.orders"
    ).fetchone()
    assert last <= DEMO_ANCHOR
    assert (DEMO_ANCHOR - last).days <= 2
    assert 1_000 <= (DEMO_ANCHOR - first).days <= 3 * 366


def test_some_inventory_is_at_or_below_its_reorder_point(admin: psycopg.Connection) -> None:
    share = _scalar(admin, """SELECT avg((stock_level <= reorder_point)::int)
                              FROM retail.inventory""")
    assert 0.01 <= float(share) <= 0.25


def test_demo_users_and_access_are_exactly_the_spec(admin: psycopg.Connection) -> None:
    rows = admin.execute(
        "SELECT user_id, role, array_agg(store_id ORDER BY store_id) FROM access.app_users"
        " JOIN access.user_store_access USING (user_id) GROUP BY 1, 2"
    ).fetchall()
    expected = {(u.user_id, u.role, tuple(sorted(u.store_ids))) for u in USERS}
    assert {(r[0], r[1], tuple(r[2])) for r in rows} == expected
