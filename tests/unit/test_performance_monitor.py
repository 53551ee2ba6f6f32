"""The query performance monitor and its head-office-only summary, on in-memory adapters."""

from __future__ import annotations

import logging

import pytest

from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.metrics import InMemoryMetrics
from domain.errors import AuthorizationError
from domain.model import UserId
from domain.services.performance import PerformanceService, QueryPerformanceMonitor

SEATTLE = UserId("f47ac10b-58cc-4372-a567-0e02b2c3d479")
HEAD_OFFICE = UserId("5ba86bc5-6c7d-4d93-9337-3175bdc44ad8")
FINGERPRINT = "SELECT count(*) FROM orders WHERE status = $1"


def test_summary_per_operation_and_slow_queries(caplog: pytest.LogCaptureFixture) -> None:
    metrics = InMemoryMetrics()
    monitor = QueryPerformanceMonitor(metrics, slow_threshold_s=0.5)
    with caplog.at_level(logging.WARNING, logger="zava.slow_queries"):
        for seconds, ok in [(0.1, True), (0.3, True), (0.8, False)]:
            monitor.query_finished("execute_sales_query", seconds, fingerprint=FINGERPRINT,
                                   user_id=SEATTLE, ok=ok)
        monitor.query_finished("get_top_products", 0.02, fingerprint="x", user_id=None, ok=True)

    sales, top = monitor.summary()
    assert (sales.operation, sales.count, sales.errors, sales.slow) == (
        "execute_sales_query", 3, 1, 1)
    assert (sales.min_ms, sales.max_ms) == (100.0, 800.0)
    assert sales.avg_ms == pytest.approx(400.0)
    assert (top.operation, top.count, top.slow) == ("get_top_products", 1, 0)
    assert metrics.counts["query", "execute_sales_query", "slow"] == 1
    assert metrics.counts["query", "execute_sales_query", "fast"] == 2

    [record] = caplog.records
    assert FINGERPRINT in record.getMessage()
    assert str(SEATTLE) in record.getMessage()
    assert record.sql_fingerprint == FINGERPRINT  # type: ignore[attr-defined]
    assert record.duration_ms == 800.0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_only_head_office_reads_the_summary() -> None:
    monitor = QueryPerformanceMonitor(InMemoryMetrics(), slow_threshold_s=1.0)
    monitor.query_finished("execute_sales_query", 0.01, fingerprint="q", user_id=SEATTLE,
                           ok=True)
    service = PerformanceService(monitor, InMemoryAccessDirectory.from_demo_data())
    assert [s.count for s in await service.summary(HEAD_OFFICE)] == [1]
    with pytest.raises(AuthorizationError, match="head office only"):
        await service.summary(SEATTLE)
