"""execute_sales_query: a model's own SQL, checked and then run under the caller's identity."""

from __future__ import annotations

from domain.errors import ValidationError
from domain.model import QueryResult, UserId
from ports.sales_query import SalesQueryExecutor
from ports.sql_guard import SqlGuard


class SalesQueryService:
    def __init__(self, guard: SqlGuard, executor: SalesQueryExecutor, max_rows_cap: int) -> None:
        self._guard = guard
        self._executor = executor
        self._max_rows_cap = max_rows_cap

    async def execute(self, user_id: UserId, sql: str, max_rows: int = 100) -> QueryResult:
        if not 1 <= max_rows <= self._max_rows_cap:
            raise ValidationError(
                f"max_rows must be between 1 and {self._max_rows_cap}, got {max_rows}"
            )
        guarded = self._guard.check(sql)
        return await self._executor.run(user_id, guarded, max_rows)
