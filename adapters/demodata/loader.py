"""Bulk-loading a `DemoDataset` into PostgreSQL with COPY, inside the caller's transaction.

The caller owns the transaction: nothing here commits, so a failed load leaves nothing behind.
Progress goes to stderr (stdout is the MCP wire in stdio mode) through an optional callback;
`rich_progress()` provides one that draws a rich progress bar.

Speed on the `large` scale (~3.6M rows) comes from three things: the generator's pre-formatted
COPY text; streaming it through a writer thread, so generation and the server backend use both
cores; and - when orders/order_items are still empty - building their indexes and checking
their foreign keys once after the load instead of row by row during it (bench/load_data.py
measures both ways; results in bench/results/load_data.md). The indexes and constraints are
recreated from their own catalog definitions (pg_get_indexdef / pg_get_constraintdef) under
their own names in the same transaction, so the end state is exactly the schema the
migrations created, fully validated; other sessions never see the intermediate state (the DDL
holds ACCESS EXCLUSIVE locks until the transaction ends).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

log = logging.getLogger(__name__)

# progress(table, rows_loaded_so_far, estimated_rows_of_the_table)
ProgressCallback = Callable[[str, int, int], object]

# Tables large enough that rebuilding their indexes and re-checking their foreign keys once
# beats maintaining them row by row (measured in bench/load_data.py).
DEFERRED_TABLES = frozenset({"retail.orders", "retail.order_items"})
DEFER_MIN_ROWS = 10_000


@dataclass(frozen=True)
class _Deferred:
    """Indexes and constraints of one table, dropped for the load and recreated after it."""

    table: str
    primary_key: tuple[str, str] | None  # (constraint name, definition), if unreferenced
    indexes: tuple[tuple[str, str], ...]  # (qualified index name, CREATE INDEX statement)
    foreign_keys: tuple[tuple[str, str], ...]  # (constraint name, definition)


class CopyTable(Protocol):
    """A table to COPY into: the demo generator's TableData, or an imported file's."""

    @property
    def name(self) -> str: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def estimated_rows(self) -> int: ...


class CopySource(Protocol):
    """What load_dataset loads: tables in load order, each with its COPY text in chunks."""

    def stream(self) -> Iterator[tuple[CopyTable, Iterator[bytes]]]: ...


def load_dataset(
    conn: psycopg.Connection,
    dataset: CopySource,
    progress: ProgressCallback | None = None,
    *,
    defer_indexes: bool | None = None,
) -> dict[str, int]:
    """COPY every table of `dataset` into the database; returns rows loaded per table.

    Runs in the caller's transaction and never commits; refuses an autocommit connection
    outside a transaction block (the load would not be all-or-nothing). `defer_indexes`
    (default None = when orders/order_items are empty and the load is big enough) drops their
    foreign keys, secondary indexes and unreferenced primary key for the load and recreates
    them, validated, right after it in the same transaction. `progress(table, rows_done,
    rows_expected)` is called after every chunk and once more with the final count.
    """
    if conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        raise ValueError(
            "load_dataset needs a transaction so the load is all-or-nothing: use a connection "
            "with autocommit off, or call it inside `with conn.transaction():`"
        )
    counts: dict[str, int] = {}
    started = time.perf_counter()
    with conn.cursor() as cur:
        # For this transaction only: the deferred index builds sort in memory.
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, chunks in dataset.stream():
            deferred = None
            if _should_defer(cur, table.name, table.estimated_rows, defer_indexes):
                deferred = _drop_secondary(cur, table.name)
            t0 = time.perf_counter()
            counts[table.name] = _copy(cur, table.name, table.columns, chunks,
                                       table.estimated_rows, progress)
            if deferred is not None:
                _restore(cur, deferred)
            log.debug("loaded %s: %d rows in %.2f s", table.name, counts[table.name],
                      time.perf_counter() - t0)
    log.info("loaded %d rows in %.1f s", sum(counts.values()), time.perf_counter() - started)
    return counts


def _copy(
    cur: psycopg.Cursor,
    table: str,
    columns: tuple[str, ...],
    chunks: Iterator[bytes],
    estimated: int,
    progress: ProgressCallback | None,
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*table.split(".")), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    rows = 0
    # A writer thread sends while this thread formats the next chunk: on two cores the
    # generator and the server backend then run side by side instead of taking turns.
    with cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        for chunk in chunks:
            copy.write(chunk)
            rows += chunk.count(b"\n")
            if progress is not None:
                progress(table, rows, max(rows, estimated))
    if progress is not None:
        progress(table, rows, rows)
    return rows


def _should_defer(
    cur: psycopg.Cursor, table: str, estimated: int, requested: bool | None
) -> bool:
    if requested is False or table not in DEFERRED_TABLES:
        return False
    if requested is None and estimated < DEFER_MIN_ROWS:
        return False
    query = sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier(*table.split("."))
    )
    row = cur.execute(query).fetchone()
    return bool(row and row[0])


def _drop_secondary(cur: psycopg.Cursor, table: str) -> _Deferred:
    """Drop the foreign keys, the plain (non-unique, non-constraint) indexes and - when no
    foreign key references it - the primary key of `table`, remembering their definitions."""
    indexes = cur.execute(
        """
        SELECT format('%%I.%%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname
        """,
        (table,),
    ).fetchall()
    foreign_keys = cur.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype = 'f' AND conparentid = 0
        ORDER BY conname
        """,
        (table,),
    ).fetchall()
    primary_key = cur.execute(
        """
        SELECT p.conname, pg_get_constraintdef(p.oid) FROM pg_constraint AS p
        WHERE p.conrelid = %s::regclass AND p.contype = 'p' AND p.conparentid = 0
          AND NOT EXISTS (SELECT 1 FROM pg_constraint AS f
                          WHERE f.contype = 'f' AND f.conindid = p.conindid)
        """,
        (table,),
    ).fetchone()
    target = sql.Identifier(*table.split("."))
    for name, _definition in foreign_keys:
        cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            target, sql.Identifier(name)))
    for name, _definition in indexes:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(*name.split("."))))
    if primary_key is not None:
        cur.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            target, sql.Identifier(primary_key[0])))
    log.debug("deferred %d indexes, %d foreign keys and %s primary key of %s", len(indexes),
              len(foreign_keys), "the" if primary_key else "no", table)
    return _Deferred(
        table,
        None if primary_key is None else (primary_key[0], primary_key[1]),
        tuple((name, definition) for name, definition in indexes),
        tuple((name, definition) for name, definition in foreign_keys),
    )


