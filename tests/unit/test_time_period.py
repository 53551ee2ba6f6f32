"""TimePeriod: the `time_period` grammar, explicit UTC bounds, the previous period, and its
errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.time_period import (
    ACCEPTED_FORMS,
    MAX_DAYS,
    NAMED_FORMS,
    Granularity,
    TimePeriod,
)

NOW = datetime(2026, 6, 30, 15, 30, tzinfo=UTC)  # a Tuesday


def d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("last_7_days", "2026-06-23", "2026-06-30"),
        ("last_30_days", "2026-05-31", "2026-06-30"),
        ("last_90_days", "2026-04-01", "2026-06-30"),
        ("this_month", "2026-06-01", "2026-07-01"),
        ("last_month", "2026-05-01", "2026-06-01"),
        ("this_quarter", "2026-04-01", "2026-07-01"),
        ("last_quarter", "2026-01-01", "2026-04-01"),
        ("this_year", "2026-01-01", "2026-07-01"),
        ("ytd", "2026-01-01", "2026-07-01"),
        ("last_year", "2025-01-01", "2026-01-01"),
        ("2025", "2025-01-01", "2026-01-01"),
        ("2026", "2026-01-01", "2026-07-01"),  # cut at the end of today
        ("2024-02", "2024-02-01", "2024-03-01"),
        ("2025-Q4", "2025-10-01", "2026-01-01"),
        ("2025-01-01..2025-01-31", "2025-01-01", "2025-02-01"),
        ("2026-06-30..2026-06-30", "2026-06-30", "2026-07-01"),
    ],
)
def test_bounds_are_half_open_utc_days(text: str, start: str, end: str) -> None:
    period = TimePeriod.parse(text, NOW)
    assert (period.start, period.end) == (d(start), d(end))
    assert period.start.tzinfo is UTC
    assert str(period) == text
    assert period.contains(period.start)  # half-open: the start is in, the end is out
    assert not period.contains(period.end)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("Last 30 Days", "last_30_days"), (" THIS-MONTH ", "this_month"), ("YTD", "ytd"),
     ("2025-q1", "2025-Q1"), ("2025-01-01 .. 2025-01-02", "2025-01-01..2025-01-02")],
)
def test_parsing_forgives_case_and_separators(text: str, canonical: str) -> None:
    assert str(TimePeriod.parse(text, NOW)) == canonical


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("last_week", "accepted forms: last_7_days"),
        ("", "time_period is required"),
        ("2025-13", "month must be 01 to 12"),
        ("2025-02-30..2025-03-01", "not a valid date"),
        ("2025-03-01..2025-02-01", "ends before it starts"),
        ("2027", "starts after today (2026-06-30"),
        ("1899", "year must be between"),
        ("2000-01-01..2026-01-01", f"at most {MAX_DAYS}"),
        ("2025-Q5", "accepted forms"),
    ],
)
def test_errors_say_what_is_accepted(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as error:
        TimePeriod.parse(text, NOW)
    assert fragment in error.value.message


def test_unrecognised_period_lists_every_accepted_form() -> None:
    with pytest.raises(ValidationError) as error:
        TimePeriod.parse("yesterday", NOW)
    for form in ACCEPTED_FORMS:
        assert form in error.value.message


def test_previous_period_of_a_calendar_month_has_the_same_length() -> None:
    february = TimePeriod.parse("2026-02", NOW)
    previous = february.previous()
    assert (previous.first_day, previous.last_day) == (date(2026, 1, 4), date(2026, 1, 31))
    assert str(previous) == "2026-01-04..2026-01-31"


def test_week_and_month_buckets_are_clipped_to_the_period() -> None:
    period = TimePeriod.parse("2026-06-10..2026-07-02", datetime(2026, 8, 1, tzinfo=UTC))
    assert period.buckets(Granularity.WEEK)[:2] == [
        (date(2026, 6, 10), date(2026, 6, 14)), (date(2026, 6, 15), date(2026, 6, 21))]
    assert period.buckets(Granularity.MONTH) == [
        (date(2026, 6, 10), date(2026, 6, 30)), (date(2026, 7, 1), date(2026, 7, 2))]


def test_bounds_must_be_utc_midnights() -> None:
    with pytest.raises(ValueError, match="midnight"):
        TimePeriod("x", d("2026-01-01T01:00"), d("2026-01-02"))
    with pytest.raises(ValueError, match="timezone-aware"):
        TimePeriod("x", datetime(2026, 1, 1), d("2026-01-02"))


def test_granularity_error_lists_choices() -> None:
    with pytest.raises(ValidationError, match="day, week, month"):
        Granularity.parse("hour")


# ---------------------------------------------------------------- properties

days = st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))
nows = days.map(lambda day: datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                + timedelta(hours=13))


@st.composite
def canonical_periods(draw: st.DrawFn) -> tuple[str, datetime]:
    """A canonical period text and a 'now' at or after its start."""
    now = draw(nows)
    today = now.date()
    kind = draw(st.sampled_from(["named", "year", "month", "quarter", "range"]))
    if kind == "named":
        return draw(st.sampled_from(NAMED_FORMS)), now
    year = draw(st.integers(today.year - 9, today.year))
    if kind == "year":
        return f"{year}", now
    if kind == "month":
        month = draw(st.integers(1, 12 if year < today.year else today.month))
        return f"{year}-{month:02d}", now
    if kind == "quarter":
        last = 4 if year < today.year else (today.month - 1) // 3 + 1
        return f"{year}-Q{draw(st.integers(1, last))}", now
    first = draw(st.dates(min_value=today - timedelta(days=3000), max_value=today))
    last = draw(st.dates(min_value=first, max_value=first + timedelta(days=600)))
    return f"{first.isoformat()}..{last.isoformat()}", now


@given(canonical_periods())
def test_parse_format_round_trip(case: tuple[str, datetime]) -> None:
    text, now = case
    period = TimePeriod.parse(text, now)
    assert str(period) == text
    assert TimePeriod.parse(str(period), now) == period


@given(canonical_periods())
def test_previous_period_is_adjacent_and_of_equal_length(case: tuple[str, datetime]) -> None:
    text, now = case
    period = TimePeriod.parse(text, now)
    previous = period.previous()
    assert previous.end == period.start
    assert previous.length == period.length
    assert TimePeriod.parse(str(previous), now) == previous  # an explicit range round-trips


@given(canonical_periods())
def test_periods_never_reach_past_today(case: tuple[str, datetime]) -> None:
    text, now = case
    period = TimePeriod.parse(text, now)
    assert period.start.date() <= now.date()
    assert period.end.date() <= now.date() + timedelta(days=1)


@given(canonical_periods(), st.sampled_from(list(Granularity)))
def test_buckets_partition_the_period(case: tuple[str, datetime], grain: Granularity) -> None:
    period = TimePeriod.parse(*case)
    buckets = period.buckets(grain)
    assert buckets[0][0] == period.first_day
    assert buckets[-1][1] == period.last_day
    for (_, last), (first, _) in pairwise(buckets):
        assert first == last + timedelta(days=1)
    assert sum((b - a).days + 1 for a, b in buckets) == period.days
