"""The free-SQL tool and the schema descriptions without PostgreSQL: the retail tables of a
demo data set in SQLite (the standard library), one in-memory copy per set of visible stores.

Row-level security is emulated the way sql/003 enforces it: the tenant tables (customers,
orders, order_items, inventory) hold only the caller's stores' rows; the reference tables are
whole. The copy is read-only (`PRAGMA query_only`). The dialect is SQLite's, not PostgreSQL's:
portable SELECTs (joins, GROUP BY, window functions, CTEs) answer as on the server; PostgreSQL
functions and casts (`date_trunc`, `::date`, `ILIKE`) are a VALIDATION_ERROR naming SQLite.
The schema catalog describes the same tables (types, nullability, valid values); the column
descriptions, keys and comments live in the migrations and only PostgreSQL has them.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from adapters.demodata.generator import DemoDataset
from domain.errors import QueryTimeoutError, ValidationError
from domain.model import ColumnSchema, QueryResult, StoreId, TableSchema, UserId
from ports.access import AccessDirectory
from ports.sales_query import SalesQueryExecutor
from ports.schema_catalog import SchemaCatalog
from ports.sql_guard import GuardedQuery

# the tables row-level security limits to the caller's stores (sql/003_access_rls_audit.sql)
TENANT_TABLES = frozenset({"customers", "orders", "order_items", "inventory"})
ORDER_STATUSES = ("cancelled", "completed", "returned")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_INTEGER = re.compile(r"^-?\d+$")
_NUMBER = re.compile(r"^-?\d+\.\d+$")
_PROGRESS_STEPS = 10_000  # SQLite virtual-machine steps between deadline checks


@dataclass(frozen=True)
class Table:
    name: str  # unqualified
    columns: tuple[str, ...]
    types: tuple[str, ...]  # PostgreSQL-style names: uuid, integer, numeric, boolean, ...
    nullable: tuple[bool, ...]
    rows: tuple[tuple[object, ...], ...]

    def visible_rows(self, stores: frozenset[str]) -> Iterable[tuple[object, ...]]:
        if self.name not in TENANT_TABLES:
            return self.rows
        at = self.columns.index("store_id")
        return (row for row in self.rows if row[at] in stores)


def retail_tables(dataset: DemoDataset) -> dict[str, Table]:
    """The `retail.*` tables of a data set, with each column's type taken from its values."""
    tables: dict[str, Table] = {}
    for data in dataset.tables:
        schema, _, name = data.name.partition(".")
        if schema != "retail":
            continue
        raw = list(data.rows())
        types = tuple(_column_type([r[i] for r in raw]) for i in range(len(data.columns)))
        rows = tuple(tuple(_value(v, t) for v, t in zip(r, types, strict=True)) for r in raw)
        nullable = tuple(any(r[i] is None for r in raw) for i in range(len(data.columns)))
        tables[name] = Table(name, tuple(data.columns), types, nullable, rows)
    return tables


def _column_type(values: Sequence[str | None]) -> str:
    present = [v for v in values if v is not None]
    if present and all(v in ("t", "f") for v in present):
        return "boolean"
    for kind, pattern in (("uuid", _UUID), ("timestamp with time zone", _TIMESTAMP),
                          ("integer", _INTEGER)):
        if present and all(pattern.match(v) for v in present):
            return kind
    if present and all(_INTEGER.match(v) or _NUMBER.match(v) for v in present):
        return "numeric"
    return "text"


def _value(text: str | None, kind: str) -> object:
    if text is None:
        return None
    if kind == "boolean":
        return text == "t"
    if kind == "integer":
        return int(text)
    if kind == "numeric":
        return float(text)
    return text


class _ScopedCopies:
    """One read-only SQLite copy of the tables per set of visible stores, built on first use."""

    def __init__(self, tables: dict[str, Table]) -> None:
        self._tables = tables
        self._copies: dict[frozenset[str], tuple[sqlite3.Connection, threading.Lock]] = {}
        self._building = threading.Lock()

    @property
    def tables(self) -> dict[str, Table]:
        return self._tables

    def copy_for(self, stores: frozenset[StoreId]) -> tuple[sqlite3.Connection, threading.Lock]:
        key = frozenset(str(s) for s in stores)
        with self._building:
            found = self._copies.get(key)
            if found is None:
                found = self._copies[key] = (self._build(key), threading.Lock())
            return found

    def _build(self, stores: frozenset[str]) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute("ATTACH DATABASE ':memory:' AS retail")
        for table in self._tables.values():
            columns = ", ".join(f'"{c}" {t}' for c, t in zip(table.columns, table.types,
                                                             strict=True))
            conn.execute(f'CREATE TABLE retail."{table.name}" ({columns})')
            marks = ", ".join("?" for _ in table.columns)
            conn.executemany(f'INSERT INTO retail."{table.name}" VALUES ({marks})',
                             table.visible_rows(stores))
        conn.commit()
        conn.execute("PRAGMA query_only = ON")
        return conn


