"""Ports: operational metrics, and the observer every database query reports to.

Both are called on the hot path of every tool call, so implementations must be cheap (no I/O,
no formatting): a few counter increments per call.
"""

from __future__ import annotations

from typing import Protocol

from domain.model import UserId


class Metrics(Protocol):
    def tool_call(self, tool: str, outcome: str, error_code: str | None,
                  duration_s: float) -> None:
        """One finished tool call; `outcome` is ok | rejected | error, `error_code` the domain
        error's code (VALIDATION_ERROR, ...) when it failed."""
        ...

    def query(self, operation: str, duration_s: float, slow: bool) -> None:
        """One database query of `operation` (e.g. execute_sales_query), successful or not."""
        ...

    def cache_lookup(self, backend: str, hit: bool) -> None:
        """One cache lookup on `backend` (memory | redis)."""
        ...

    def cache_fallback(self) -> None:
        """The shared cache was unreachable and the in-memory one answered instead."""
        ...

    def embedding(self, provider: str, duration_s: float) -> None:
        """One call to an embedding provider (a batch counts once)."""
        ...


class QueryObserver(Protocol):
    def query_finished(self, operation: str, duration_s: float, *, fingerprint: str,
                       user_id: UserId | None, ok: bool) -> None:
        """A query of `operation` ran for `duration_s` (successful or not). `fingerprint` is the
        SQL with literals replaced by placeholders: never pass SQL that carries values."""
        ...
