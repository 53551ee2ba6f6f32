"""Port: stock levels per store and product, read under the caller's row-level security."""

from __future__ import annotations

from typing import Protocol

from domain.analytics import StockLevel
from domain.model import StoreId, UserId


class InventoryRepository(Protocol):
    """Reads as `user_id` (row-level security: an unknown user sees nothing), limited to the
    stores in `store_ids`."""

    async def low_stock(
        self, user_id: UserId, store_ids: frozenset[StoreId], threshold: int | None = None
    ) -> list[StockLevel]:
        """Inventory rows at or below their own reorder point (threshold None) or at or below
        `threshold` units, by store id and product id."""
        ...
