"""The MCP surface of sales analytics: `get_store_performance`, `get_sales_trend`,
`get_top_products`, `compare_stores`, `get_inventory_alerts`, the `zava://stores` resource and
the `analyze_store_performance` prompt, registered by build_server (entrypoints/mcp/server.py).

Thin by design: resolve the caller, call SalesAnalyticsService through the ToolCallRunner
(audit + error translation), map the domain answer to a small pydantic model. Money leaves as
USD numbers (exact to the cent), percentages with one decimal.

No `from __future__ import annotations` here: the SDK reads the tool signatures at runtime.
"""

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from domain.analytics import (
    InventoryAlerts,
    ProductRanking,
    RankedProduct,
    SalesMetrics,
    SalesTrend,
    StoreComparison,
    StorePerformance,
)
from domain.model import Store, UserId
from domain.services.sales_analytics import SalesAnalyticsService
from domain.time_period import TimePeriod
from entrypoints.container import Container
from entrypoints.mcp.edge import CallerResolver, Rows, ToolShelf, known
from entrypoints.mcp.tool_calls import ToolCallRunner

T = TypeVar("T")
PERIOD_HELP = (
    "Time period (UTC days): last_7_days, last_30_days, last_90_days (complete days before "
    "today); this_month, this_quarter, this_year, ytd (up to and including today); "
    "last_month, last_quarter, last_year; or YYYY, YYYY-MM, YYYY-Qn, "
    "YYYY-MM-DD..YYYY-MM-DD (both days included)."
)
STORE_HELP = (
    "A store name or id, e.g. \"Seattle\", \"Zava Retail Bellevue\", \"online\" (any case; "
    "the \"Zava Retail\" prefix is optional). Only the signed-in user's stores are allowed; "
    "see whoami."
)


def _usd(value: Decimal) -> float:
    return float(value)