def _restore(cur: psycopg.Cursor, deferred: _Deferred) -> None:
    """Rebuild the primary key and indexes, then re-add (and so validate) the foreign keys:
    one sort per index and one join per foreign key instead of a lookup per row."""
    target = sql.Identifier(*deferred.table.split("."))
    constraints = [deferred.primary_key] if deferred.primary_key else []
    for name, definition in constraints:
        cur.execute(_add_constraint(target, name, definition))
    for _name, definition in deferred.indexes:
        # a partitioned table's index is defined "ON ONLY" the parent; rebuilt on every partition
        cascading = definition.replace(" ON ONLY ", " ON ", 1)
        cur.execute(sql.SQL(cascading))  # catalog-generated DDL
    for name, definition in deferred.foreign_keys:
        cur.execute(_add_constraint(target, name, definition))


def _add_constraint(target: sql.Identifier, name: str, definition: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
        target, sql.Identifier(name)
    ) + sql.SQL(definition)  # catalog-generated DDL


@contextmanager
def rich_progress() -> Iterator[ProgressCallback]:
    """A progress callback drawing one bar per table on stderr (never stdout)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    bars = Progress(
        TextColumn("[bold]{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(table: str, done: int, total: int) -> None:
        task = tasks.get(table)
        if task is None:
            task = tasks[table] = bars.add_task(table, total=total)
        bars.update(task, completed=done, total=total)

    with bars:
        yield update
