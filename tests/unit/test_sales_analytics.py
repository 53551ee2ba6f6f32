"""SalesAnalyticsService on the in-memory fakes with small hand-made data: exact figures,
store resolution and access, the insight rules, rankings, trends, comparisons and alerts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from adapters.demodata.reference import BELLEVUE, STORES
from domain.analytics import InsightKind, Severity
from domain.errors import AuthorizationError, UnknownUserError, ValidationError
from domain.model import UserId
from domain.services.insights import MIN_ORDERS_TO_COMPARE
from tests.support.retail import (
    DRILL,
    HAMMER,
    HEAD_OFFICE,
    PAINT,
    RAKE,
    REGIONAL,
    SEATTLE_ID,
    SEATTLE_MANAGER,
    TACOMA_ID,
    RetailBuilder,
)

pytestmark = pytest.mark.anyio

CURRENT = [date(2026, 6, 23) + timedelta(days=n) for n in range(7)]  # last_7_days
PREVIOUS = [day - timedelta(days=7) for day in CURRENT]


def basic() -> RetailBuilder:
    return (
        RetailBuilder()
        .sale(SEATTLE_ID, date(2026, 6, 25), (HAMMER, 2, "20.00"), (DRILL, 1, "120.00"))
        .sale(SEATTLE_ID, date(2026, 6, 26), (PAINT, 3, "60.00"))
        .sale(SEATTLE_ID, date(2026, 6, 27), (DRILL, 1, "120.00"), status="returned")
        .sale(SEATTLE_ID, date(2026, 6, 28), (HAMMER, 1, "10.00"), status="cancelled")
        .sale(SEATTLE_ID, date(2026, 6, 30), (HAMMER, 9, "90.00"))  # today: not in last_7_days
        .sale(SEATTLE_ID, date(2026, 6, 22), (HAMMER, 1, "10.00"), hour=23)  # previous period
        .sale(TACOMA_ID, date(2026, 6, 25), (RAKE, 5, "100.00"))
    )


async def test_store_performance_figures() -> None:
    result = await basic().service().store_performance(SEATTLE_MANAGER, "seattle", "last_7_days")
    assert [s.name for s in result.stores] == ["Zava Retail Seattle"]
    assert str(result.previous_period) == "2026-06-16..2026-06-22"
    now, before = result.current, result.previous
    assert (now.orders, now.units, now.revenue, now.cost) == (2, 6, Decimal("200.00"),
                                                              Decimal("90.00"))
    assert (now.average_order_value, now.gross_margin, now.gross_margin_pct) == (
        Decimal("100.00"), Decimal("110.00"), Decimal("55.0"))
    assert (before.orders, before.revenue, before.gross_margin_pct) == (1, Decimal("10.00"),
                                                                        Decimal("50.0"))
    assert result.changes.revenue_pct == Decimal("1900.0")
    assert result.changes.gross_margin_pct_points == Decimal("5.0")
    assert [(c.category, c.share_pct, c.previous_share_pct) for c in result.categories] == [
        ("Power Tools", Decimal("60.0"), Decimal("0.0")),
        ("Paint & Finishes", Decimal("30.0"), Decimal("0.0")),
        ("Hand Tools", Decimal("10.0"), Decimal("100.0")),
    ]
    assert [(p.rank, p.product.sku) for p in result.top_products] == [
        (1, "PT-1"), (2, "PF-1"), (3, "HT-1")]
    assert [i.kind for i in result.insights] == [InsightKind.NO_BASELINE]


async def test_without_a_store_the_figures_cover_every_visible_store() -> None:
    service = basic().service()
    mine = await service.store_performance(SEATTLE_MANAGER, None, "last_7_days")
    everything = await service.store_performance(HEAD_OFFICE, None, "last_7_days")
    assert mine.current.revenue == Decimal("200.00")
    assert everything.current.revenue == Decimal("300.00")
    assert len(everything.stores) == len(STORES)


@pytest.mark.parametrize(
    "text",
    ["seattle", "Seattle", "SEATTLE", "Zava Retail Seattle", "zava retail seattle",
     "Zava Seattle", "seattle store", "  Zava-Retail Seattle ", "sea", str(SEATTLE_ID)],
)
async def test_store_names_are_forgiving(text: str) -> None:
    result = await basic().service().store_performance(HEAD_OFFICE, text, "last_7_days")
    assert [s.store_id for s in result.stores] == [SEATTLE_ID]


async def test_another_store_is_named_but_none_of_its_data_shown() -> None:
    service = basic().service()
    for text in ("tacoma", "Zava Retail Tacoma", str(TACOMA_ID)):
        with pytest.raises(AuthorizationError) as error:
            await service.store_performance(SEATTLE_MANAGER, text, "last_7_days")
        message = error.value.message
        assert "Zava Retail Tacoma is not one of your stores" in message
        assert "stores you can see: Zava Retail Seattle" in message
        assert "$" not in message
        assert "100" not in message


async def test_unknown_store_lists_the_visible_ones() -> None:
    with pytest.raises(ValidationError) as error:
        await basic().service().store_performance(REGIONAL, "gotham", "last_7_days")
    message = error.value.message
    assert "no store matches 'gotham'" in message
    assert message.count("Zava Retail") == 6
    assert "Spokane" not in message  # outside the region: not listed


async def test_validation_comes_before_any_access() -> None:
    service = basic().service()
    with pytest.raises(ValidationError, match="accepted forms"):
        await service.store_performance(SEATTLE_MANAGER, "tacoma", "fortnight")
    with pytest.raises(UnknownUserError):
        await service.store_performance(UserId(str(SEATTLE_ID)), "seattle", "ytd")


# ---------------------------------------------------------------- insights


def steady(builder: RetailBuilder, days: list[date], orders: int,
           *items: tuple[tuple, int, str]) -> RetailBuilder:
    for n in range(orders):
        builder.sale(SEATTLE_ID, days[n % len(days)], *items)
    return builder


async def test_every_insight_rule_in_its_documented_order() -> None:
    builder = RetailBuilder()
    steady(builder, PREVIOUS, 25, (HAMMER, 1, "10.00"), (PAINT, 1, "20.00"))
    steady(builder, CURRENT, 30, (DRILL, 1, "125.00"), (PAINT, 1, "20.00"))
    builder.stock(SEATTLE_ID, DRILL, 2, 10).stock(SEATTLE_ID, PAINT, 50, 10)
    result = await builder.service().store_performance(SEATTLE_MANAGER, "seattle",
                                                       "last_7_days")
    assert [(i.kind, i.severity) for i in result.insights] == [
        (InsightKind.REVENUE_GROWTH, Severity.POSITIVE),
        (InsightKind.AVERAGE_ORDER_VALUE_CHANGE, Severity.POSITIVE),
        (InsightKind.MARGIN_CHANGE, Severity.POSITIVE),
        (InsightKind.CATEGORY_SHARE_SHIFT, Severity.INFO),
        (InsightKind.CATEGORY_SHARE_SHIFT, Severity.INFO),
        (InsightKind.CATEGORY_SHARE_SHIFT, Severity.INFO),
        (InsightKind.STOCKOUT_RISK, Severity.WARNING),
    ]
    messages = [i.message for i in result.insights]
    assert messages[0].startswith("Revenue grew 480.0% to $4,350.00 (from $750.00 in "
                                  "2026-06-16..2026-06-22); orders +20.0%")
    assert messages[2] == "Gross margin improved by 8.6 points to 58.6% (from 50.0%)."
    assert messages[3].startswith("Power Tools: share of revenue rose 86.2 points")
    assert "Best seller #1 Cordless Drill (SKU PT-1)" in messages[6]
    assert "2 in stock, reorder point 10" in messages[6]


async def test_decline_is_a_warning_and_thresholds_are_inclusive() -> None:
    def service(current_total: str):
        builder = RetailBuilder()
        steady(builder, PREVIOUS, MIN_ORDERS_TO_COMPARE, (PAINT, 5, "100.00"))
        steady(builder, CURRENT, MIN_ORDERS_TO_COMPARE, (PAINT, 5, current_total))
        return builder.service()

    async def kinds(total: str) -> list[InsightKind]:
        result = await service(total).store_performance(SEATTLE_MANAGER, None, "last_7_days")
        return [i.kind for i in result.insights]

    assert InsightKind.REVENUE_GROWTH in await kinds("110.00")  # +10.0 %: at the threshold
    assert InsightKind.REVENUE_GROWTH not in await kinds("109.90")  # +9.9 %
    assert InsightKind.REVENUE_DECLINE in await kinds("90.00")
    assert InsightKind.REVENUE_DECLINE not in await kinds("90.10")


async def test_no_sales_is_said_plainly() -> None:
    result = await basic().service().store_performance(REGIONAL, "bellevue", "last_7_days")
    assert result.stores[0].store_id == BELLEVUE.store_id
    assert result.current.orders == 0
    assert result.current.average_order_value == Decimal("0")
    assert [i.kind for i in result.insights] == [InsightKind.NO_SALES]


# ---------------------------------------------------------------- other questions


async def test_trend_lists_every_bucket() -> None:
    trend = await basic().service().sales_trend(SEATTLE_MANAGER, "last_7_days", "day")
    assert [p.first_day for p in trend.points] == CURRENT
    assert [p.orders for p in trend.points] == [0, 0, 1, 1, 0, 0, 0]
    assert trend.total_revenue == Decimal("200.00")
    weekly = await basic().service().sales_trend(HEAD_OFFICE, "2026-06", "week")
    assert [(p.first_day, p.last_day) for p in weekly.points][-1] == (date(2026, 6, 29),
                                                                       date(2026, 6, 30))
    assert weekly.total_revenue == Decimal("400.00")  # incl. today's order


async def test_trend_refuses_too_many_points() -> None:
    with pytest.raises(ValidationError, match="coarser granularity"):
        await basic().service().sales_trend(HEAD_OFFICE, "2024-07-01..2025-12-31", "day")
    with pytest.raises(ValidationError, match="day, week, month"):
        await basic().service().sales_trend(HEAD_OFFICE, "2025", "hourly")


async def test_top_products_rank_by_each_metric_with_sku_tie_breaks() -> None:
    builder = basic().sale(SEATTLE_ID, date(2026, 6, 24), (RAKE, 3, "60.00"))
    service = builder.service()
    by_revenue = await service.top_products(SEATTLE_MANAGER, "last_7_days")
    assert [(p.product.sku, p.revenue) for p in by_revenue.products] == [
        ("PT-1", Decimal("120.00")), ("GO-1", Decimal("60.00")), ("PF-1", Decimal("60.00")),
        ("HT-1", Decimal("20.00"))]
    by_units = await service.top_products(SEATTLE_MANAGER, "last_7_days", by="units", limit=2)
    assert [p.product.sku for p in by_units.products] == ["GO-1", "PF-1"]
    assert by_units.products_sold == 4
    by_margin = await service.top_products(SEATTLE_MANAGER, "last_7_days", by="margin")
    assert [p.product.sku for p in by_margin.products] == ["PT-1", "GO-1", "PF-1", "HT-1"]
    with pytest.raises(ValidationError, match="limit must be between 1 and 50"):
        await service.top_products(SEATTLE_MANAGER, "last_7_days", limit=0)
    with pytest.raises(ValidationError, match="revenue, units, margin"):
        await service.top_products(SEATTLE_MANAGER, "last_7_days", by="profit")


async def test_compare_stores_ranks_only_visible_stores() -> None:
    service = basic().service()
    regional = await service.compare_stores(REGIONAL, "last_7_days", "revenue")
    assert len(regional.standings) == 6
    assert [s.store.store_id for s in regional.standings[:2]] == [SEATTLE_ID, TACOMA_ID]
    assert sum(s.revenue_share_pct for s in regional.standings) == Decimal("100.0")
    growth = await service.compare_stores(REGIONAL, "last_7_days", "revenue_growth")
    assert growth.standings[0].store.store_id == SEATTLE_ID  # Tacoma has no baseline: last
    assert growth.standings[-1].revenue_growth_pct is None
    mine = await service.compare_stores(SEATTLE_MANAGER, "last_7_days", "orders")
    assert [s.rank for s in mine.standings] == [1]
    with pytest.raises(ValidationError, match="average_order_value"):
        await service.compare_stores(REGIONAL, "last_7_days", "profit")


async def test_inventory_alerts_put_best_sellers_first() -> None:
    builder = (basic()
               .stock(SEATTLE_ID, HAMMER, 1, 5)
               .stock(SEATTLE_ID, PAINT, 3, 3)
               .stock(SEATTLE_ID, DRILL, 40, 10)
               .stock(TACOMA_ID, RAKE, 0, 4))
    service = builder.service()
    mine = await service.inventory_alerts(SEATTLE_MANAGER)
    # both sold 3 units in the 30 days before today (today's order and the cancelled one do
    # not count): the larger shortfall goes first
    assert [(a.product.sku, a.units_sold, a.shortfall) for a in mine.alerts] == [
        ("HT-1", 3, 4), ("PF-1", 3, 0)]
    assert mine.days_of_cover(mine.alerts[0]) == Decimal("10.0")
    everything = await service.inventory_alerts(HEAD_OFFICE, limit=1)
    assert (everything.total, len(everything.alerts)) == (3, 1)
    above = await service.inventory_alerts(HEAD_OFFICE, threshold=40)
    assert {a.product.sku for a in above.alerts} == {"HT-1", "PF-1", "PT-1", "GO-1"}
    with pytest.raises(ValidationError, match="threshold"):
        await service.inventory_alerts(HEAD_OFFICE, threshold=-1)


async def test_visible_stores() -> None:
    stores = await basic().service().visible_stores(REGIONAL)
    assert [s.name for s in stores] == sorted(s.name for s in stores)
    assert len(stores) == 6
