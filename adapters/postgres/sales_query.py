"""execute_sales_query's executor: one guarded statement, run as the caller, capped."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from decimal import Decimal
from typing import Any

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn, context_binding
from domain.model import QueryResult, UserId
from ports.sales_query import SalesQueryExecutor
from ports.sql_guard import GuardedQuery


def bounded_sql(query: str, max_bytes: int, row_limit: int) -> str:
    """`query` wrapped so PostgreSQL measures every row before sending it, and sends no row
    once the result would pass `max_bytes`: a 200 MB value is never transferred, so neither
    libpq nor Python ever holds it.

    The first column, zava_bytes, is the running total of the rows' sizes (pg_column_size of
    the whole row: its in-memory size, the text on the wire is of the same order); the query's
    own columns follow, typed as the query made them, and are all NULL on the first row that
    would pass the limit (that row is where reading stops). At most `row_limit` rows: the
    query stops there, however many more it would return. A row too big on its own is
    nulled before the running total is taken, so the window never stores it either. Each
    level is an optimisation fence (OFFSET 0): the planner would otherwise copy the query's
    expressions into every place that reads the row and evaluate them several times.

    The whole row is always written `zava_q.*`, never bare `zava_q`: a bare name means the
    query's column of that name if it has one (a column called zava_q made the wrapper measure
    that column: "type integer is not composite"), while in `alias.*` the name can only be the
    relation, and `.*` anywhere but at the top of a select list is the row as one value
    (PostgreSQL's "Using Composite Types in Queries"); the `::record` cast (a no-op: the plan
    is the same) only keeps the select list from expanding it. Every other reference is
    qualified by an alias whose columns are all the wrapper's own, so the query's columns may
    be called anything.

    `query` is one SELECT the guard accepted, comments already blanked (nothing in it can
    swallow the text around it)."""
    limit = int(max_bytes)
    return (
        "SELECT w.zava_bytes, v.* FROM ("
        "SELECT s.zava_row, sum(s.zava_row_bytes) OVER (ROWS UNBOUNDED PRECEDING) AS zava_bytes"
        " FROM (SELECT small.zava_row, b.zava_row_bytes"
        " FROM (SELECT zava_q.*::record AS zava_q, pg_column_size(zava_q.*) AS zava_row_bytes"
        f" FROM (SELECT * FROM ({query}\n) AS q0 OFFSET 0) AS zava_q OFFSET 0) AS b"
        " LEFT JOIN LATERAL (SELECT b.zava_q AS zava_row) AS small"
        f" ON b.zava_row_bytes <= {limit} OFFSET 0) AS s) AS w"
        f" LEFT JOIN LATERAL (SELECT (w.zava_row).*) AS v ON w.zava_bytes <= {limit}"
        f" LIMIT {int(row_limit)}"
    )


def citus_bounded_sql(query: str, max_bytes: int, row_limit: int) -> str:
    """bounded_sql's guarantee in the shape a Citus coordinator can run: the rows past
    `max_bytes` are withheld by the database, so a 200 MB value never reaches libpq or Python;
    at most `row_limit` rows.

    bounded_sql passes whole-row values between subqueries, which Citus refuses once a query
    spans shards: it plans each fenced subquery separately and cannot read an anonymous record
    back ("input of anonymous composite types is not implemented"), and a record carried
    through a window and expanded afterwards is not registered where Citus evaluates it
    ("record type has not been registered"). Here no record crosses a plan boundary:
    - the query is a MATERIALIZED CTE, which Citus runs first (on the shards) into an
      intermediate result on the coordinator (it gathers a multi-shard result there before
      the first row anyway);
    - the rest runs on the coordinator over that result: the whole row is only measured
      (pg_column_size) at the CTE scan, the running total is a window over plain columns, and
      a row past the limit is replaced by NULLs through a lateral join on its columns
      (zava_b.*).
    The query's columns may be called anything: they share zava_b with the running total, so
    the total is read by position, as the first field of ROW(zava_b.*) (a row constructor
    names its fields f1, f2, ...; the planner reduces the expression to the column itself),
    never by its name, which a column called zava_bytes would make ambiguous.
    The first two columns are zava_bytes (the running total, as in bounded_sql) and its copy
    from zava_b.*; the query's own columns follow. Unlike bounded_sql, a row too big on its own is
    not nulled before the window: the coordinator holds it (in the intermediate result and
    the window's buffer, on disk past work_mem), the server never does."""
    limit = int(max_bytes)
    return (
        f"WITH zava_q AS MATERIALIZED ({query}\n) "
        "SELECT (ROW(zava_b.*)).f1 AS zava_bytes, zava_v.* FROM ("
        "SELECT sum(pg_column_size(zava_q.*)) OVER (ROWS UNBOUNDED PRECEDING) AS zava_bytes,"
        " zava_q.* FROM zava_q) AS zava_b"
        " LEFT JOIN LATERAL (SELECT zava_b.*) AS zava_v"
        f" ON (ROW(zava_b.*)).f1 <= {limit}"
        f" LIMIT {int(row_limit)}"
    )


# leading columns the size-capping wrappers add before the query's own
_BOUNDED_LEADING = 1
_CITUS_BOUNDED_LEADING = 2


class PsycopgSalesQueryExecutor(SalesQueryExecutor):
    """Runs the statement through a server-side cursor in the caller's read-only, always
    rolled-back RLS transaction.

    - extended query protocol only (the statement is sent in pipeline mode): PostgreSQL itself
      refuses a second statement, whatever the guard let through;
    - the wrapper's LIMIT max_rows + 1 stops the query one row past what was asked (that row
      says there were more), so `SELECT * FROM order_items` neither runs to the end nor fills
      memory; BEGIN, the signed context and the statement share one round trip;
    - the result-size cap is enforced while rows stream, before a value reaches Python: the
      database measures each row and withholds every row past `max_result_bytes` (bounded_sql;
      on Citus citus_bounded_sql, where the coordinator gathers the result first);
      the JSON of the rows received is checked against the same cap. Either way the result is
      marked truncated, with the reason and the limit (`truncated_reason`), so the model can
      narrow its query.
    """

    OPERATION = "execute_sales_query"

    def __init__(self, gateway: DatabaseGateway, *, max_result_bytes: int = 1_000_000) -> None:
        self._gateway = gateway
        self._max_result_bytes = max_result_bytes
        self._on_citus: bool | None = None  # asked once, on the first query

    async def _distributed(self) -> bool:
        if self._on_citus is None:
            async def probe(conn: AsyncConn) -> bool:
                return context_binding(conn)[1]

            self._on_citus = bool(await self._gateway.read(
                f"{self.OPERATION}.setup", None, probe))
        return self._on_citus

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        started = time.perf_counter()
        row_limit = max_rows + 1  # one row more than asked: whether there were more

        if await self._distributed():
            statement = citus_bounded_sql(query.sql, self._max_result_bytes, row_limit)
            leading = _CITUS_BOUNDED_LEADING
        else:
            statement = bounded_sql(query.sql, self._max_result_bytes, row_limit)
            leading = _BOUNDED_LEADING

        result = await self._gateway.query(
            self.OPERATION, user_id, statement, fingerprint=query.fingerprint)
        rows, reason = self._collect(result.rows, max_rows, leading)
        return QueryResult(
            columns=result.columns[leading:],  # not the wrapper's zava_*
            rows=rows,
            truncated=reason is not None,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 3),
            fingerprint=query.fingerprint,
            truncated_reason=reason,
        )

    def _collect(self, wrapped_rows: list[Any], max_rows: int, leading: int,
                 ) -> tuple[tuple[tuple[object, ...], ...], str | None]:
        """Rows up to max_rows and the size cap; with why the result was cut, if it was. Each
        row starts with `leading` columns of the wrapper, the first the running size."""
        rows: list[tuple[object, ...]] = []
        size = 0
        for wrapped in wrapped_rows:
            running_bytes, values = wrapped[0], wrapped[leading:]
            if len(rows) == max_rows:
                return tuple(rows), self._row_limit_reason(max_rows)
            if running_bytes is not None and running_bytes > self._max_result_bytes:
                return tuple(rows), self._size_limit_reason(len(rows))
            row = tuple(json_ready(v) for v in values)
            size += len(json.dumps(row, default=str))
            if size > self._max_result_bytes:
                return tuple(rows), self._size_limit_reason(len(rows))
            rows.append(row)
        return tuple(rows), None

    @staticmethod
    def _row_limit_reason(max_rows: int) -> str:
        return (f"max_rows: the query returns more than max_rows={max_rows} rows; these are the"
                " first. Aggregate, filter, or add ORDER BY ... LIMIT to get the rows that matter")

    def _size_limit_reason(self, rows_kept: int) -> str:
        return (f"max_result_bytes: the result passes the {self._max_result_bytes:,}-byte limit"
                f" after {rows_kept} row{'s' if rows_kept != 1 else ''}; select fewer or narrower"
                " columns (left(text, 200) for long text), aggregate, or filter")


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
