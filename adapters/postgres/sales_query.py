"""execute_sales_query's executor: one guarded statement, run as the caller, capped."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from decimal import Decimal
from typing import Any

from psycopg import AsyncCursor

from adapters.postgres.gateway import DatabaseGateway, fetch_statement
from adapters.postgres.pool import AsyncConn
from domain.model import QueryResult, UserId
from ports.sales_query import SalesQueryExecutor
from ports.sql_guard import GuardedQuery

FETCH_BATCH = 500


class PsycopgSalesQueryExecutor(SalesQueryExecutor):
    """Runs the statement through a server-side cursor in the caller's read-only, always
    rolled-back RLS transaction.

    - extended query protocol only (the statement is sent in pipeline mode): PostgreSQL itself
      refuses a second statement, whatever the guard let through;
    - DECLARE … CURSOR + FETCH reads at most max_rows + 1 rows, so `SELECT * FROM order_items`
      neither runs to the end nor fills memory; BEGIN, the signed context, DECLARE and the first
      FETCH share one round trip, and a result that fits the first FETCH needs no other;
    - the result-size cap stops at `max_result_bytes` of JSON and marks the result truncated.
    """

    OPERATION = "execute_sales_query"

    def __init__(self, gateway: DatabaseGateway, *, max_result_bytes: int = 1_000_000) -> None:
        self._gateway = gateway
        self._max_result_bytes = max_result_bytes

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        started = time.perf_counter()
        first_fetch = min(FETCH_BATCH, max_rows + 1)

        async def read(conn: AsyncConn, first: AsyncCursor[Any]
                       ) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...], bool]:
            columns = tuple(d.name for d in first.description or ())
            rows, truncated = await self._collect(conn, first, first_fetch, max_rows)
            return columns, rows, truncated

        columns, rows, truncated = await self._gateway.query(
            self.OPERATION, user_id, query.sql, first_fetch, read, fingerprint=query.fingerprint)
        return QueryResult(
            columns=columns,
            rows=rows,
            truncated=truncated,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            fingerprint=query.fingerprint,
        )

    async def _collect(
        self, conn: AsyncConn, batch_cursor: AsyncCursor[Any], asked: int, max_rows: int,
    ) -> tuple[tuple[tuple[object, ...], ...], bool]:
        """Rows up to max_rows and the JSON size cap, FETCHing further batches only while the
        last one came back full."""
        rows: list[tuple[object, ...]] = []
        size = 0
        while True:
            batch = await batch_cursor.fetchall()
            for raw in batch:
                row = tuple(json_ready(v) for v in raw)
                size += len(json.dumps(row, default=str))
                if len(rows) == max_rows or size > self._max_result_bytes:
                    return tuple(rows), True
                rows.append(row)
            if len(batch) < asked:
                return tuple(rows), False
            asked = min(FETCH_BATCH, max_rows + 1 - len(rows))
            batch_cursor = await conn.execute(fetch_statement(asked))  # type: ignore[arg-type,unused-ignore]


def json_ready(value: object) -> object:
    """Map PostgreSQL values to JSON types: money stays exact as a string only if a float
    could not represent it to the cent."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    to_list = getattr(value, "to_list", None)  # pgvector.Vector
    if callable(to_list):
        return to_list()
    return str(value)
