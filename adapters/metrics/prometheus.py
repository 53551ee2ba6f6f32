"""Prometheus metrics (prometheus-client), every name prefixed `zava_`.

One registry per server (not the library's global one), so tests and benchmarks can build many
servers in one process. Label children are cached: on the hot path a call costs a dict lookup
and an increment, not the library's label validation. The pool gauges are read from
psycopg_pool's own counters (`get_stats()`) at scrape time by a custom collector, so the pool
pays nothing between scrapes.

With `serve --workers N` the workers share one port, so a scrape reaches whichever worker
accepts it: the supervisor then sets prometheus-client's PROMETHEUS_MULTIPROC_DIR and every
worker runs in multiprocess mode (`multiprocess_dir`). Counters and histograms are summed over
the workers (those of a worker that exited still count); the pool gauges are the sum over the
live workers, each refreshing its own every second (`start()`) and at every scrape it
answers. Process metrics are left out there: they would describe only the worker that
answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ports.metrics import Metrics

# Tool calls and queries of this server run from about a millisecond to the 30 s timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0)
EMBEDDING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PoolStats = Callable[[], Mapping[str, int]]
# prometheus-client's own variable: read when the library is imported, so it must be set in
# the environment a worker process starts with.
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
M = TypeVar("M", Counter, Histogram)

log = logging.getLogger(__name__)


class _PoolCollector:
    """zava_db_pool_* gauges from psycopg_pool's get_stats(), read when scraped."""

    GAUGES = (
        ("size", "pool_size", "Connections the pool holds (in use + idle + being opened)"),
        ("idle", "pool_available", "Idle connections ready to be handed out"),
        ("waiting", "requests_waiting", "Requests waiting for a free connection"),
        ("max", "pool_max", "Configured maximum pool size"),
    )

    def __init__(self, pools: dict[str, PoolStats]) -> None:
        self._pools = pools

    def collect(self) -> Iterable[Metric]:
        families = {
            name: GaugeMetricFamily(f"zava_db_pool_{name}", doc, labels=["pool"])
            for name, _, doc in self.GAUGES
        }
        for pool, get_stats in self._pools.items():
            stats = get_stats()
            for name, key, _ in self.GAUGES:
                families[name].add_metric([pool], float(stats.get(key, 0)))
        return families.values()


class _PoolGauges:
    """Multiprocess mode: the zava_db_pool_* gauges as prometheus-client values this worker
    writes, summed over the live workers at scrape time."""

    REFRESH_S = 1.0

    def __init__(self, pools: dict[str, PoolStats], registry: CollectorRegistry) -> None:
        self._pools = pools
        self._gauges = {
            key: Gauge(f"zava_db_pool_{name}", doc, ["pool"], multiprocess_mode="livesum",
                       registry=registry)
            for name, key, doc in _PoolCollector.GAUGES
        }

    async def refresh_forever(self) -> None:
        while True:
            try:
                self.refresh()
            except Exception:  # a metrics hiccup must not end the refreshing, nor the shutdown
                log.warning("could not refresh the pool gauges", exc_info=True)
            await asyncio.sleep(self.REFRESH_S)

    def refresh(self) -> None:
        for pool, get_stats in self._pools.items():
            stats = get_stats()
            for key, gauge in self._gauges.items():
                gauge.labels(pool).set(float(stats.get(key, 0)))