def _pct(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class PeriodInfo(BaseModel):
    label: str = Field(description="the period as asked, canonical form")
    first_day: str = Field(description="first day included, YYYY-MM-DD (UTC)")
    last_day: str = Field(description="last day included, YYYY-MM-DD (UTC)")
    days: int


class Metrics(BaseModel):
    revenue: float = Field(description="USD, completed orders only")
    orders: int = Field(description="completed orders")
    units: int
    average_order_value: float = Field(description="USD, revenue / orders")
    gross_margin: float = Field(description="USD, revenue - cost of goods")
    gross_margin_pct: float | None = Field(description="gross margin / revenue, %")


class Changes(BaseModel):
    revenue_pct: float | None = Field(description="% change vs the previous period")
    orders_pct: float | None
    units_pct: float | None
    average_order_value_pct: float | None
    gross_margin_pct_points: float | None = Field(description="change in margin %, in points")


class CategoryRow(BaseModel):
    category: str
    revenue: float
    units: int
    gross_margin: float
    share_pct: float = Field(description="share of revenue, %; all categories sum to 100")
    previous_share_pct: float
    revenue_change_pct: float | None


class ProductRow(BaseModel):
    rank: int
    sku: str
    name: str
    category: str
    revenue: float
    units: int
    gross_margin: float
    gross_margin_pct: float | None


class InsightRow(BaseModel):
    kind: str
    severity: str = Field(description="positive, warning or info")
    message: str


class StorePerformanceResult(BaseModel):
    stores: list[str] = Field(description="the stores the figures cover")
    period: PeriodInfo
    previous_period: PeriodInfo = Field(description="equal length, just before the period")
    current: Metrics
    previous: Metrics
    change: Changes
    categories: list[CategoryRow] = Field(description="highest revenue first")
    top_products: list[ProductRow] = Field(description="by revenue")
    insights: list[InsightRow] = Field(description="rule-based observations, most important "
                                       "kinds first")


class TrendPointRow(BaseModel):
    first_day: str
    last_day: str
    orders: int
    revenue: float
    average_order_value: float


class SalesTrendResult(Rows):
    ROWS = "points"
    NARROW = "Ask for a coarser granularity (week or month) or a shorter time_period."

    stores: list[str]
    period: PeriodInfo
    granularity: str
    points: list[TrendPointRow] = Field(description="every bucket in order; zero when no sales")
    total_orders: int
    total_revenue: float


class TopProductsResult(Rows):
    ROWS = "products"
    NARROW = "Ask for fewer products (max_rows)."

    stores: list[str]
    period: PeriodInfo
    by: str
    products: list[ProductRow] = Field(description="best first; ties broken by SKU")
    products_sold: int = Field(description="distinct products sold in the period")


class StoreRow(BaseModel):
    rank: int
    store: str
    store_id: str
    revenue: float
    orders: int
    units: int
    average_order_value: float
    gross_margin: float
    gross_margin_pct: float | None
    revenue_growth_pct: float | None = Field(description="vs the previous period, %")
    revenue_share_pct: float = Field(description="share of the compared stores' revenue, %")


class StoreComparisonResult(BaseModel):
    period: PeriodInfo
    previous_period: PeriodInfo
    metric: str
    stores: list[StoreRow] = Field(description="ranked by the metric, best first")


class AlertRow(BaseModel):
    store: str
    sku: str
    name: str
    category: str
    stock_level: int
    reorder_point: int
    shortfall: int = Field(description="units below the reorder point")
    units_sold_last_30_days: int
    days_of_cover: float | None = Field(description="days the stock lasts at the recent rate")


class InventoryAlertsResult(Rows):
    ROWS = "alerts"
    NARROW = "Ask for fewer alerts (max_rows), one store, or a lower threshold."

    stores: list[str]
    rule: str = Field(description="which items are listed")
    alerts: list[AlertRow] = Field(description="best sellers first")
    total_alerts: int
    truncated: bool = Field(description="true if more alerts exist than the limit or the"
                            " answer's byte budget let through")


def period_info(period: TimePeriod) -> PeriodInfo:
    return PeriodInfo(label=period.label, first_day=period.first_day.isoformat(),
                      last_day=period.last_day.isoformat(), days=period.days)


def _names(stores: tuple[Store, ...]) -> list[str]:
    return [s.name for s in stores]


def _metrics(m: SalesMetrics) -> Metrics:
    return Metrics(revenue=_usd(m.revenue), orders=m.orders, units=m.units,
                   average_order_value=_usd(m.average_order_value),
                   gross_margin=_usd(m.gross_margin), gross_margin_pct=_pct(m.gross_margin_pct))


def _product(p: RankedProduct) -> ProductRow:
    return ProductRow(rank=p.rank, sku=p.product.sku, name=p.product.name,
                      category=p.product.category, revenue=_usd(p.revenue), units=p.units,
                      gross_margin=_usd(p.gross_margin), gross_margin_pct=_pct(p.gross_margin_pct))


def to_store_performance(r: StorePerformance) -> StorePerformanceResult:
    c = r.changes
    return StorePerformanceResult(
        stores=_names(r.stores), period=period_info(r.period),
        previous_period=period_info(r.previous_period),
        current=_metrics(r.current), previous=_metrics(r.previous),
        change=Changes(revenue_pct=_pct(c.revenue_pct), orders_pct=_pct(c.orders_pct),
                       units_pct=_pct(c.units_pct),
                       average_order_value_pct=_pct(c.average_order_value_pct),
                       gross_margin_pct_points=_pct(c.gross_margin_pct_points)),
        categories=[
            CategoryRow(category=k.category, revenue=_usd(k.revenue), units=k.units,
                        gross_margin=_usd(k.gross_margin), share_pct=float(k.share_pct),
                        previous_share_pct=float(k.previous_share_pct),
                        revenue_change_pct=_pct(k.revenue_change_pct))
            for k in r.categories
        ],
        top_products=[_product(p) for p in r.top_products],
        insights=[InsightRow(kind=i.kind.value, severity=i.severity.value, message=i.message)
                  for i in r.insights],
    )


def to_sales_trend(r: SalesTrend) -> SalesTrendResult:
    return SalesTrendResult(
        stores=_names(r.stores), period=period_info(r.period), granularity=r.granularity.value,
        points=[TrendPointRow(first_day=p.first_day.isoformat(), last_day=p.last_day.isoformat(),
                              orders=p.orders, revenue=_usd(p.revenue),
                              average_order_value=_usd(p.average_order_value))
                for p in r.points],
        total_orders=r.total_orders, total_revenue=_usd(r.total_revenue),
    )


def to_top_products(r: ProductRanking) -> TopProductsResult:
    return TopProductsResult(stores=_names(r.stores), period=period_info(r.period),
                             by=r.by.value, products=[_product(p) for p in r.products],
                             products_sold=r.products_sold)


def to_store_comparison(r: StoreComparison) -> StoreComparisonResult:
    return StoreComparisonResult(
        period=period_info(r.period), previous_period=period_info(r.previous_period),
        metric=r.metric.value,
        stores=[
            StoreRow(rank=s.rank, store=s.store.name, store_id=str(s.store.store_id),
                     revenue=_usd(s.current.revenue), orders=s.current.orders,
                     units=s.current.units,
                     average_order_value=_usd(s.current.average_order_value),
                     gross_margin=_usd(s.current.gross_margin),
                     gross_margin_pct=_pct(s.current.gross_margin_pct),
                     revenue_growth_pct=_pct(s.revenue_growth_pct),
                     revenue_share_pct=float(s.revenue_share_pct))
            for s in r.standings
        ],
    )


def to_inventory_alerts(r: InventoryAlerts) -> InventoryAlertsResult:
    rule = ("stock at or below each item's reorder point" if r.threshold is None
            else f"stock at or below {r.threshold} units")
    return InventoryAlertsResult(
        stores=_names(r.stores), rule=rule,
        alerts=[
            AlertRow(store=a.store.name, sku=a.product.sku, name=a.product.name,
                     category=a.product.category, stock_level=a.stock_level,
                     reorder_point=a.reorder_point, shortfall=a.shortfall,
                     units_sold_last_30_days=a.units_sold,
                     days_of_cover=_pct(r.days_of_cover(a)))
            for a in r.alerts
        ],
        total_alerts=r.total, truncated=r.total > len(r.alerts),
    )


def add_analytics_tools(
    tools: ToolShelf, container: Container, caller: CallerResolver, runner: ToolCallRunner
) -> None:
    async def ask(
        tool: str, arguments: dict[str, object],
        question: Callable[[SalesAnalyticsService, UserId], Awaitable[T]],
        present: Callable[[T], BaseModel],
    ) -> CallToolResult:
        """Ask the service as the caller (never an argument), through the runner (audit, the
        answer, the error translation)."""
        user_id = caller()
        service = container.sales_analytics_service()
        return await runner.answer(tool, user_id, arguments,
                                   lambda: question(service, known(user_id)), present)

    @tools.add
    async def get_store_performance(
        store: Annotated[str | None, Field(
            description=STORE_HELP + " Leave empty for all the stores the user may see "
            "together.")] = None,
        time_period: Annotated[str, Field(description=PERIOD_HELP)] = "last_30_days",
    ) -> Annotated[CallToolResult, StorePerformanceResult]:
        """How a store performed in a period: revenue, completed orders, units, average order
        value and gross margin, each compared with the previous period of equal length; the
        categories' revenue and share; the top products; and rule-based insights (growth or
        decline, average order value and margin moves, category share shifts, best sellers at
        risk of stock-out). Start here for "how is Seattle doing?"."""
        return await ask(
            "get_store_performance", {"store": store, "time_period": time_period},
            lambda service, user: service.store_performance(user, store, time_period),
            to_store_performance)

    @tools.add
    async def get_sales_trend(
        time_period: Annotated[str, Field(description=PERIOD_HELP)] = "last_90_days",
        granularity: Annotated[Literal["day", "week", "month"], Field(
            description="Bucket size: UTC days, ISO weeks (Monday first) or calendar months; "
            "at most 400 buckets.")] = "week",
        store: Annotated[str | None, Field(
            description=STORE_HELP + " Leave empty for all the user's stores together.")
        ] = None,
    ) -> Annotated[CallToolResult, SalesTrendResult]:
        """Revenue and completed orders over time, one point per day, week or month of the
        period (every bucket listed, zero when there were no sales; the first and last are
        clipped to the period). Use it for "how did sales develop?" and seasonality."""
        return await ask(
            "get_sales_trend",
            {"time_period": time_period, "granularity": granularity, "store": store},
            lambda service, user: service.sales_trend(user, time_period, granularity, store),
            to_sales_trend)

    @tools.add
    async def get_top_products(
        time_period: Annotated[str, Field(description=PERIOD_HELP)] = "last_30_days",
        store: Annotated[str | None, Field(
            description=STORE_HELP + " Leave empty for all the user's stores together.")
        ] = None,
        by: Annotated[Literal["revenue", "units", "margin"], Field(
            description="Rank by revenue (USD), units sold or gross margin (USD).")
        ] = "revenue",
        max_rows: Annotated[int, Field(description="How many products (1..50).")] = 10,
    ) -> Annotated[CallToolResult, TopProductsResult]:
        """The best-selling products of a period, ranked by revenue, units or gross margin,
        with each product's SKU, category, revenue, units and margin."""
        return await ask(
            "get_top_products",
            {"time_period": time_period, "store": store, "by": by, "max_rows": max_rows},
            lambda service, user: service.top_products(user, time_period, store, by, max_rows),
            to_top_products)

    @tools.add
    async def compare_stores(
        time_period: Annotated[str, Field(description=PERIOD_HELP)] = "last_30_days",
        metric: Annotated[Literal[
            "revenue", "orders", "units", "average_order_value", "gross_margin",
            "gross_margin_pct", "revenue_growth"], Field(
            description="What to rank the stores by (revenue_growth = % change vs the "
            "previous period of equal length).")] = "revenue",
    ) -> Annotated[CallToolResult, StoreComparisonResult]:
        """Rank every store the signed-in user may see by a metric for a period, with each
        store's revenue, orders, units, average order value, gross margin, growth vs the
        previous period and share of revenue. A store manager sees only their own store."""
        return await ask(
            "compare_stores", {"time_period": time_period, "metric": metric},
            lambda service, user: service.compare_stores(user, time_period, metric),
            to_store_comparison)

    @tools.add
    async def get_inventory_alerts(
        store: Annotated[str | None, Field(
            description=STORE_HELP + " Leave empty for all the user's stores.")] = None,
        threshold: Annotated[int | None, Field(
            description="Alert when stock is at or below this many units instead of each "
            "item's own reorder point.")] = None,
        max_rows: Annotated[int, Field(description="Most alerts to return (1..200).")] = 50,
    ) -> Annotated[CallToolResult, InventoryAlertsResult]:
        """Products running low: stock at or below the reorder point (or a threshold), best
        sellers first (units sold in the last 30 days), with the shortfall and the days of
        stock left at the recent sales rate. Use it for "what should we reorder?"."""
        return await ask(
            "get_inventory_alerts",
            {"store": store, "threshold": threshold, "max_rows": max_rows},
            lambda service, user: service.inventory_alerts(user, store, threshold, max_rows),
            to_inventory_alerts)
