"""Rule-based insights for store performance: deterministic, documented, no model involved.

The same inputs always give the same insights in the same order. The rules, in output order:

1. no sales: no completed orders in the period ("info"); the other rules need sales.
2. no baseline: the previous period had fewer than MIN_ORDERS_TO_COMPARE completed orders,
   so no change is assessed ("info").
3. revenue growth / decline: revenue changed by at least REVENUE_CHANGE_PCT percent
   ("positive" / "warning").
4. average order value: changed by at least AOV_CHANGE_PCT percent (rise "positive", fall
   "warning").
5. gross margin: the margin percentage moved by at least MARGIN_CHANGE_POINTS points
   (improved "positive", eroded "warning").
6. category share shifts: a category's share of revenue moved by at least
   CATEGORY_SHIFT_POINTS points; the MAX_CATEGORY_INSIGHTS largest moves ("info"), largest
   first, ties by category name.
7. stock-out risk: one of the BEST_SELLERS_CHECKED best sellers of the period (by revenue) is
   at or below its reorder point at one of the stores; at most MAX_STOCKOUT_INSIGHTS, by sales
   rank then store name ("warning").

Rules 4-6 also need MIN_ORDERS_TO_COMPARE orders in the current period (small samples swing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from domain.analytics import (
    CategoryPerformance,
    Insight,
    InsightKind,
    MetricChanges,
    RankedProduct,
    SalesMetrics,
    Severity,
    StockLevel,
)
from domain.model import StoreId
from domain.time_period import TimePeriod

MIN_ORDERS_TO_COMPARE = 20
REVENUE_CHANGE_PCT = Decimal("10")
AOV_CHANGE_PCT = Decimal("5")
MARGIN_CHANGE_POINTS = Decimal("1.0")
CATEGORY_SHIFT_POINTS = Decimal("3.0")
MAX_CATEGORY_INSIGHTS = 3
BEST_SELLERS_CHECKED = 10
MAX_STOCKOUT_INSIGHTS = 5


def usd(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def derive_insights(
    *,
    period: TimePeriod,
    previous_period: TimePeriod,
    current: SalesMetrics,
    previous: SalesMetrics,
    categories: Sequence[CategoryPerformance],
    best_sellers: Sequence[RankedProduct],
    stock: Sequence[StockLevel],
    store_names: Mapping[StoreId, str],
) -> tuple[Insight, ...]:
    if current.orders == 0:
        return (Insight(InsightKind.NO_SALES, Severity.INFO,
                        f"No completed orders in {period.describe()}."),)
    insights: list[Insight] = []
    changes = MetricChanges.between(current, previous)
    if previous.orders < MIN_ORDERS_TO_COMPARE:
        insights.append(Insight(
            InsightKind.NO_BASELINE, Severity.INFO,
            f"The previous period ({previous_period.describe()}) had {previous.orders} completed"
            f" orders (fewer than {MIN_ORDERS_TO_COMPARE}), so changes are not assessed.",
        ))
    else:
        insights += _revenue(changes, current, previous, previous_period)
        if current.orders >= MIN_ORDERS_TO_COMPARE:
            insights += _average_order_value(changes, current, previous)
            insights += _margin(changes, current, previous)
            insights += _category_shifts(categories)
    insights += _stockout_risks(best_sellers, stock, store_names)
    return tuple(insights)


def _revenue(
    changes: MetricChanges, current: SalesMetrics, previous: SalesMetrics,
    previous_period: TimePeriod,
) -> list[Insight]:
    change = changes.revenue_pct
    if change is None or abs(change) < REVENUE_CHANGE_PCT:
        return []
    grew = change > 0
    detail = f"; orders {_signed(changes.orders_pct)}" if changes.orders_pct is not None else ""
    return [Insight(
        InsightKind.REVENUE_GROWTH if grew else InsightKind.REVENUE_DECLINE,
        Severity.POSITIVE if grew else Severity.WARNING,
        f"Revenue {'grew' if grew else 'fell'} {abs(change)}% to {usd(current.revenue)} (from"
        f" {usd(previous.revenue)} in {previous_period.describe()}){detail}.",
    )]


def _average_order_value(
    changes: MetricChanges, current: SalesMetrics, previous: SalesMetrics
) -> list[Insight]:
    return _moved(
        InsightKind.AVERAGE_ORDER_VALUE_CHANGE, changes.average_order_value_pct, AOV_CHANGE_PCT,
        lambda up, size: f"Average order value {'rose' if up else 'fell'} {size}% to"
        f" {usd(current.average_order_value)} (from {usd(previous.average_order_value)}).",
    )


def _margin(
    changes: MetricChanges, current: SalesMetrics, previous: SalesMetrics
) -> list[Insight]:
    return _moved(
        InsightKind.MARGIN_CHANGE, changes.gross_margin_pct_points, MARGIN_CHANGE_POINTS,
        lambda up, size: f"Gross margin {'improved' if up else 'eroded'} by {size} points to"
        f" {current.gross_margin_pct}% (from {previous.gross_margin_pct}%).",
    )


def _moved(
    kind: InsightKind, change: Decimal | None, threshold: Decimal,
    message: Callable[[bool, Decimal], str],
) -> list[Insight]:
    """One insight when `change` moved by at least `threshold`: a rise is positive, a fall a
    warning."""
    if change is None or abs(change) < threshold:
        return []
    up = change > 0
    return [Insight(kind, Severity.POSITIVE if up else Severity.WARNING, message(up, abs(change)))]


def _category_shifts(categories: Sequence[CategoryPerformance]) -> list[Insight]:
    moved = sorted(
        (c for c in categories if abs(c.share_change_points) >= CATEGORY_SHIFT_POINTS),
        key=lambda c: (-abs(c.share_change_points), c.category),
    )
    return [
        Insight(
            InsightKind.CATEGORY_SHARE_SHIFT, Severity.INFO,
            f"{c.category}: share of revenue {'rose' if c.share_change_points > 0 else 'fell'}"
            f" {abs(c.share_change_points)} points to {c.share_pct}% (from"
            f" {c.previous_share_pct}%).",
        )
        for c in moved[:MAX_CATEGORY_INSIGHTS]
    ]


def _stockout_risks(
    best_sellers: Sequence[RankedProduct], stock: Sequence[StockLevel],
    store_names: Mapping[StoreId, str],
) -> list[Insight]:
    ranks = {p.product.product_id: p.rank for p in best_sellers[:BEST_SELLERS_CHECKED]}
    low = sorted(
        (s for s in stock if s.product.product_id in ranks and s.at_or_below_reorder_point),
        key=lambda s: (ranks[s.product.product_id], store_names.get(s.store_id, ""),
                       s.product.sku),
    )
    return [
        Insight(
            InsightKind.STOCKOUT_RISK, Severity.WARNING,
            f"Best seller #{ranks[s.product.product_id]} {s.product.name} (SKU {s.product.sku})"
            f" is at or below its reorder point at {store_names.get(s.store_id, 'a store')}:"
            f" {s.stock_level} in stock, reorder point {s.reorder_point}.",
        )
        for s in low[:MAX_STOCKOUT_INSIGHTS]
    ]


def _signed(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value:+}%"
