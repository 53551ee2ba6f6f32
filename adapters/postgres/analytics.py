"""Sales, inventory and store repositories on PostgreSQL.

Every query runs in the caller's own RLS transaction (through the DatabaseGateway): the
query role, the signed request context, read-only, always rolled back, so row-level security
limits the rows exactly as for a model's own SQL. Sales aggregate in SQL over the trigger-
maintained daily rollups (sql/005_sales_rollups.sql): one index range scan of
(store_id, sales_date) per period instead of a probe into order_items per order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from psycopg import sql

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn
from domain.analytics import (
    DailySales,
    Product,
    ProductId,
    ProductSales,
    StockLevel,
    StoreSales,
)
from domain.model import Store, StoreId, UserId
from domain.time_period import TimePeriod
from ports.inventory import InventoryRepository
from ports.sales import SalesRepository
from ports.stores import StoreCatalog

# One aggregate per period, glued with UNION ALL: each part is a range scan of the rollup's
# primary key with constant bounds (a join against a VALUES list of periods plans worse).
_STORE_PART = sql.SQL("""
    SELECT {idx}::int AS idx, store_id, sum(orders)::bigint AS orders,
           sum(units)::bigint AS units, sum(revenue) AS revenue, sum(cost) AS cost
    FROM retail.daily_store_sales
    WHERE store_id = ANY (%(stores)s) AND sales_date >= {lo} AND sales_date < {hi}
    GROUP BY store_id""")

_PRODUCT_PART = sql.SQL("""
    SELECT {idx}::int AS idx, {store} AS store_id, product_id, sum(units)::bigint AS units,
           sum(revenue) AS revenue
    FROM retail.daily_product_sales
    WHERE store_id = ANY (%(stores)s) AND sales_date >= {lo} AND sales_date < {hi}{products}
    GROUP BY {group}""")

_PRODUCT_SALES = sql.SQL("""
SELECT x.idx, x.store_id, x.product_id, p.sku, p.name, c.name, x.units, x.revenue,
       x.units * p.cost
FROM ({parts}) AS x
JOIN retail.products AS p ON p.product_id = x.product_id
JOIN retail.categories AS c ON c.category_id = p.category_id
ORDER BY x.idx, x.store_id, x.product_id""")

_DAILY_SALES = """
SELECT sales_date, sum(orders)::bigint, sum(revenue)
FROM retail.daily_store_sales
WHERE store_id = ANY (%(stores)s) AND sales_date >= %(lo)s AND sales_date < %(hi)s
GROUP BY sales_date
HAVING sum(orders) > 0
ORDER BY sales_date"""

_LOW_STOCK = """
SELECT i.store_id, i.product_id, p.sku, p.name, c.name, i.stock_level, i.reorder_point
FROM retail.inventory AS i
JOIN retail.products AS p ON p.product_id = i.product_id
JOIN retail.categories AS c ON c.category_id = p.category_id
WHERE i.store_id = ANY (%(stores)s)
  AND i.stock_level <= coalesce(%(threshold)s::integer, i.reorder_point)
ORDER BY i.store_id, i.product_id"""

_STORES = """
SELECT s.store_id, s.name, s.city, s.is_online, r.name
FROM retail.stores AS s JOIN retail.regions AS r ON r.region_id = s.region_id
ORDER BY s.name"""


class _Repository:
    def __init__(self, gateway: DatabaseGateway) -> None:
        self._gateway = gateway

    async def _fetch(
        self, operation: str, user_id: UserId | None, query: sql.SQL | sql.Composed | str,
        params: dict[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        async def read(conn: AsyncConn) -> list[tuple[Any, ...]]:
            return await (await conn.execute(query, params)).fetchall()

        return await self._gateway.read(operation, user_id, read)


def _bounds(periods: Sequence[TimePeriod]) -> dict[str, date]:
    params: dict[str, date] = {}
    for i, period in enumerate(periods):
        params[f"lo{i}"] = period.first_day
        params[f"hi{i}"] = period.end.date()
    return params


def _parts(template: sql.SQL, periods: Sequence[TimePeriod], **extra: sql.Composable
           ) -> sql.Composable:
    return sql.SQL(" UNION ALL ").join(
        template.format(idx=sql.Literal(i), lo=sql.Placeholder(f"lo{i}"),
                        hi=sql.Placeholder(f"hi{i}"), **extra)
        for i in range(len(periods))
    )


class PsycopgSalesRepository(_Repository, SalesRepository):
    async def store_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], periods: Sequence[TimePeriod]
    ) -> list[StoreSales]:
        if not periods or not store_ids:
            return []
        query = sql.SQL("{} ORDER BY idx, store_id").format(_parts(_STORE_PART, periods))
        rows = await self._fetch("sales.store_sales", user_id, query,
                                 {"stores": sorted(store_ids), **_bounds(periods)})
        return [
            StoreSales(periods[idx], StoreId(store_id), int(orders), int(units),
                       Decimal(revenue), Decimal(cost))
            for idx, store_id, orders, units, revenue, cost in rows
        ]

    async def product_sales(
        self,
        user_id: UserId,
        store_ids: frozenset[StoreId],
        periods: Sequence[TimePeriod],
        *,
        per_store: bool = False,
        product_ids: frozenset[ProductId] | None = None,
    ) -> list[ProductSales]:
        if not periods or not store_ids or product_ids == frozenset():
            return []
        store = sql.SQL("store_id" if per_store else "NULL::uuid")
        group = sql.SQL("store_id, product_id" if per_store else "product_id")
        products = sql.SQL("" if product_ids is None else " AND product_id = ANY (%(products)s)")
        query = _PRODUCT_SALES.format(parts=_parts(_PRODUCT_PART, periods, store=store,
                                                   group=group, products=products))
        rows = await self._fetch("sales.product_sales", user_id, query, {
            "stores": sorted(store_ids), "products": sorted(product_ids or ()),
            **_bounds(periods)})
        return [
            ProductSales(
                periods[idx], Product(ProductId(product_id), sku, name, category), int(units),
                Decimal(revenue), Decimal(cost), None if store_id is None else StoreId(store_id),
            )
            for idx, store_id, product_id, sku, name, category, units, revenue, cost in rows
        ]

    async def daily_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], period: TimePeriod
    ) -> list[DailySales]:
        if not store_ids:
            return []
        rows = await self._fetch("sales.daily_sales", user_id, _DAILY_SALES, {
            "stores": sorted(store_ids), "lo": period.first_day, "hi": period.end.date(),
        })
        return [DailySales(day, int(orders), Decimal(revenue)) for day, orders, revenue in rows]


class PsycopgInventoryRepository(_Repository, InventoryRepository):
    async def low_stock(
        self, user_id: UserId, store_ids: frozenset[StoreId], threshold: int | None = None
    ) -> list[StockLevel]:
        if not store_ids:
            return []
        rows = await self._fetch("inventory.low_stock", user_id, _LOW_STOCK, {
            "stores": sorted(store_ids), "threshold": threshold})
        return [
            StockLevel(StoreId(store_id), Product(ProductId(product_id), sku, name, category),
                       int(stock), int(reorder))
            for store_id, product_id, sku, name, category, stock, reorder in rows
        ]


class PsycopgStoreCatalog(_Repository, StoreCatalog):
    async def all_stores(self) -> tuple[Store, ...]:
        # Reference data, the same for everyone: read without a user (no tenant rows).
        rows = await self._fetch("stores.all_stores", None, _STORES)
        return tuple(
            Store(StoreId(sid), name, city, bool(online), region)
            for sid, name, city, online, region in rows
        )
