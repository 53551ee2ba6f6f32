"""Sales analytics: store performance with insights, trends, rankings, comparisons and stock
alerts - the curated questions an assistant asks most, answered for the caller's stores only.

Every method checks before any data is read: the period and choices parse (ValidationError
listing what is accepted), the caller is a known user (UnknownUserError) and a named store is
one of theirs (AuthorizationError naming the store and nothing else). The repositories then
read under the caller's own row-level security, so even a bug here could not widen what the
database returns.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from domain.analytics import (
    ZERO,
    CategoryPerformance,
    InventoryAlert,
    InventoryAlerts,
    MetricChanges,
    ProductRanking,
    ProductSales,
    RankBy,
    RankedProduct,
    SalesMetrics,
    SalesTrend,
    StoreComparison,
    StoreMetric,
    StorePerformance,
    StoreStanding,
    TrendPoint,
    shares,
)
from domain.errors import AuthorizationError, ValidationError
from domain.model import AccessScope, Store, UserId
from domain.services.insights import derive_insights
from domain.time_period import Granularity, TimePeriod
from ports.access import AccessDirectory
from ports.clock import Clock
from ports.inventory import InventoryRepository
from ports.sales import SalesRepository
from ports.stores import StoreCatalog

TOP_PRODUCTS_IN_PERFORMANCE = 5
MAX_TOP_PRODUCTS = 50
MAX_TREND_POINTS = 400
MAX_ALERTS = 200
ALERT_SALES_WINDOW = "last_30_days"


def normalise_store_text(text: str) -> str:
    """'  Zava Retail SEATTLE store' -> 'seattle': case, punctuation, the chain prefix and a
    trailing 'store' do not matter."""
    words = re.sub(r"[^0-9a-z]+", " ", text.casefold()).split()
    if words[:2] == ["zava", "retail"]:
        words = words[2:]
    elif words[:1] == ["zava"]:
        words = words[1:]
    if len(words) > 1 and words[-1] == "store":
        words = words[:-1]
    return " ".join(words)


def match_stores(text: str, stores: Iterable[Store]) -> list[Store]:
    """Stores `text` names: by id, by name or city (see normalise_store_text), else by a
    unique prefix of at least three characters."""
    candidates = list(stores)
    raw = text.strip()
    try:
        wanted = UUID(raw)
    except ValueError:
        pass
    else:
        return [s for s in candidates if s.store_id == wanted]
    key = normalise_store_text(raw)
    if not key:
        return []
    exact = [s for s in candidates
             if key in {normalise_store_text(s.name), normalise_store_text(s.city)}]
    if exact or len(key) < 3:
        return exact
    return [s for s in candidates if normalise_store_text(s.name).startswith(key)]


def rank_products(rows: Iterable[ProductSales], by: RankBy) -> list[RankedProduct]:
    """Products by `by` (highest first); ties broken by SKU so the order is total and stable."""
    def metric(row: ProductSales) -> Decimal:
        if by is RankBy.UNITS:
            return Decimal(row.units)
        if by is RankBy.MARGIN:
            return row.gross_margin
        return row.revenue

    ordered = sorted(rows, key=lambda r: (-metric(r), r.product.sku))
    return [RankedProduct(i, r.product, r.units, r.revenue, r.cost)
            for i, r in enumerate(ordered, start=1)]


def category_performance(
    current: Sequence[ProductSales], previous: Sequence[ProductSales]
) -> list[CategoryPerformance]:
    """Revenue, units, margin and share of revenue per category, highest revenue first (ties
    by name); a category sold only in the previous period is listed with zero revenue."""
    now: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    before: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in current:
        acc = now[row.product.category]
        acc[0] += row.revenue
        acc[1] += row.units
        acc[2] += row.gross_margin
    for row in previous:
        before[row.product.category] += row.revenue
    names = sorted(set(now) | set(before))
    share_now = shares([(n, now[n][0] if n in now else ZERO) for n in names])
    share_before = shares([(n, before[n]) for n in names])
    result = [
        CategoryPerformance(
            category=n,
            revenue=now[n][0] if n in now else ZERO,
            units=int(now[n][1]) if n in now else 0,
            gross_margin=now[n][2] if n in now else ZERO,
            share_pct=share_now[n],
            previous_revenue=before[n],
            previous_share_pct=share_before[n],
        )
        for n in names
    ]
    return sorted(result, key=lambda c: (-c.revenue, c.category))


class SalesAnalyticsService:
    def __init__(
        self,
        directory: AccessDirectory,
        stores: StoreCatalog,
        sales: SalesRepository,
        inventory: InventoryRepository,
        clock: Clock,
    ) -> None:
        self._directory = directory
        self._stores = stores
        self._sales = sales
        self._inventory = inventory
        self._clock = clock

    # ---------------------------------------------------------------- inputs
    def parse_period(self, time_period: str) -> TimePeriod:
        return TimePeriod.parse(time_period, self._clock.now())

    async def visible_stores(self, user_id: UserId) -> tuple[Store, ...]:
        return (await self._directory.scope_for(user_id)).stores

    async def resolve_store(self, scope: AccessScope, text: str) -> Store:
        """The caller's store that `text` names (id, name or city, any case, with or without
        "Zava Retail"). A store that exists but is not theirs is an AuthorizationError naming
        it; anything else a ValidationError listing the stores they can see."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(f"store is empty; {_your_stores(scope)}")
        mine = match_stores(text, scope.stores)
        if len(mine) == 1:
            return mine[0]
        if len(mine) > 1:
            raise ValidationError(
                f"store {text!r} matches {', '.join(s.name for s in mine)}; be more specific"
            )
        others = match_stores(text, await self._stores.all_stores())
        if len(others) == 1:
            raise AuthorizationError(
                f"{others[0].name} is not one of your stores, so its figures cannot be shown;"
                f" {_your_stores(scope)}"
            )
        raise ValidationError(f"no store matches {text!r}; {_your_stores(scope)}")

    async def _scope_and_stores(
        self, user_id: UserId, store: str | None
    ) -> tuple[AccessScope, tuple[Store, ...]]:
        scope = await self._directory.scope_for(user_id)
        if store is None or not store.strip():
            return scope, scope.stores
        return scope, (await self.resolve_store(scope, store),)

    # ---------------------------------------------------------------- questions
    async def store_performance(
        self, user_id: UserId, store: str | None, time_period: str
    ) -> StorePerformance:
        """How one store (or, without `store`, all the caller's stores together) did in the
        period, compared with the previous period of equal length, with rule-based insights."""
        period = self.parse_period(time_period)
        previous_period = period.previous()
        _, stores = await self._scope_and_stores(user_id, store)
        ids = frozenset(s.store_id for s in stores)
        # One round of queries in parallel: totals, products, and the items at or below their
        # reorder point (of which the insights keep the period's best sellers).
        store_rows, product_rows, low_stock = await asyncio.gather(
            self._sales.store_sales(user_id, ids, [period, previous_period]),
            self._sales.product_sales(user_id, ids, [period, previous_period]),
            self._inventory.low_stock(user_id, ids),
        )
        current = SalesMetrics.total(r for r in store_rows if r.period == period)
        previous = SalesMetrics.total(r for r in store_rows if r.period == previous_period)
        now = [r for r in product_rows if r.period == period]
        before = [r for r in product_rows if r.period == previous_period]
        best = rank_products(now, RankBy.REVENUE)
        categories = category_performance(now, before)
        return StorePerformance(
            stores=stores,
            period=period,
            previous_period=previous_period,
            current=current,
            previous=previous,
            changes=MetricChanges.between(current, previous),
            categories=tuple(categories),
            top_products=tuple(best[:TOP_PRODUCTS_IN_PERFORMANCE]),
            insights=derive_insights(
                period=period, previous_period=previous_period, current=current,
                previous=previous, categories=categories, best_sellers=best, stock=low_stock,
                store_names={s.store_id: s.name for s in stores},
            ),
        )

    async def sales_trend(
        self, user_id: UserId, time_period: str, granularity: str = "day",
        store: str | None = None,
    ) -> SalesTrend:
        """Orders and revenue per day, ISO week or month of the period (every bucket listed,
        zero when there were no sales; the first and last are clipped to the period)."""
        period = self.parse_period(time_period)
        grain = Granularity.parse(granularity)
        buckets = period.buckets(grain)
        if len(buckets) > MAX_TREND_POINTS:
            raise ValidationError(
                f"{period.describe()} has {len(buckets)} {grain.value}s; at most"
                f" {MAX_TREND_POINTS} points per trend: use a coarser granularity"
                " or a shorter period"
            )
        _, stores = await self._scope_and_stores(user_id, store)
        days = await self._sales.daily_sales(
            user_id, frozenset(s.store_id for s in stores), period)
        bucket_of: dict[date, int] = {}
        for i, (first, last) in enumerate(buckets):
            for n in range((last - first).days + 1):
                bucket_of[first + timedelta(days=n)] = i
        orders = [0] * len(buckets)
        revenue = [ZERO] * len(buckets)
        for row in days:
            i = bucket_of[row.day]
            orders[i] += row.orders
            revenue[i] += row.revenue
        return SalesTrend(
            stores=stores,
            period=period,
            granularity=grain,
            points=tuple(TrendPoint(first, last, orders[i], revenue[i])
                         for i, (first, last) in enumerate(buckets)),
        )

    async def top_products(
        self, user_id: UserId, time_period: str, store: str | None = None,
        by: str = "revenue", limit: int = 10,
    ) -> ProductRanking:
        """The best-selling products of the period by revenue, units or gross margin."""
        period = self.parse_period(time_period)
        rank_by = RankBy.parse(by)
        if not 1 <= limit <= MAX_TOP_PRODUCTS:
            raise ValidationError(f"limit must be between 1 and {MAX_TOP_PRODUCTS}, got {limit}")
        _, stores = await self._scope_and_stores(user_id, store)
        rows = await self._sales.product_sales(
            user_id, frozenset(s.store_id for s in stores), [period])
        ranked = rank_products(rows, rank_by)
        return ProductRanking(stores, period, rank_by, tuple(ranked[:limit]), len(ranked))

    async def compare_stores(
        self, user_id: UserId, time_period: str, metric: str = "revenue"
    ) -> StoreComparison:
        """Every store the caller may see, ranked by `metric` (highest first; stores without a
        value, e.g. growth with no previous sales, last; ties by store name)."""
        period = self.parse_period(time_period)
        previous_period = period.previous()
        by = StoreMetric.parse(metric)
        scope = await self._directory.scope_for(user_id)
        rows = await self._sales.store_sales(
            user_id, scope.store_ids, [period, previous_period])
        revenue_share = shares([
            (s.store_id, SalesMetrics.total(
                r for r in rows if r.store_id == s.store_id and r.period == period).revenue)
            for s in scope.stores
        ])
        unranked = [
            StoreStanding(
                rank=0,
                store=s,
                current=SalesMetrics.total(
                    r for r in rows if r.store_id == s.store_id and r.period == period),
                previous=SalesMetrics.total(
                    r for r in rows if r.store_id == s.store_id and r.period == previous_period),
                revenue_share_pct=revenue_share[s.store_id],
            )
            for s in scope.stores
        ]
        ordered = sorted(unranked, key=lambda st: _standing_key(st, by))
        return StoreComparison(
            period=period,
            previous_period=previous_period,
            metric=by,
            standings=tuple(
                StoreStanding(i, st.store, st.current, st.previous, st.revenue_share_pct)
                for i, st in enumerate(ordered, start=1)
            ),
        )

    async def inventory_alerts(
        self, user_id: UserId, store: str | None = None, threshold: int | None = None,
        limit: int = 50,
    ) -> InventoryAlerts:
        """Items at or below their reorder point (or at or below `threshold` units), best
        sellers first: by units sold over the last 30 days, then by shortfall, store, SKU."""
        if threshold is not None and not 0 <= threshold <= 1_000_000:
            raise ValidationError(
                f"threshold must be between 0 and 1000000 units, got {threshold}")
        if not 1 <= limit <= MAX_ALERTS:
            raise ValidationError(f"limit must be between 1 and {MAX_ALERTS}, got {limit}")
        window = self.parse_period(ALERT_SALES_WINDOW)
        _, stores = await self._scope_and_stores(user_id, store)
        ids = frozenset(s.store_id for s in stores)
        low = await self._inventory.low_stock(user_id, ids, threshold)
        sold = await self._sales.product_sales(
            user_id, ids, [window], per_store=True,
            product_ids=frozenset(s.product.product_id for s in low))
        units = {(r.store_id, r.product.product_id): r.units for r in sold}
        by_id = {s.store_id: s for s in stores}
        alerts = sorted(
            (InventoryAlert(by_id[s.store_id], s.product, s.stock_level, s.reorder_point,
                            units.get((s.store_id, s.product.product_id), 0))
             for s in low if s.store_id in by_id),
            key=lambda a: (-a.units_sold, -a.shortfall, a.store.name, a.product.sku),
        )
        return InventoryAlerts(stores, threshold, window, tuple(alerts[:limit]), len(alerts))


def _standing_key(standing: StoreStanding, metric: StoreMetric) -> tuple[int, Decimal, str]:
    value: Decimal | None
    current = standing.current
    if metric is StoreMetric.ORDERS:
        value = Decimal(current.orders)
    elif metric is StoreMetric.UNITS:
        value = Decimal(current.units)
    elif metric is StoreMetric.AVERAGE_ORDER_VALUE:
        value = current.average_order_value
    elif metric is StoreMetric.GROSS_MARGIN:
        value = current.gross_margin
    elif metric is StoreMetric.GROSS_MARGIN_PCT:
        value = current.gross_margin_pct
    elif metric is StoreMetric.REVENUE_GROWTH:
        value = standing.revenue_growth_pct
    else:
        value = current.revenue
    return (1, ZERO, standing.store.name) if value is None else (0, -value, standing.store.name)


def _your_stores(scope: AccessScope) -> str:
    if not scope.stores:
        return "you cannot see any store"
    return "stores you can see: " + ", ".join(
        f"{s.name} ({s.store_id})" for s in scope.stores)

