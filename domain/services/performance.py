"""Query performance monitor: per-operation summary, slow-query log, metrics.

Every query reports here (through the QueryObserver port) with its duration and its SQL
fingerprint — never the SQL itself, whose literals may carry a customer's data. Queries slower
than the threshold are logged with the fingerprint and the user, and counted. Head office may
read the summary (count, average, minimum, maximum, slow count per operation).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from domain.errors import AuthorizationError
from domain.model import Role, UserId
from ports.access import AccessDirectory
from ports.metrics import Metrics, QueryObserver

log = logging.getLogger("zava.slow_queries")

MAX_LOGGED_FINGERPRINT = 2000


@dataclass(frozen=True)
class OperationStats:
    operation: str
    count: int
    errors: int
    avg_ms: float
    min_ms: float
    max_ms: float
    slow: int


class _Accumulator:
    __slots__ = ("count", "errors", "max_s", "min_s", "slow", "total_s")

    def __init__(self) -> None:
        self.count = self.errors = self.slow = 0
        self.total_s = self.max_s = 0.0
        self.min_s = float("inf")


class QueryPerformanceMonitor(QueryObserver):
    """In-process (per worker) summary since start; Prometheus aggregates across workers."""

    def __init__(self, metrics: Metrics, slow_threshold_s: float) -> None:
        self._metrics = metrics
        self._slow_threshold_s = slow_threshold_s
        self._stats: dict[str, _Accumulator] = {}

    def query_finished(self, operation: str, duration_s: float, *, fingerprint: str,
                       user_id: UserId | None, ok: bool) -> None:
        stats = self._stats.get(operation)
        if stats is None:
            stats = self._stats[operation] = _Accumulator()
        stats.count += 1
        stats.total_s += duration_s
        stats.max_s = max(stats.max_s, duration_s)
        stats.min_s = min(stats.min_s, duration_s)
        if not ok:
            stats.errors += 1
        slow = duration_s > self._slow_threshold_s
        if slow:
            stats.slow += 1
            log.warning(
                "slow query: %s took %.0f ms (threshold %.0f ms) for user %s: %s",
                operation, duration_s * 1000, self._slow_threshold_s * 1000, user_id,
                fingerprint[:MAX_LOGGED_FINGERPRINT],
                extra={"operation": operation, "duration_ms": round(duration_s * 1000, 3),
                       "user_id": None if user_id is None else str(user_id),
                       "sql_fingerprint": fingerprint[:MAX_LOGGED_FINGERPRINT]},
            )
        self._metrics.query(operation, duration_s, slow)

    def summary(self) -> list[OperationStats]:
        return [
            OperationStats(
                operation=operation,
                count=s.count,
                errors=s.errors,
                avg_ms=round(s.total_s / s.count * 1000, 3),
                min_ms=round(s.min_s * 1000, 3),
                max_ms=round(s.max_s * 1000, 3),
                slow=s.slow,
            )
            for operation, s in sorted(self._stats.items())
            if s.count
        ]


class PerformanceService:
    """The performance summary, for head office only: it spans every store's queries."""

    def __init__(self, monitor: QueryPerformanceMonitor, directory: AccessDirectory) -> None:
        self._monitor = monitor
        self._directory = directory

    async def summary(self, user_id: UserId) -> list[OperationStats]:
        scope = await self._directory.scope_for(user_id)
        if scope.role is not Role.HEAD_OFFICE:
            raise AuthorizationError(
                "the performance summary is for head office only"
                f" (you are {scope.role.value})"
            )
        return self._monitor.summary()
