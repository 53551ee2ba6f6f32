"""Sales analytics model: the facts repositories return and the answers the service builds.

Money is `Decimal` throughout (USD, exact to the cent as stored); derived money (average order
value) is rounded half-up to the cent, percentages to one decimal. Revenue, units, orders and
cost count **completed** orders only (returned and cancelled orders are not sales). Cost is
units × the product's unit cost, so gross margin = revenue - cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NewType, TypeVar
from uuid import UUID

from domain.model import Store, StoreId
from domain.time_period import Granularity, TimePeriod, parse_choice

ProductId = NewType("ProductId", UUID)

ZERO = Decimal("0")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
HUNDRED = Decimal("100")

K = TypeVar("K")


def money(value: Decimal) -> Decimal:
    """Round to the cent, half up (how a receipt rounds)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole in percent, one decimal; None when whole is zero."""
    if whole == 0:
        return None
    return (part * HUNDRED / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """Change from previous to current in percent, one decimal; None without a baseline."""
    if previous == 0:
        return None
    return ((current - previous) * HUNDRED / previous).quantize(TENTH, rounding=ROUND_HALF_UP)


def shares(values: Sequence[tuple[K, Decimal]]) -> dict[K, Decimal]:
    """Each value's share of the total in percent with one decimal, rounded by the largest
    remainder method so that the shares add up to exactly 100.0 (when the total is positive).
    Ties in the remainder go to the earlier item, so equal inputs give equal outputs."""
    total = sum((v for _, v in values), ZERO)
    if total <= 0:
        return {key: Decimal("0.0") for key, _ in values}
    tenths = [(key, v * 1000 / total) for key, v in values]
    floors = {key: int(t) for key, t in tenths}
    left = 1000 - sum(floors.values())
    by_remainder = sorted(range(len(tenths)), key=lambda i: -(tenths[i][1] - int(tenths[i][1])))
    for i in by_remainder[:left]:
        floors[tenths[i][0]] += 1
    return {key: (Decimal(n) / 10).quantize(TENTH) for key, n in floors.items()}


def average_order_value(revenue: Decimal, orders: int) -> Decimal:
    return money(revenue / orders) if orders else ZERO


class _Margin:
    """Gross margin of anything with revenue and cost."""

    revenue: Decimal
    cost: Decimal

    @property
    def gross_margin(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def gross_margin_pct(self) -> Decimal | None:
        return percent(self.gross_margin, self.revenue)


# ---------------------------------------------------------------- choices


class RankBy(StrEnum):
    REVENUE = "revenue"
    UNITS = "units"
    MARGIN = "margin"

    @classmethod
    def parse(cls, text: str) -> RankBy:
        return parse_choice(cls, text, "by")


class StoreMetric(StrEnum):
    REVENUE = "revenue"
    ORDERS = "orders"
    UNITS = "units"
    AVERAGE_ORDER_VALUE = "average_order_value"
    GROSS_MARGIN = "gross_margin"
    GROSS_MARGIN_PCT = "gross_margin_pct"
    REVENUE_GROWTH = "revenue_growth"

    @classmethod
    def parse(cls, text: str) -> StoreMetric:
        return parse_choice(cls, text, "metric")


class Severity(StrEnum):
    POSITIVE = "positive"
    WARNING = "warning"
    INFO = "info"


class InsightKind(StrEnum):
    REVENUE_GROWTH = "revenue_growth"
    REVENUE_DECLINE = "revenue_decline"
    AVERAGE_ORDER_VALUE_CHANGE = "average_order_value_change"
    MARGIN_CHANGE = "margin_change"
    CATEGORY_SHARE_SHIFT = "category_share_shift"
    STOCKOUT_RISK = "stockout_risk"
    NO_SALES = "no_sales"
    NO_BASELINE = "no_baseline"


# ---------------------------------------------------------------- facts (repository results)


@dataclass(frozen=True)
class Product:
    product_id: ProductId
    sku: str
    name: str
    category: str


@dataclass(frozen=True)
class StoreSales:
    """Completed orders of one store in one period."""

    period: TimePeriod
    store_id: StoreId
    orders: int
    units: int
    revenue: Decimal
    cost: Decimal


@dataclass(frozen=True)
class ProductSales(_Margin):
    """One product's sales in one period, over the requested stores (store_id None) or at one
    store (store_id set, when asked per store)."""

    period: TimePeriod
    product: Product
    units: int
    revenue: Decimal
    cost: Decimal
    store_id: StoreId | None = None


@dataclass(frozen=True)
class DailySales:
    """Completed orders of one UTC day, over the requested stores."""

    day: date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class StockLevel:
    store_id: StoreId
    product: Product
    stock_level: int
    reorder_point: int

    @property
    def at_or_below_reorder_point(self) -> bool:
        return self.stock_level <= self.reorder_point


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class SalesMetrics(_Margin):
    orders: int
    units: int
    revenue: Decimal
    cost: Decimal

    @classmethod
    def total(cls, rows: Iterable[StoreSales]) -> SalesMetrics:
        orders = units = 0
        revenue = cost = ZERO
        for row in rows:
            orders += row.orders
            units += row.units
            revenue += row.revenue
            cost += row.cost
        return cls(orders, units, revenue, cost)

    @property
    def average_order_value(self) -> Decimal:
        return average_order_value(self.revenue, self.orders)


@dataclass(frozen=True)
class MetricChanges:
    """Current vs previous period; None where the previous period had nothing to compare."""

    revenue_pct: Decimal | None
    orders_pct: Decimal | None
    units_pct: Decimal | None
    average_order_value_pct: Decimal | None
    gross_margin_pct_points: Decimal | None

    @classmethod
    def between(cls, current: SalesMetrics, previous: SalesMetrics) -> MetricChanges:
        margin_points = None
        if current.gross_margin_pct is not None and previous.gross_margin_pct is not None:
            margin_points = current.gross_margin_pct - previous.gross_margin_pct
        return cls(
            revenue_pct=percent_change(current.revenue, previous.revenue),
            orders_pct=percent_change(Decimal(current.orders), Decimal(previous.orders)),
            units_pct=percent_change(Decimal(current.units), Decimal(previous.units)),
            average_order_value_pct=(
                percent_change(current.average_order_value, previous.average_order_value)
                if previous.orders and current.orders else None
            ),
            gross_margin_pct_points=margin_points,
        )


@dataclass(frozen=True)
class CategoryPerformance:
    category: str
    revenue: Decimal
    units: int
    gross_margin: Decimal
    share_pct: Decimal
    previous_revenue: Decimal
    previous_share_pct: Decimal

    @property
    def share_change_points(self) -> Decimal:
        return self.share_pct - self.previous_share_pct

    @property
    def revenue_change_pct(self) -> Decimal | None:
        return percent_change(self.revenue, self.previous_revenue)


@dataclass(frozen=True)
class RankedProduct(_Margin):
    rank: int
    product: Product
    units: int
    revenue: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Insight:
    kind: InsightKind
    severity: Severity
    message: str


@dataclass(frozen=True)
class StorePerformance:
    stores: tuple[Store, ...]  # the store asked for, or every store the caller may see
    period: TimePeriod
    previous_period: TimePeriod
    current: SalesMetrics
    previous: SalesMetrics
    changes: MetricChanges
    categories: tuple[CategoryPerformance, ...]  # by revenue, highest first
    top_products: tuple[RankedProduct, ...]  # by revenue, highest first
    insights: tuple[Insight, ...]


@dataclass(frozen=True)
class TrendPoint:
    first_day: date
    last_day: date
    orders: int
    revenue: Decimal

    @property
    def average_order_value(self) -> Decimal:
        return average_order_value(self.revenue, self.orders)


@dataclass(frozen=True)
class SalesTrend:
    stores: tuple[Store, ...]
    period: TimePeriod
    granularity: Granularity
    points: tuple[TrendPoint, ...]

    @property
    def total_orders(self) -> int:
        return sum(p.orders for p in self.points)

    @property
    def total_revenue(self) -> Decimal:
        return sum((p.revenue for p in self.points), ZERO)


@dataclass(frozen=True)
class ProductRanking:
    stores: tuple[Store, ...]
    period: TimePeriod
    by: RankBy
    products: tuple[RankedProduct, ...]
    products_sold: int  # distinct products with sales in the period (before the limit)


@dataclass(frozen=True)
class StoreStanding:
    rank: int
    store: Store
    current: SalesMetrics
    previous: SalesMetrics
    revenue_share_pct: Decimal  # of the compared stores' revenue

    @property
    def revenue_growth_pct(self) -> Decimal | None:
        return percent_change(self.current.revenue, self.previous.revenue)


@dataclass(frozen=True)
class StoreComparison:
    period: TimePeriod
    previous_period: TimePeriod
    metric: StoreMetric
    standings: tuple[StoreStanding, ...]


@dataclass(frozen=True)
class InventoryAlert:
    store: Store
    product: Product
    stock_level: int
    reorder_point: int
    units_sold: int  # over the alerts' sales window

    @property
    def shortfall(self) -> int:
        """Units below the reorder point (0 when exactly at it)."""
        return max(0, self.reorder_point - self.stock_level)


@dataclass(frozen=True)
class InventoryAlerts:
    stores: tuple[Store, ...]
    threshold: int | None  # None: each item's own reorder point
    sales_window: TimePeriod
    alerts: tuple[InventoryAlert, ...]  # best sellers first
    total: int  # alerts before the limit

    def days_of_cover(self, alert: InventoryAlert) -> Decimal | None:
        """Days the stock lasts at the window's sales rate; None without sales."""
        if alert.units_sold == 0:
            return None
        daily = Decimal(alert.units_sold) / self.sales_window.days
        return (Decimal(alert.stock_level) / daily).quantize(TENTH, rounding=ROUND_HALF_UP)
