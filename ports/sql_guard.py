"""Port: decides whether SQL written by a model may be run by execute_sales_query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GuardedQuery:
    """A statement the guard accepted.

    `sql` is the single statement to send (no trailing semicolon); `fingerprint` is the statement
    with every literal replaced by a placeholder, safe to log and to use as a cache-key part;
    `relations` are the schema-qualified tables/views it reads.
    """

    sql: str
    fingerprint: str
    relations: frozenset[str]


class SqlGuard(Protocol):
    def check(self, sql: str) -> GuardedQuery:
        """Return the accepted statement or raise domain.errors.ValidationError naming the
        rejected construct (e.g. "function pg_read_file is not allowed")."""
        ...
