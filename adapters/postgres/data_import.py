"""`zava-mcp db import DIR [--replace]`: a chain's own CSV files into the database, all or nothing.

Every row is checked first (adapters/csvimport/files.py); with any problem nothing is loaded.
Then one transaction: with --replace the tenant and reference data go (users stay; their
store grants are kept for the store codes that come back), the files are COPYed through the
demo loader (deferred indexes on empty tables, progress on stderr), the sales rollups follow
in the same transaction (the statement triggers of sql/005 and sql/008 maintain them exactly
on COPY), the load is recorded in zava_meta.data_loads, and serving processes are told that
access may have changed (a head office user sees new stores, a replaced store's grants moved).
New products are embedded afterwards by the caller (`embeddings build`).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from adapters.csvimport.files import Existing, FileSet, Problems, read_file_set
from adapters.demodata.loader import load_dataset
from domain.errors import ValidationError
from ports.user_admin import ACCESS_CHANGED_CHANNEL

log = logging.getLogger(__name__)

# Everything a --replace removes: the tenant tables, their rollups and the reference data the
# files bring again. Users stay; access.user_store_access is emptied with the stores and its
# grants restored by store code.
# The tenant tables go in one TRUNCATE (their rollup triggers empty the rollups as they go);
# the rollups are truncated again on their own (a TRUNCATE naming them beside the tenant tables
# is refused while those triggers run), and the reference tables, which tenant tables still
# reference by foreign key, are deleted in dependency order.
TRUNCATED_TABLES = ("retail.order_items", "retail.orders", "retail.customers",
                    "retail.inventory")
TRUNCATED_ROLLUPS = ("retail.daily_product_sales", "retail.daily_store_sales")
DELETED_TABLES = ("access.user_store_access", "retail.product_description_embeddings",
                  "retail.products", "retail.product_types", "retail.categories",
                  "retail.stores", "retail.regions")


class ImportRefused(ValidationError):
    """The files have problems; `problems.report()` lists them (nothing was loaded)."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(f"{problems.count} problem(s) in the files; nothing was loaded")
        self.problems = problems


@dataclass(frozen=True)
class ImportReport:
    rows: dict[str, int]
    new_products: int
    grants_dropped: list[tuple[str, str]]  # (user id, store code) no longer in the data
    check_s: float
    load_s: float


def import_directory(
    admin_url: str, directory: Path, *, replace: bool,
    progress: Callable[[str, int, int], object] | None = None,
) -> ImportReport:
    started = time.perf_counter()
    with psycopg.connect(admin_url) as conn:
        files, problems = read_file_set(directory, _existing(conn, replace=replace))
        _report_codes_already_loaded(conn, files, problems)
        if problems.count:
            raise ImportRefused(problems)
        checked = time.perf_counter()
        log.info("checked %s in %.1f s", ", ".join(f"{n} ({c:,} rows)"
                                                  for n, c in files.counts.items()),
                 checked - started)
        with conn.transaction():
            # as the admin connection itself, like the demo load: COPY refuses tables under
            # row-level security, which the owner role is subject to (FORCE)
            conn.execute("SET LOCAL timezone = 'UTC'")  # a time without a zone is UTC
            grants = _take_grants(conn) if replace else []
            if replace:
                conn.execute("TRUNCATE " + ", ".join(TRUNCATED_TABLES))
                conn.execute("TRUNCATE " + ", ".join(TRUNCATED_ROLLUPS))
                for table in DELETED_TABLES:
                    conn.execute(f"DELETE FROM {table}")
                conn.execute("DELETE FROM zava_meta.demo_dataset")
            rows = load_dataset(conn, files, progress)
            dropped = _restore_grants(conn, grants) if replace else []
            conn.execute(
                "INSERT INTO zava_meta.data_loads (kind, source, replaced, row_counts)"
                " VALUES ('import', %s, %s, %s::jsonb)",
                (str(directory.resolve()), replace, json.dumps(files.counts)),
            )
            conn.execute("SELECT pg_notify(%s, 'import')", (ACCESS_CHANGED_CHANNEL,))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return ImportReport(rows, files.new_products, dropped, checked - started,
                        time.perf_counter() - checked)


def _existing(conn: psycopg.Connection, *, replace: bool) -> Existing:
    stores: dict[str, str] = dict(
        conn.execute("SELECT code, store_id::text FROM retail.stores").fetchall())
    products: dict[str, str] = dict(
        conn.execute("SELECT sku, product_id::text FROM retail.products").fetchall())
    if replace:  # all of it goes: nothing to refer to or collide with, only ids to keep
        return Existing(kept_store_ids=stores, kept_product_ids=products)
    categories: dict[str, str] = dict(
        conn.execute("SELECT name, category_id::text FROM retail.categories"))
    names = {v: k for k, v in categories.items()}
    types = {(names[c], n): t for t, c, n in conn.execute(
        "SELECT type_id::text, category_id::text, name FROM retail.product_types")}
    return Existing(
        store_ids=stores, product_ids=products,
        region_ids=dict(conn.execute("SELECT name, region_id::text FROM retail.regions")),
        category_ids=categories, type_ids=types,
        store_names=frozenset(r[0] for r in conn.execute("SELECT name FROM retail.stores")),
        kept_store_ids=stores, kept_product_ids=products,
    )


# The files whose rows have keys the database may already hold: customers and orders by the
# id derived from their code (a code imported before), stock by store and product.
_KEYED_ROWS = (
    ("customers.csv", "retail.customers", "customer_id", "code", "customer"),
    ("orders.csv", "retail.orders", "order_id", "code", "order"),
    ("inventory.csv", "retail.inventory", "product_id", "sku", "stock of"),
)
_KEY_BATCH = 10_000


def _report_codes_already_loaded(conn: psycopg.Connection, files: FileSet,
                                 problems: Problems) -> None:
    """Each row whose key the database already holds, as a problem of its file and line like
    every other: the load would otherwise fail on the table's key, with the database's
    words."""
    for name, table, key, column, what in _KEYED_ROWS:
        rows = files.keys_in_loaded_stores(name)
        while batch := list(itertools.islice(rows, _KEY_BATCH)):
            held = {(r[0], r[1]) for r in conn.execute(
                "SELECT f.store_id::text, f.id::text"
                " FROM unnest(%s::uuid[], %s::uuid[]) AS f(store_id, id)"
                f" JOIN {table} AS t ON t.store_id = f.store_id AND t.{key} = f.id",
                ([r[2] for r in batch], [r[3] for r in batch]))}
            for line, named, store_id, row_id in batch:
                if (store_id, row_id) in held:
                    problems.add(name, line, column, f"{what} {named} is already in the"
                                 f" database; accepted: {_ACCEPTED[column]}, or --replace to"
                                 " replace the data")


_ACCEPTED = {"code": "a new code", "sku": "a store and product without stock yet"}


def _take_grants(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT a.user_id, s.code FROM access.user_store_access AS a"
        " JOIN retail.stores AS s USING (store_id)")]


def _restore_grants(conn: psycopg.Connection, grants: list[tuple[str, str]]
                    ) -> list[tuple[str, str]]:
    """Grant each user the stores with the codes they had; returns the grants whose store is
    gone (the caller reports them)."""
    codes: dict[str, object] = dict(
        conn.execute("SELECT code, store_id FROM retail.stores").fetchall())
    kept = [(user, codes[code]) for user, code in grants if code in codes]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO access.user_store_access (user_id, store_id)"
                        " VALUES (%s, %s)", kept)
    return [(user, code) for user, code in grants if code not in codes]
