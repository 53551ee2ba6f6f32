"""TimePeriod: the `time_period` grammar of the analytics tools, as a value object.

Every period is a half-open interval of whole UTC days, [start, end), with explicit UTC bounds
(the business day is the UTC day, like the data). Relative forms are resolved against "today"
(the UTC date of the clock):

- rolling windows `last_7_days`, `last_30_days`, `last_90_days` are the N complete days before
  today (today is excluded: a partial day would bias the comparison);
- to-date forms `this_month`, `this_quarter`, `this_year` and `ytd` (= `this_year`) run from the
  start of the month/quarter/year up to and including today;
- `last_month`, `last_quarter`, `last_year` are the previous whole calendar period;
- `YYYY`, `YYYY-MM`, `YYYY-Qn` are calendar periods, and `YYYY-MM-DD..YYYY-MM-DD` a range with
  both days included. A calendar period or range that reaches past today is cut at the end of
  today ("2026" in June 2026 means 2026 so far); one that starts after today is refused.

`previous()` is the period of equal length that ends where this one starts, which is what every
"change vs the previous period" compares against. Parsing is forgiving about case, spaces and
hyphens in the named forms ("Last 30 days", "2025-q1"); `str(period)` is the canonical form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import TypeVar

from domain.errors import ValidationError

ROLLING_DAYS = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}
NAMED_FORMS = (
    "last_7_days", "last_30_days", "last_90_days", "this_month", "last_month", "this_quarter",
    "last_quarter", "this_year", "last_year", "ytd",
)
ACCEPTED_FORMS = (
    *NAMED_FORMS,
    "YYYY (e.g. 2025)",
    "YYYY-MM (e.g. 2025-03)",
    "YYYY-Qn (e.g. 2025-Q1)",
    "YYYY-MM-DD..YYYY-MM-DD (e.g. 2025-01-01..2025-01-31, both days included)",
)
MIN_YEAR = 1900
MAX_YEAR = 9998
MAX_DAYS = 3660  # ten years: longer comparisons say nothing an analyst can act on

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-q([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


def accepted_forms() -> str:
    return "; ".join(ACCEPTED_FORMS)


Choice = TypeVar("Choice", bound=StrEnum)


def parse_choice(enum: type[Choice], text: str, what: str) -> Choice:
    """The member of `enum` that `text` names (any case; spaces and hyphens for underscores),
    or a ValidationError listing the accepted values."""
    normalised = text.strip().lower().replace(" ", "_").replace("-", "_")
    for member in enum:
        if member.value == normalised:
            return member
    raise ValidationError(
        f"{what} {text!r} is not accepted; use one of: " + ", ".join(m.value for m in enum)
    )


class Granularity(StrEnum):
    """Bucket size of a time series: UTC days, ISO weeks (Monday first) or calendar months."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @classmethod
    def parse(cls, text: str) -> Granularity:
        return parse_choice(cls, text, "granularity")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class TimePeriod:
    """[start, end) in UTC, both at midnight; `label` is the canonical text it was parsed from
    (or the explicit range, for periods built from dates)."""

    label: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for bound in (self.start, self.end):
            if bound.tzinfo is None or bound.utcoffset() != timedelta(0):
                raise ValueError("TimePeriod bounds must be timezone-aware UTC datetimes")
            if bound.timetz() != time(0, tzinfo=bound.tzinfo):
                raise ValueError("TimePeriod bounds must fall on midnight UTC")
        if self.end <= self.start:
            raise ValueError("TimePeriod must end after it starts")

    # ---------------------------------------------------------------- construction
    @classmethod
    def parse(cls, text: str, now: datetime) -> TimePeriod:
        """Parse `text` against the current time `now` (timezone-aware). Raises
        ValidationError naming the accepted forms."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError(
                f"time_period is required; accepted forms: {accepted_forms()}"
            )
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        today = now.astimezone(UTC).date()
        raw = text.strip()
        named = re.sub(r"[\s\-]+", "_", raw.lower())
        if named in ROLLING_DAYS:
            return cls._make(named, today - timedelta(days=ROLLING_DAYS[named]), today, today)
        tomorrow = today + timedelta(days=1)
        month_start = today.replace(day=1)
        quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        year_start = date(today.year, 1, 1)
        calendar = {
            "this_month": (month_start, tomorrow),
            "last_month": (_add_months(month_start, -1), month_start),
            "this_quarter": (quarter_start, tomorrow),
            "last_quarter": (_add_months(quarter_start, -3), quarter_start),
            "this_year": (year_start, tomorrow),
            "ytd": (year_start, tomorrow),
            "last_year": (date(today.year - 1, 1, 1), year_start),
        }
        if named in calendar:
            first, end = calendar[named]
            return cls._make(named, first, end, today)
        return cls._parse_absolute(raw, today)

    @classmethod
    def between(cls, first_day: date, last_day: date) -> TimePeriod:
        """The explicit range first_day..last_day, both days included."""
        if last_day < first_day:
            raise ValidationError(
                f"the period {first_day.isoformat()}..{last_day.isoformat()} ends before it starts"
            )
        return cls(
            f"{first_day.isoformat()}..{last_day.isoformat()}",
            _midnight(first_day),
            _midnight(last_day + timedelta(days=1)),
        )

    @classmethod
    def _parse_absolute(cls, raw: str, today: date) -> TimePeriod:
        text = raw.lower()
        if match := _YEAR.match(text):
            year = _year(match.group(1), raw)
            return cls._make(str(year), date(year, 1, 1), date(year + 1, 1, 1), today)
        if match := _MONTH.match(text):
            year, month = _year(match.group(1), raw), int(match.group(2))
            if not 1 <= month <= 12:
                raise ValidationError(f"time_period {raw!r}: the month must be 01 to 12")
            first = date(year, month, 1)
            return cls._make(f"{year:04d}-{month:02d}", first, _add_months(first, 1), today)
        if match := _QUARTER.match(text):
            year, quarter = _year(match.group(1), raw), int(match.group(2))
            first = date(year, 3 * quarter - 2, 1)
            return cls._make(f"{year:04d}-Q{quarter}", first, _add_months(first, 3), today)
        if match := _RANGE.match(text):
            first, last = _day(match.group(1), raw), _day(match.group(2), raw)
            if last < first:
                raise ValidationError(
                    f"time_period {raw!r} ends before it starts; write the earlier day first"
                )
            return cls._make(f"{first.isoformat()}..{last.isoformat()}", first,
                             last + timedelta(days=1), today)
        raise ValidationError(
            f"time_period {raw!r} is not recognised; accepted forms: {accepted_forms()}"
        )

    @classmethod
    def _make(cls, label: str, first: date, end: date, today: date) -> TimePeriod:
        if first > today:
            raise ValidationError(
                f"time_period {label!r} starts after today ({today.isoformat()}, UTC); there"
                " is no data for it yet"
            )
        end = min(end, today + timedelta(days=1))
        if (end - first).days > MAX_DAYS:
            raise ValidationError(
                f"time_period {label!r} spans {(end - first).days} days; at most {MAX_DAYS}"
                " (ten years) are accepted"
            )
        return cls(label, _midnight(first), _midnight(end))

    # ---------------------------------------------------------------- properties
    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The last day included (end - 1 day)."""
        return self.end.date() - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def contains_day(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def previous(self) -> TimePeriod:
        """The period of equal length immediately before this one."""
        return TimePeriod.between(self.first_day - timedelta(days=self.days),
                                  self.first_day - timedelta(days=1))

    def describe(self) -> str:
        """Human form: the label and, when it differs, the explicit days."""
        explicit = f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"
        return explicit if self.label == explicit else f"{self.label} ({explicit})"

    def buckets(self, granularity: Granularity) -> list[tuple[date, date]]:
        """The (first day, last day) of every day/ISO week/month bucket overlapping this
        period, clipped to it, in order."""
        out: list[tuple[date, date]] = []
        day = self.first_day
        while day <= self.last_day:
            if granularity is Granularity.DAY:
                nxt = day + timedelta(days=1)
            elif granularity is Granularity.WEEK:
                nxt = day + timedelta(days=7 - day.weekday())
            else:
                nxt = _add_months(day.replace(day=1), 1)
            last = min(nxt - timedelta(days=1), self.last_day)
            out.append((day, last))
            day = nxt
        return out

    def __str__(self) -> str:
        return self.label


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _year(text: str, raw: str) -> int:
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            f"time_period {raw!r}: the year must be between {MIN_YEAR} and {MAX_YEAR}"
        )
    return year


def _day(text: str, raw: str) -> date:
    _year(text[:4], raw)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"time_period {raw!r}: {text} is not a valid date") from None
