"""Metrics that count in memory: for the in-memory wiring and for tests that assert on them."""

from __future__ import annotations

from collections import Counter

from ports.metrics import Metrics


class InMemoryMetrics(Metrics):
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()

    def tool_call(self, tool: str, outcome: str, error_code: str | None,
                  duration_s: float) -> None:
        self.counts["tool_call", tool, outcome, error_code or ""] += 1

    def query(self, operation: str, duration_s: float, slow: bool) -> None:
        self.counts["query", operation, "slow" if slow else "fast"] += 1

    def cache_lookup(self, backend: str, hit: bool) -> None:
        self.counts["cache", backend, "hit" if hit else "miss"] += 1

    def cache_fallback(self) -> None:
        self.counts["cache_fallback",] += 1

    def embedding(self, provider: str, duration_s: float) -> None:
        self.counts["embedding", provider] += 1
