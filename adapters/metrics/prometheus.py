"""Prometheus metrics (prometheus-client), every name prefixed `zava_`.

One registry per server (not the library's global one), so tests and benchmarks can build many
servers in one process. Label children are cached: on the hot path a call costs a dict lookup
and an increment, not the library's label validation. The pool gauges are read from
psycopg_pool's own counters (`get_stats()`) at scrape time by a custom collector, so the pool
pays nothing between scrapes.

With `serve --workers N` each worker process has its own registry: scrape each, or aggregate
at the Prometheus side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ports.metrics import Metrics

# Tool calls and queries of this server run from about a millisecond to the 30 s timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                   30.0)
EMBEDDING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

PoolStats = Callable[[], Mapping[str, int]]
M = TypeVar("M", Counter, Histogram)


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


class PrometheusMetrics(Metrics):
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
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
        r.register(_PoolCollector(self._pools))
        ProcessCollector(namespace="zava", registry=r)
        PlatformCollector(registry=r)
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
        """The scrape body and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def _child(self, metric: M, key: str, *labels: str) -> M:
        child = self._children.get((key, *labels))
        if child is None:
            child = self._children[(key, *labels)] = metric.labels(*labels)
        return child  # type: ignore[return-value]
