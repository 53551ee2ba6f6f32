"""One contract, two adapters: the in-memory sales/inventory/store repositories (built from the
demo generator's rows) and the psycopg ones (the same rows loaded into PostgreSQL, aggregated in
SQL over the trigger-maintained rollups under row-level security) must give identical results,
and both must keep the contract's own rules. The psycopg side runs twice: on the demo as
`db init` loads it, and on the same chain loaded as an operator loads their own data (exported
as the six CSV files and brought in by `db import --replace`: the `imported_database`
fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.demodata.reference import SEATTLE, STORES, USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.analytics import (
    InMemoryInventoryRepository,
    InMemorySalesRepository,
    InMemoryStoreCatalog,
    RetailRecords,
)
from adapters.memory.clock import FixedClock
from adapters.postgres.analytics import (
    PsycopgInventoryRepository,
    PsycopgSalesRepository,
    PsycopgStoreCatalog,
)
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import make_query_pool
from adapters.postgres.request_context import ContextSigner, read_context_key
from domain.analytics import ProductId
from domain.model import StoreId, UserId
from domain.services.sales_analytics import SalesAnalyticsService
from domain.time_period import TimePeriod
from ports.database_server import DatabaseEndpoints
from ports.inventory import InventoryRepository
from ports.sales import SalesRepository
from ports.stores import StoreCatalog
from tests.conftest import DEMO_ANCHOR, DEMO_SEED

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

NOW = datetime.combine(DEMO_ANCHOR, datetime.min.time(), tzinfo=UTC)
ALL_STORES = frozenset(StoreId(s.store_id) for s in STORES)
SEATTLE_ID = StoreId(SEATTLE.store_id)
SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE = (UserId(USERS[i].user_id) for i in (0, 8, 9))
NOBODY = UserId(str(SEATTLE.store_id))  # a UUID that is not a user
PERIODS = ["last_7_days", "last_90_days", "2025-Q4", "ytd", "2024-02-29..2024-02-29"]


@dataclass(frozen=True)
class Adapters:
    sales: SalesRepository
    inventory: InventoryRepository
    stores: StoreCatalog


@pytest.fixture(scope="module")
def records() -> RetailRecords:
    return RetailRecords.from_demo(DEMO_SEED, DEMO_ANCHOR, "small")


@pytest.fixture(scope="module")
def memory(records: RetailRecords) -> Adapters:
    access = InMemoryAccessDirectory.from_demo_data()
    return Adapters(InMemorySalesRepository(records, access),
                    InMemoryInventoryRepository(records, access),
                    InMemoryStoreCatalog(records.stores))


@pytest.fixture
async def imported_gateway(imported_database: DatabaseEndpoints) -> AsyncIterator[DatabaseGateway]:
    pool = make_query_pool(imported_database.query_url, min_size=1, max_size=3)
    await pool.open(wait=True)
    yield DatabaseGateway(pool, ContextSigner(read_context_key(imported_database.admin_url)),
                          statement_timeout_s=5)
    await pool.close()


def _on_postgres(request: pytest.FixtureRequest, loaded: str) -> Adapters:
    gateway: DatabaseGateway = request.getfixturevalue(
        "gateway" if loaded == "demo" else "imported_gateway")
    return Adapters(PsycopgSalesRepository(gateway),
                    PsycopgInventoryRepository(gateway),
                    PsycopgStoreCatalog(gateway))


@pytest.fixture(params=["demo", "imported"])
def postgres(request: pytest.FixtureRequest) -> Adapters:
    """The demo as `db init` loads it, and the same chain as `db import` loads it."""
    return _on_postgres(request, request.param)


@pytest.fixture(params=["memory", "demo", "imported"])
def adapters(request: pytest.FixtureRequest) -> Adapters:
    if request.param == "memory":
        return request.getfixturevalue("memory")
    return _on_postgres(request, request.param)


def periods(text: str) -> list[TimePeriod]:
    period = TimePeriod.parse(text, NOW)
    return [period, period.previous()]


# ---------------------------------------------------------------- identical results


@pytest.mark.parametrize("user", [SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE, NOBODY],
                         ids=["seattle", "regional", "head_office", "nobody"])
async def test_identical_results(memory: Adapters, postgres: Adapters, user: UserId,
                                 records: RetailRecords) -> None:
    some_products = frozenset(sorted(records.products)[::20])
    for text in PERIODS:
        both = periods(text)
        for stores in (ALL_STORES, frozenset({SEATTLE_ID})):
            for method, args in [
                ("store_sales", (both,)),
                ("daily_sales", (both[0],)),
            ]:
                expected = await getattr(memory.sales, method)(user, stores, *args)
                assert await getattr(postgres.sales, method)(user, stores, *args) == expected, (
                    method, text)
            for per_store, products in ((False, None), (True, None), (True, some_products),
                                        (False, frozenset())):
                expected = await memory.sales.product_sales(
                    user, stores, both, per_store=per_store, product_ids=products)
                got = await postgres.sales.product_sales(
                    user, stores, both, per_store=per_store, product_ids=products)
                assert got == expected, ("product_sales", text, per_store, products)
    for threshold in (None, 0, 7):
        expected = await memory.inventory.low_stock(user, ALL_STORES, threshold)
        assert await postgres.inventory.low_stock(user, ALL_STORES, threshold) == expected
    assert await postgres.stores.all_stores() == await memory.stores.all_stores()


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("store_performance", ("seattle", "last_90_days")),
        ("store_performance", (None, "2025")),
        ("sales_trend", ("last_quarter", "week")),
        ("top_products", ("last_30_days", None, "margin", 20)),
        ("compare_stores", ("ytd", "revenue_growth")),
        ("inventory_alerts", (None, None, 100)),
    ],
)
async def test_the_service_answers_alike_on_both(
    memory: Adapters, postgres: Adapters, method: str, args: tuple
) -> None:
    def service(a: Adapters) -> SalesAnalyticsService:
        return SalesAnalyticsService(InMemoryAccessDirectory.from_demo_data(), a.stores,
                                     a.sales, a.inventory, FixedClock(NOW))

    for user in (SEATTLE_MANAGER, REGIONAL, HEAD_OFFICE):
        expected = await getattr(service(memory), method)(user, *args)
        assert await getattr(service(postgres), method)(user, *args) == expected


# ---------------------------------------------------------------- the contract itself


async def test_rows_are_limited_to_the_users_stores(adapters: Adapters) -> None:
    both = periods("last_90_days")
    rows = await adapters.sales.store_sales(SEATTLE_MANAGER, ALL_STORES, both)
    assert {r.store_id for r in rows} == {SEATTLE_ID}
    per_store = await adapters.sales.product_sales(SEATTLE_MANAGER, ALL_STORES, both,
                                                   per_store=True)
    assert {r.store_id for r in per_store} == {SEATTLE_ID}
    low = await adapters.inventory.low_stock(REGIONAL, ALL_STORES)
    assert {s.store_id for s in low} == {StoreId(s) for s in USERS[8].store_ids}


async def test_an_unknown_user_sees_nothing(adapters: Adapters) -> None:
    both = periods("last_90_days")
    assert await adapters.sales.store_sales(NOBODY, ALL_STORES, both) == []
    assert await adapters.sales.product_sales(NOBODY, ALL_STORES, both) == []
    assert await adapters.sales.daily_sales(NOBODY, ALL_STORES, both[0]) == []
    assert await adapters.inventory.low_stock(NOBODY, ALL_STORES, 10_000) == []


async def test_totals_agree_across_methods(adapters: Adapters) -> None:
    both = periods("last_90_days")
    stores = await adapters.sales.store_sales(HEAD_OFFICE, ALL_STORES, both)
    products = await adapters.sales.product_sales(HEAD_OFFICE, ALL_STORES, both)
    days = await adapters.sales.daily_sales(HEAD_OFFICE, ALL_STORES, both[0])
    for period in both:
        mine = [r for r in stores if r.period == period]
        sold = [r for r in products if r.period == period]
        assert sum(r.revenue for r in mine) == sum(r.revenue for r in sold) > 0
        assert sum(r.units for r in mine) == sum(r.units for r in sold)
        assert sum(r.cost for r in mine) == sum(r.cost for r in sold)
    assert sum(d.orders for d in days) == sum(r.orders for r in stores if r.period == both[0])
    assert [d.day for d in days] == sorted(d.day for d in days)
    assert all(both[0].contains_day(d.day) for d in days)


async def test_results_are_in_the_documented_order(adapters: Adapters) -> None:
    both = periods("2025-Q4")
    stores = await adapters.sales.store_sales(HEAD_OFFICE, ALL_STORES, both)
    assert [(both.index(r.period), r.store_id) for r in stores] == sorted(
        (both.index(r.period), r.store_id) for r in stores)
    products = await adapters.sales.product_sales(HEAD_OFFICE, ALL_STORES, both)
    keys = [(both.index(r.period), r.product.product_id) for r in products]
    assert keys == sorted(keys)
    assert all(r.store_id is None and r.units > 0 for r in products)


async def test_nothing_is_returned_for_a_period_without_sales(adapters: Adapters) -> None:
    before = [TimePeriod.between(DEMO_ANCHOR.replace(year=2020), DEMO_ANCHOR.replace(year=2021))]
    assert await adapters.sales.store_sales(HEAD_OFFICE, ALL_STORES, before) == []
    assert await adapters.sales.product_sales(HEAD_OFFICE, ALL_STORES, before) == []
    assert await adapters.sales.store_sales(HEAD_OFFICE, frozenset(), periods("ytd")) == []
    assert await adapters.inventory.low_stock(HEAD_OFFICE, frozenset(), 10) == []


async def test_cost_is_units_times_the_unit_cost(adapters: Adapters, records: RetailRecords
                                                 ) -> None:
    rows = await adapters.sales.product_sales(HEAD_OFFICE, ALL_STORES, periods("last_30_days"))
    for row in rows:
        unit_cost = records.products[ProductId(row.product.product_id)][1]
        assert row.cost == unit_cost * row.units
        assert isinstance(row.revenue, Decimal)


async def test_all_stores_lists_every_store(adapters: Adapters) -> None:
    stores = await adapters.stores.all_stores()
    assert [s.name for s in stores] == sorted(s.name for s in STORES)
    assert {s.region for s in stores} == {"Puget Sound", "Eastern Washington", "Online"}
