"""Property tests of the analytics metrics on random order books: revenue is the sum of line
totals, AOV = revenue / orders, shares add up to 100 %, rankings are sorted with stable
tie-breaks, and insights are deterministic (whatever order the rows arrive in)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.analytics import RankBy, shares
from domain.model import StoreId
from domain.time_period import TimePeriod
from tests.support.retail import (
    CATALOGUE,
    HEAD_OFFICE,
    NOW,
    SEATTLE_ID,
    TACOMA_ID,
    RetailBuilder,
)

FIRST = date(2026, 5, 1)
line = st.tuples(st.sampled_from(CATALOGUE), st.integers(1, 6), st.integers(0, 50_000))
order = st.tuples(
    st.sampled_from([SEATTLE_ID, TACOMA_ID]),
    st.integers(0, 59).map(lambda n: FIRST + timedelta(days=n)),
    st.sampled_from(["completed", "completed", "completed", "returned", "cancelled"]),
    st.lists(line, min_size=1, max_size=4, unique_by=lambda item: item[0][0].sku),
)
order_books = st.lists(order, max_size=60)
PERIOD = "last_30_days"  # 2026-05-31..2026-06-29 at NOW; the previous 30 days before it


def build(book: list, reverse: bool = False) -> RetailBuilder:
    builder = RetailBuilder()
    for store, day, status, items in (reversed(book) if reverse else book):
        builder.sale(store, day, *[(p, q, f"{cents / 100:.2f}") for p, q, cents in items],
                     status=status)
    return builder


def run(coroutine):  # hypothesis drives sync tests; each example runs its own loop
    return asyncio.run(coroutine)


@settings(max_examples=60, deadline=None)
@given(order_books)
def test_totals_are_sums_of_completed_lines(book: list) -> None:
    period = TimePeriod.parse(PERIOD, NOW)
    result = run(build(book).service().store_performance(HEAD_OFFICE, None, PERIOD))
    completed = [(items) for _, day, status, items in book
                 if status == "completed" and period.contains_day(day)]
    revenue = sum((Decimal(cents) / 100 for items in completed for _, _, cents in items),
                  Decimal(0))
    assert result.current.revenue == revenue
    assert result.current.orders == len(completed)
    assert result.current.units == sum(q for items in completed for _, q, _ in items)
    cost = sum((c * q for items in completed for (_, c), q, _ in items), Decimal(0))
    assert result.current.cost == cost
    assert result.current.gross_margin == revenue - cost
    if completed:
        aov = result.current.average_order_value
        assert abs(aov * len(completed) - revenue) <= Decimal("0.005") * len(completed)
    assert sum(c.revenue for c in result.categories) == revenue


@settings(max_examples=60, deadline=None)
@given(order_books)
def test_category_shares_add_up_to_100(book: list) -> None:
    result = run(build(book).service().store_performance(HEAD_OFFICE, None, PERIOD))
    if result.current.revenue > 0:
        assert sum(c.share_pct for c in result.categories) == Decimal("100.0")
    if result.previous.revenue > 0:
        assert sum(c.previous_share_pct for c in result.categories) == Decimal("100.0")
    revenues = [c.revenue for c in result.categories]
    assert revenues == sorted(revenues, reverse=True)


@settings(max_examples=60, deadline=None)
@given(order_books, st.sampled_from(list(RankBy)))
def test_rankings_are_sorted_with_sku_tie_breaks(book: list, by: RankBy) -> None:
    ranking = run(build(book).service().top_products(HEAD_OFFICE, PERIOD, by=by.value,
                                                     limit=50))
    def metric(p):
        return {RankBy.REVENUE: p.revenue, RankBy.UNITS: Decimal(p.units),
                RankBy.MARGIN: p.gross_margin}[by]
    keys = [(-metric(p), p.product.sku) for p in ranking.products]
    assert keys == sorted(keys)
    assert [p.rank for p in ranking.products] == list(range(1, len(ranking.products) + 1))
    assert ranking.products_sold == len(ranking.products)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_books, st.sampled_from([None, "seattle", "tacoma"]))
def test_insights_are_deterministic(book: list, store: str | None) -> None:
    first = run(build(book).service().store_performance(HEAD_OFFICE, store, PERIOD))
    again = run(build(book).service().store_performance(HEAD_OFFICE, store, PERIOD))
    shuffled = run(build(book, reverse=True).service().store_performance(HEAD_OFFICE, store,
                                                                         PERIOD))
    assert first == again == shuffled


@settings(max_examples=40, deadline=None)
@given(order_books)
def test_store_revenue_shares_add_up(book: list) -> None:
    comparison = run(build(book).service().compare_stores(HEAD_OFFICE, PERIOD))
    total = sum(s.current.revenue for s in comparison.standings)
    if total > 0:
        assert sum(s.revenue_share_pct for s in comparison.standings) == Decimal("100.0")
    assert {s.store.store_id for s in comparison.standings} >= {StoreId(SEATTLE_ID)}


@given(st.lists(st.decimals(min_value=0, max_value=10**9, places=2), min_size=1, max_size=12))
def test_largest_remainder_shares(values: list[Decimal]) -> None:
    result = shares(list(enumerate(values)))
    total = sum(values)
    if total == 0:
        assert set(result.values()) == {Decimal(0)}
        return
    assert sum(result.values()) == Decimal("100.0")
    assert all(str(share).endswith((".0", ".1", ".2", ".3", ".4", ".5", ".6", ".7", ".8", ".9"))
               for share in result.values())  # always one decimal, "9.0" not "9"
    for i, value in enumerate(values):
        assert abs(result[i] - value * 100 / total) < Decimal("0.1") + Decimal("1e-20")
