"""A clock that stands still (or moves only when told), for deterministic tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ports.clock import Clock


class FixedClock(Clock):
    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._now = now.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
