"""Port: decides whether SQL written by a model may be run by execute_sales_query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GuardedQuery:
    """A statement the guard accepted.

    `sql` is the single statement to send (no trailing semicolon); `fingerprint` is the statement
    with every literal replaced by a placeholder, safe to log and to use as a cache-key part;
    `relations` are the schema-qualified tables/views it reads; `functions` the functions it
    calls, by the unqualified name PostgreSQL resolves (the SQL-syntax value functions such as
    CURRENT_DATE under their lower-case names), and `time_literals` the string literals whose
    value depends on the clock ('now', 'today', 'tomorrow', 'yesterday', and casts of
    'epoch'): what decides whether an answer may be cached (domain/services/query_cache.py).
    `functions=None` means unknown (a query built without the guard): never cached.
    """

    sql: str
    fingerprint: str
    relations: frozenset[str]
    functions: frozenset[str] | None = None
    time_literals: frozenset[str] = frozenset()


class SqlGuard(Protocol):
    def check(self, sql: str) -> GuardedQuery:
        """Return the accepted statement or raise domain.errors.ValidationError naming the
        rejected construct (e.g. "function pg_read_file is not allowed")."""
        ...
