"""Tenant isolation on the real database, through the executor that serves execute_sales_query:
every demo user sees exactly their stores in every tenant table; unknown users see nothing."""

from __future__ import annotations

from uuid import UUID

import pytest

from adapters.demodata.reference import USERS
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from domain.model import UserId
from tests.support.unguarded import AcceptEverythingGuard

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

TENANT_TABLES = ("customers", "orders", "order_items", "inventory")
GUARD = AcceptEverythingGuard()


async def visible_stores(executor: PsycopgSalesQueryExecutor, user: UUID, sql: str) -> set[str]:
    result = await executor.run(UserId(user), GUARD.check(sql), max_rows=1000)
    return {str(row[0]) for row in result.rows}


@pytest.mark.parametrize("table", TENANT_TABLES)
@pytest.mark.parametrize("user", USERS, ids=lambda u: u.display_name)
async def test_every_user_sees_exactly_their_stores(
    executor: PsycopgSalesQueryExecutor, user, table: str
) -> None:
    seen = await visible_stores(executor, user.user_id, f"SELECT DISTINCT store_id FROM {table}")
    assert seen == {str(s) for s in user.store_ids}


@pytest.mark.parametrize("table", TENANT_TABLES)
@pytest.mark.parametrize(
    "user", ["00000000-0000-0000-0000-000000000000", "deadbeef-0000-4000-8000-000000000000",
             "auth0|seattle-manager"], ids=["nil", "unknown", "unknown non-UUID"]
)
async def test_unknown_and_nil_users_see_nothing(
    executor: PsycopgSalesQueryExecutor, user: UUID, table: str
) -> None:
    result = await executor.run(
        UserId(user), GUARD.check(f"SELECT count(*) FROM {table}"), max_rows=10
    )
    assert result.rows == ((0,),)


async def test_joins_stay_inside_the_scope(executor: PsycopgSalesQueryExecutor) -> None:
    seattle = USERS[0]
    sql = """SELECT DISTINCT c.store_id, o.store_id, i.store_id, v.store_id
             FROM customers c JOIN orders o ON o.store_id = c.store_id
                                      AND o.customer_id = c.customer_id
             JOIN order_items i ON i.store_id = o.store_id AND i.order_id = o.order_id
             JOIN inventory v ON v.product_id = i.product_id"""
    result = await executor.run(UserId(seattle.user_id), GUARD.check(sql), max_rows=100)
    assert {str(v) for row in result.rows for v in row} == {str(seattle.store_ids[0])}


async def test_reference_tables_are_shared(executor: PsycopgSalesQueryExecutor) -> None:
    result = await executor.run(
        UserId(USERS[0].user_id), GUARD.check("SELECT count(*) FROM stores"), max_rows=1
    )
    assert result.rows == ((8,),)
