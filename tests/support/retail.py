"""Small hand-made retail data for service tests: a builder of RetailRecords and the service
wired on the in-memory fakes with a fixed clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from adapters.demodata.reference import SEATTLE, TACOMA, USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.analytics import (
    InMemoryInventoryRepository,
    InMemorySalesRepository,
    InMemoryStoreCatalog,
    InventoryRecord,
    LineRecord,
    OrderRecord,
    RetailRecords,
    demo_stores,
)
from adapters.memory.clock import FixedClock
from domain.analytics import Product, ProductId
from domain.model import StoreId, UserId
from domain.services.sales_analytics import SalesAnalyticsService

TODAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
SEATTLE_ID, TACOMA_ID = StoreId(SEATTLE.store_id), StoreId(TACOMA.store_id)
SEATTLE_MANAGER = UserId(USERS[0].user_id)
REGIONAL = UserId(USERS[8].user_id)
HEAD_OFFICE = UserId(USERS[9].user_id)


def product(n: int, sku: str, name: str, category: str, cost: str) -> tuple[Product, Decimal]:
    return Product(ProductId(UUID(int=n)), sku, name, category), Decimal(cost)


HAMMER = product(1, "HT-1", "Claw Hammer", "Hand Tools", "5.00")
DRILL = product(2, "PT-1", "Cordless Drill", "Power Tools", "50.00")
PAINT = product(3, "PF-1", "Interior Paint", "Paint & Finishes", "10.00")
RAKE = product(4, "GO-1", "Leaf Rake", "Garden & Outdoor", "8.00")
CATALOGUE = (HAMMER, DRILL, PAINT, RAKE)


@dataclass
class RetailBuilder:
    orders: list[OrderRecord] = field(default_factory=list)
    lines: list[LineRecord] = field(default_factory=list)
    inventory: list[InventoryRecord] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def sale(
        self, store: StoreId, day: date, *items: tuple[tuple[Product, Decimal], int, str],
        status: str = "completed", hour: int = 12,
    ) -> RetailBuilder:
        """One order with lines (product, quantity, line total)."""
        order_id = f"order-{next(self._ids)}"
        self.orders.append(OrderRecord(store, order_id,
                                       datetime.combine(day, time(hour), tzinfo=UTC), status))
        for (p, _), quantity, total in items:
            self.lines.append(LineRecord(store, order_id, p.product_id, quantity,
                                         Decimal(total)))
        return self

    def stock(self, store: StoreId, item: tuple[Product, Decimal], level: int,
              reorder_point: int) -> RetailBuilder:
        self.inventory.append(InventoryRecord(store, item[0].product_id, level, reorder_point))
        return self

    def records(self) -> RetailRecords:
        return RetailRecords(demo_stores(), {p.product_id: (p, c) for p, c in CATALOGUE},
                             tuple(self.orders), tuple(self.lines), tuple(self.inventory))

    def service(self, now: datetime = NOW) -> SalesAnalyticsService:
        return service_on(self.records(), now)


def service_on(records: RetailRecords, now: datetime = NOW) -> SalesAnalyticsService:
    access = InMemoryAccessDirectory.from_demo_data()
    return SalesAnalyticsService(
        access, InMemoryStoreCatalog(records.stores),
        InMemorySalesRepository(records, access), InMemoryInventoryRepository(records, access),
        FixedClock(now),
    )
