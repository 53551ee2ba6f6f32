"""Port: runs a guarded, read-only SQL statement as the caller."""

from __future__ import annotations

from typing import Protocol

from domain.model import QueryResult, UserId
from ports.sql_guard import GuardedQuery


class SalesQueryExecutor(Protocol):
    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        """Run `query` under the caller's row-level security, returning at most `max_rows` rows.

        Raises domain errors: QueryTimeoutError, ValidationError for SQL the database rejects
        (unknown column, type mismatch), AuthorizationError for a privilege the role lacks,
        DatabaseError otherwise, ServiceUnavailableError when the database cannot be reached.
        """
        ...