class InMemorySqlDatabase:
    """The in-memory counterpart of the PostgreSQL executor and schema catalog, sharing one
    set of scoped copies; `executor` and `catalog` are the two ports."""

    def __init__(self, dataset: DemoDataset, directory: AccessDirectory,
                 *, timeout_s: float = 30.0) -> None:
        self._copies = _ScopedCopies(retail_tables(dataset))
        self.executor = InMemorySalesQueryExecutor(self._copies, directory, timeout_s)
        self.catalog = InMemorySchemaCatalog(self._copies, directory)


class InMemorySalesQueryExecutor(SalesQueryExecutor):
    def __init__(self, copies: _ScopedCopies, directory: AccessDirectory,
                 timeout_s: float) -> None:
        self._copies = copies
        self._directory = directory
        self._timeout_s = timeout_s

    async def run(self, user_id: UserId, query: GuardedQuery, max_rows: int) -> QueryResult:
        scope = await self._directory.scope_for(user_id)
        started = time.perf_counter()
        columns, rows, truncated = await asyncio.to_thread(
            self._run, scope.store_ids, query.sql, max_rows)
        return QueryResult(columns, rows, truncated,
                           round((time.perf_counter() - started) * 1000, 3), query.fingerprint)

    def _run(self, stores: frozenset[StoreId], sql: str, max_rows: int
             ) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...], bool]:
        conn, lock = self._copies.copy_for(stores)
        deadline = time.monotonic() + self._timeout_s
        with lock:
            conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
            try:
                cursor = conn.execute(sql)
                fetched = cursor.fetchmany(max_rows + 1)
            except sqlite3.OperationalError as e:
                if str(e) == "interrupted":
                    raise QueryTimeoutError(
                        f"the query ran longer than the {self._timeout_s:g} s limit and was"
                        " cancelled; filter by date or store, aggregate, or add LIMIT") from None
                raise _rejected(e) from None
            except sqlite3.Error as e:
                raise _rejected(e) from None
            finally:
                conn.set_progress_handler(None, 0)
        columns = tuple(d[0] for d in cursor.description or ())
        return columns, tuple(fetched[:max_rows]), len(fetched) > max_rows


def _rejected(error: sqlite3.Error) -> ValidationError:
    return ValidationError(f"the in-memory database (SQLite, not PostgreSQL) rejected the"
                           f" query: {error}")


class InMemorySchemaCatalog(SchemaCatalog):
    def __init__(self, copies: _ScopedCopies, directory: AccessDirectory) -> None:
        self._copies = copies
        self._directory = directory

    def exposed_tables(self) -> frozenset[str]:
        return frozenset(self._copies.tables)

    async def describe(self, user_id: UserId, tables: Sequence[str]) -> list[TableSchema]:
        scope = await self._directory.scope_for(user_id)
        visible = frozenset(str(s) for s in scope.store_ids)
        return [self._describe(self._copies.tables[name], visible) for name in tables]

    def _describe(self, table: Table, visible: frozenset[str]) -> TableSchema:
        return TableSchema(
            name=f"retail.{table.name}",
            description="",
            row_level_security=table.name in TENANT_TABLES,
            columns=tuple(ColumnSchema(c, t, n, "") for c, t, n in
                          zip(table.columns, table.types, table.nullable, strict=True)),
            primary_key=(),
            foreign_keys=(),
            valid_values=self._valid_values(table.name, visible),
        )

    def _valid_values(self, table: str, visible: frozenset[str]) -> dict[str, tuple[str, ...]]:
        tables = self._copies.tables
        stores = tables["stores"]
        seen = [r for r in stores.rows if r[stores.columns.index("store_id")] in visible]
        if table == "stores":
            return {"name": _sorted(r[stores.columns.index("name")] for r in seen)}
        if table == "regions":
            regions = tables["regions"]
            ids = {r[stores.columns.index("region_id")] for r in seen}
            return {"name": _sorted(r[regions.columns.index("name")] for r in regions.rows
                                    if r[regions.columns.index("region_id")] in ids)}
        if table in ("categories", "product_types"):
            own = tables[table]
            return {"name": _sorted(r[own.columns.index("name")] for r in own.rows)}
        if table == "orders":
            return {"status": ORDER_STATUSES}
        return {}


def _sorted(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(sorted({str(v) for v in values}))
