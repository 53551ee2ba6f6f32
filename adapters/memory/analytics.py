"""In-memory sales, inventory and store repositories with the contract of the PostgreSQL ones.

Built from plain records (`RetailRecords`), by default the demo generator's data for a seed,
anchor and scale: the same rows `zava-mcp db init` loads, so a fake built with the database's
parameters answers exactly as the database does (tests/integration/test_analytics_contract.py
holds both to that). Row-level security is emulated: every read is limited to the stores the
access directory gives the user, and an unknown user sees nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from adapters.demodata.generator import DemoDataset, generate_dataset
from adapters.demodata.reference import REGIONS, STORES
from domain.analytics import (
    ZERO,
    DailySales,
    Product,
    ProductId,
    ProductSales,
    StockLevel,
    StoreSales,
)
from domain.errors import UnknownUserError
from domain.model import Store, StoreId, UserId
from domain.time_period import TimePeriod
from ports.access import AccessDirectory
from ports.inventory import InventoryRepository
from ports.sales import SalesRepository
from ports.stores import StoreCatalog

COMPLETED = "completed"
DEMO_SEED = 42  # the default seed of `zava-mcp db init`


@dataclass(frozen=True)
class OrderRecord:
    store_id: StoreId
    order_id: str  # any unique reference; lines point at it
    order_date: datetime  # timezone-aware
    status: str  # completed | returned | cancelled


@dataclass(frozen=True)
class LineRecord:
    store_id: StoreId
    order_id: str
    product_id: ProductId
    quantity: int
    total_amount: Decimal


@dataclass(frozen=True)
class InventoryRecord:
    store_id: StoreId
    product_id: ProductId
    stock_level: int
    reorder_point: int


@dataclass(frozen=True)
class RetailRecords:
    """The rows the analytics fakes serve: stores, products with their unit cost, orders,
    order lines and inventory."""

    stores: tuple[Store, ...]
    products: dict[ProductId, tuple[Product, Decimal]]  # product, unit cost
    orders: tuple[OrderRecord, ...]
    lines: tuple[LineRecord, ...]
    inventory: tuple[InventoryRecord, ...]

    @classmethod
    def from_dataset(cls, dataset: DemoDataset) -> RetailRecords:
        categories = {r[0]: r[1] for r in dataset.table("retail.categories").rows()}
        products: dict[ProductId, tuple[Product, Decimal]] = {}
        for r in dataset.table("retail.products").rows():
            pid = ProductId(UUID(r[0]))
            products[pid] = (Product(pid, str(r[1]), str(r[2]), str(categories[r[4]])),
                             Decimal(str(r[6])))
        store_ids = {str(s.store_id): s.store_id for s in demo_stores()}
        product_ids = {str(p): p for p in products}
        # The big tables hold only ids, numbers and timestamps (nothing COPY escapes), so
        # their lines are split directly; ids are shared objects, not parsed per row.
        orders = tuple(
            OrderRecord(store_ids[c[0]], c[1], _timestamp(c[3]), c[4])
            for c in _columns(dataset, "retail.orders")
        )
        lines = tuple(
            LineRecord(store_ids[c[0]], c[2], product_ids[c[3]], int(c[4]), Decimal(c[7]))
            for c in _columns(dataset, "retail.order_items")
        )
        inventory = tuple(
            InventoryRecord(store_ids[c[0]], product_ids[c[1]], int(c[2]), int(c[3]))
            for c in _columns(dataset, "retail.inventory")
        )
        return cls(demo_stores(), products, orders, lines, inventory)

    @classmethod
    def from_demo(cls, seed: int, anchor: date, scale: str = "small") -> RetailRecords:
        return cls.from_dataset(generate_dataset(seed, anchor, scale))


def demo_stores() -> tuple[Store, ...]:
    regions = {r.region_id: r.name for r in REGIONS}
    return tuple(Store(StoreId(s.store_id), s.name, s.city, s.is_online, regions[s.region_id])
                 for s in STORES)


def _columns(dataset: DemoDataset, table: str) -> Iterator[list[str]]:
    for chunk in dataset.table(table).chunks():
        for line in chunk.splitlines():
            yield line.split("\t")


def _timestamp(text: str) -> datetime:
    # COPY text of a timestamptz: "2026-06-29 13:45:12+00"
    return datetime.fromisoformat(text).astimezone(UTC)


class _Scoped:
    """Row-level security, emulated: the stores `user_id` may see among `store_ids`."""

    def __init__(self, access: AccessDirectory) -> None:
        self._access = access

    async def _visible(self, user_id: UserId, store_ids: frozenset[StoreId]) -> list[StoreId]:
        try:
            scope = await self._access.scope_for(user_id)
        except UnknownUserError:
            return []
        return sorted(store_ids & scope.store_ids)


class InMemorySalesRepository(_Scoped, SalesRepository):
    def __init__(self, records: RetailRecords, access: AccessDirectory) -> None:
        super().__init__(access)
        self._products = records.products
        completed = {(o.store_id, o.order_id): o.order_date.astimezone(UTC).date()
                     for o in records.orders if o.status == COMPLETED}
        self._orders: dict[tuple[StoreId, date], int] = defaultdict(int)
        for (store_id, _), day in completed.items():
            self._orders[(store_id, day)] += 1
        # per store and day: product -> [units, revenue]
        self._lines: dict[tuple[StoreId, date], dict[ProductId, list[Decimal]]] = defaultdict(
            lambda: defaultdict(lambda: [ZERO, ZERO]))
        for line in records.lines:
            order_day = completed.get((line.store_id, line.order_id))
            if order_day is not None:
                acc = self._lines[(line.store_id, order_day)][line.product_id]
                acc[0] += line.quantity
                acc[1] += line.total_amount

    def _cost(self, product_id: ProductId, units: Decimal) -> Decimal:
        return units * self._products[product_id][1]

    async def store_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], periods: Sequence[TimePeriod]
    ) -> list[StoreSales]:
        stores = await self._visible(user_id, store_ids)
        out: list[StoreSales] = []
        for period in periods:
            for store_id in stores:
                orders, units, revenue, cost = 0, ZERO, ZERO, ZERO
                for day in _days(period):
                    orders += self._orders.get((store_id, day), 0)
                    for product_id, (u, r) in self._lines.get((store_id, day), {}).items():
                        units += u
                        revenue += r
                        cost += self._cost(product_id, u)
                if orders or units:
                    out.append(StoreSales(period, store_id, orders, int(units), revenue, cost))
        return out

    async def product_sales(
        self,
        user_id: UserId,
        store_ids: frozenset[StoreId],
        periods: Sequence[TimePeriod],
        *,
        per_store: bool = False,
        product_ids: frozenset[ProductId] | None = None,
    ) -> list[ProductSales]:
        stores = await self._visible(user_id, store_ids)
        out: list[ProductSales] = []
        for period in periods:
            totals: dict[tuple[StoreId | None, ProductId], list[Decimal]] = defaultdict(
                lambda: [ZERO, ZERO])
            for store_id in stores:
                for day in _days(period):
                    for product_id, (u, r) in self._lines.get((store_id, day), {}).items():
                        if product_ids is not None and product_id not in product_ids:
                            continue
                        acc = totals[(store_id if per_store else None, product_id)]
                        acc[0] += u
                        acc[1] += r
            for (group_store, product_id), (units, revenue) in sorted(
                totals.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
            ):
                out.append(ProductSales(period, self._products[product_id][0], int(units),
                                        revenue, self._cost(product_id, units), group_store))
        return out

    async def daily_sales(
        self, user_id: UserId, store_ids: frozenset[StoreId], period: TimePeriod
    ) -> list[DailySales]:
        stores = await self._visible(user_id, store_ids)
        out: list[DailySales] = []
        for day in _days(period):
            orders = sum(self._orders.get((s, day), 0) for s in stores)
            revenue = sum((r for s in stores
                           for _, r in self._lines.get((s, day), {}).values()), ZERO)
            if orders:
                out.append(DailySales(day, orders, revenue))
        return out


class InMemoryInventoryRepository(_Scoped, InventoryRepository):
    def __init__(self, records: RetailRecords, access: AccessDirectory) -> None:
        super().__init__(access)
        self._products = records.products
        self._rows = records.inventory

    async def low_stock(
        self, user_id: UserId, store_ids: frozenset[StoreId], threshold: int | None = None
    ) -> list[StockLevel]:
        visible = set(await self._visible(user_id, store_ids))
        rows = [StockLevel(r.store_id, self._products[r.product_id][0], r.stock_level,
                           r.reorder_point)
                for r in self._rows
                if r.store_id in visible
                and r.stock_level <= (r.reorder_point if threshold is None else threshold)]
        return sorted(rows, key=lambda s: (s.store_id, s.product.product_id))


class InMemoryStoreCatalog(StoreCatalog):
    def __init__(self, stores: Iterable[Store]) -> None:
        self._stores = tuple(sorted(stores, key=lambda s: s.name))

    async def all_stores(self) -> tuple[Store, ...]:
        return self._stores


def _days(period: TimePeriod) -> Iterable[date]:
    return (period.first_day + timedelta(days=n) for n in range(period.days))
