"""Port: aggregated sales of completed orders, read under the caller's row-level security."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.analytics import DailySales, ProductId, ProductSales, StoreSales
from domain.model import StoreId, UserId
from domain.time_period import TimePeriod


class SalesRepository(Protocol):
    """Every method reads as `user_id` (so the database's row-level security limits the rows
    to that user's stores: an unknown user sees nothing) and only the stores in `store_ids`.
    Only orders with status 'completed' count; an order belongs to the UTC day of its
    order_date. Nothing is returned for a (period, store, product, day) without sales. Rows
    come in the order of `periods`, then by store id and product id; cost is units x the
    product's current unit cost."""

    async def store_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], periods: Sequence[TimePeriod]
    ) -> list[StoreSales]:
        """Orders, units, revenue and cost per period and store."""
        ...

    async def product_sales(
        self,
        user_id: UserId,
        store_ids: frozenset[StoreId],
        periods: Sequence[TimePeriod],
        *,
        per_store: bool = False,
        product_ids: frozenset[ProductId] | None = None,
    ) -> list[ProductSales]:
        """Units, revenue and cost per period and product, summed over the stores (or per
        store and product when `per_store`), of every product sold or only of `product_ids`."""
        ...

    async def daily_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], period: TimePeriod
    ) -> list[DailySales]:
        """Orders and revenue per UTC day of `period`, summed over the stores, by day."""
        ...