class PrometheusMetrics(Metrics):
    def __init__(self, registry: CollectorRegistry | None = None, *,
                 multiprocess_dir: str | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._multiprocess_dir = multiprocess_dir
        r = self.registry
        self._tool_calls = Counter("zava_tool_calls", "Tool calls by tool and outcome",
                                   ["tool", "outcome"], registry=r)
        self._tool_errors = Counter("zava_tool_errors", "Failed tool calls by tool and error code",
                                    ["tool", "error_type"], registry=r)
        self._tool_duration = Histogram("zava_tool_call_duration_seconds",
                                        "Tool call latency inside the server", ["tool"],
                                        buckets=LATENCY_BUCKETS, registry=r)
        self._query_duration = Histogram("zava_query_duration_seconds",
                                         "Database query latency by operation", ["operation"],
                                         buckets=LATENCY_BUCKETS, registry=r)
        self._slow_queries = Counter("zava_slow_queries", "Queries slower than ZAVA_SLOW_QUERY_S",
                                     ["operation"], registry=r)
        self._cache_lookups = Counter("zava_cache_lookups", "Cache lookups by backend and result",
                                      ["backend", "result"], registry=r)
        self._cache_fallbacks = Counter("zava_cache_fallbacks",
                                        "Lookups answered by memory because Redis was down",
                                        registry=r)
        self._embedding = Histogram("zava_embedding_duration_seconds",
                                    "Embedding provider latency by provider", ["provider"],
                                    buckets=EMBEDDING_BUCKETS, registry=r)
        self._pools: dict[str, PoolStats] = {}
        self._pool_gauges: _PoolGauges | None = None  # set exactly in multiprocess mode
        if multiprocess_dir is None:
            r.register(_PoolCollector(self._pools))
            ProcessCollector(namespace="zava", registry=r)
            PlatformCollector(registry=r)
        else:
            self._pool_gauges = _PoolGauges(self._pools, r)
        self._refreshing: asyncio.Task[None] | None = None
        self._children: dict[tuple[str, ...], Counter | Histogram] = {}

    def watch_pool(self, name: str, get_stats: PoolStats) -> None:
        """Report a connection pool's size, idle and waiting counts at every scrape."""
        self._pools[name] = get_stats

    def tool_call(self, tool: str, outcome: str, error_code: str | None,
                  duration_s: float) -> None:
        self._child(self._tool_calls, "calls", tool, outcome).inc()
        self._child(self._tool_duration, "duration", tool).observe(duration_s)
        if error_code is not None:
            self._child(self._tool_errors, "errors", tool, error_code).inc()

    def query(self, operation: str, duration_s: float, slow: bool) -> None:
        self._child(self._query_duration, "query", operation).observe(duration_s)
        if slow:
            self._child(self._slow_queries, "slow", operation).inc()

    def cache_lookup(self, backend: str, hit: bool) -> None:
        self._child(self._cache_lookups, "cache", backend, "hit" if hit else "miss").inc()

    def cache_fallback(self) -> None:
        self._cache_fallbacks.inc()

    def embedding(self, provider: str, duration_s: float) -> None:
        self._child(self._embedding, "embedding", provider).observe(duration_s)

    def exposition(self) -> tuple[bytes, str]:
        """The scrape body and its content type: this server's registry, or in multiprocess
        mode every worker's values."""
        if self._pool_gauges is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        self._pool_gauges.refresh()
        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]  # unannotated
            workers, path=self._multiprocess_dir)
        return generate_latest(workers), CONTENT_TYPE_LATEST

    def start(self) -> None:
        """In the server's event loop: multiprocess mode keeps this worker's pool gauges fresh
        for the scrapes other workers answer."""
        if self._pool_gauges is not None and self._refreshing is None:
            self._refreshing = asyncio.get_running_loop().create_task(
                self._pool_gauges.refresh_forever())

    async def close(self) -> None:
        """The worker is stopping: its pool gauges leave the sums (its counts stay)."""
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing
            self._refreshing = None
        if self._multiprocess_dir is not None:
            multiprocess.mark_process_dead(  # type: ignore[no-untyped-call]  # unannotated
                os.getpid(), self._multiprocess_dir)

    def _child(self, metric: M, key: str, *labels: str) -> M:
        child = self._children.get((key, *labels))
        if child is None:
            child = self._children[(key, *labels)] = metric.labels(*labels)
        return child  # type: ignore[return-value]
