"""execute_sales_query's executor: one guarded statement, run as the caller, capped."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from decimal import Decimal

import psycopg
from psycopg import AsyncRawServerCursor
from psycopg_pool import PoolTimeout

from adapters.postgres.errors import translate
from adapters.postgres.pool import RlsDatabase, connection_retries
from domain.model import QueryResult, UserId
from ports.metrics import QueryObserver
from ports.sales_query import SalesQueryExecutor
from ports.sql_guard import GuardedQuery

FETCH_BATCH = 500


class PsycopgSalesQueryExecutor(SalesQueryExecutor):
    """Runs the statement through a server-side cursor in the caller's read-only, always
    rolled-back RLS transaction.

    - extended query protocol only (a raw cursor with a parameter tuple): PostgreSQL itself
      refuses a second statement, whatever the guard let through;
    - DECLARE … CURSOR + FETCH reads at most max_rows + 1 rows, so `SELECT * FROM order_items`
      neither runs to the end nor fills memory;
    - the result-size cap stops at `max_result_bytes` of JSON and marks the result truncated.
    """

    OPERATION = "execute_sales_query"

    def __init__(
        self,
        database: RlsDatabase,
        *,
        timeout_s: float,
        max_result_bytes: int = 1_000_000,
        observer: QueryObserver | None = None,
    ) -> None:
        self._database = database
        self._timeout_s = timeout_s
        self._max_result_bytes = max_result_bytes
        self._observer = observer

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        started = time.perf_counter()
        ok = False
        try:
            # read-only and always rolled back, so running it again after a broken
            # connection is safe
            async for attempt in connection_retries():
                with attempt:
                    columns, rows, truncated = await self._run_once(user_id, query, max_rows)
            ok = True
        except (psycopg.Error, PoolTimeout) as e:
            raise translate(e, timeout_s=self._timeout_s) from e
        finally:
            elapsed_s = time.perf_counter() - started
            if self._observer is not None:
                self._observer.query_finished(self.OPERATION, elapsed_s, user_id=user_id,
                                              fingerprint=query.fingerprint, ok=ok)
        return QueryResult(
            columns=columns,
            rows=rows,
            truncated=truncated,
            elapsed_ms=round(elapsed_s * 1000, 3),
            fingerprint=query.fingerprint,
        )

    async def _run_once(
        self, user_id: UserId, query: GuardedQuery, max_rows: int
    ) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...], bool]:
        async with self._database.session(user_id) as conn:
            cursor = AsyncRawServerCursor(conn, f"q_{uuid.uuid4().hex[:12]}")
            try:
                await cursor.execute(query.sql, ())
                columns = tuple(d.name for d in cursor.description or ())
                rows, truncated = await self._fetch(cursor, max_rows)
            finally:
                # ending the transaction drops the cursor too: closing it then is free
                await self._database.end(conn)
                await cursor.close()
        return columns, rows, truncated

    async def _fetch(
        self, cursor: AsyncRawServerCursor, max_rows: int
    ) -> tuple[tuple[tuple[object, ...], ...], bool]:
        rows: list[tuple[object, ...]] = []
        size = 0
        while len(rows) <= max_rows:
            batch = await cursor.fetchmany(min(FETCH_BATCH, max_rows + 1 - len(rows)))
            if not batch:
                return tuple(rows), False
            for raw in batch:
                row = tuple(json_ready(v) for v in raw)
                size += len(json.dumps(row, default=str))
                if len(rows) == max_rows or size > self._max_result_bytes:
                    return tuple(rows), True
                rows.append(row)
        return tuple(rows), True


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
