"""Creating, inspecting and resetting the Zava database (behind `zava-mcp db ...`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from adapters.demodata.generator import generate_dataset
from adapters.demodata.loader import load_dataset
from adapters.postgres import citus, sales_rollups
from adapters.postgres.migrations import (
    SQL_DIR,
    apply_migrations,
    latest_version,
    schema_version,
)
from ports.database_server import DatabaseEndpoints

log = logging.getLogger(__name__)

OWNED_SCHEMAS = ("retail", "access", "audit", "zava_meta")
COUNTED_TABLES = (
    "retail.stores", "retail.products", "retail.product_description_embeddings",
    "retail.customers", "retail.orders", "retail.order_items", "retail.inventory",
    "access.app_users", "audit.tool_calls",
)


@dataclass(frozen=True)
class DemoDataRequest:
    seed: int = 42
    scale: str = "small"
    products: int | None = None
    anchor: date | None = None  # None = today (UTC)


@dataclass
class InitReport:
    migrations_applied: list[str]
    loaded: dict[str, int] = field(default_factory=dict)
    already_initialised: bool = False
    distributed: list[str] = field(default_factory=list)  # what the Citus step changed
    warnings: list[str] = field(default_factory=list)  # what the operator must fix (Citus)


@dataclass
class DatabaseStatus:
    kind: str
    schema_version: int | None
    latest_version: int
    row_counts: dict[str, int]
    dataset: dict[str, Any] | None
    # on a Citus coordinator: its version and each Zava table's place in the cluster
    citus_version: str | None = None
    distribution: list[citus.TableDistribution] = field(default_factory=list)
    loads: list[dict[str, Any]] = field(default_factory=list)  # db init --no-demo, db import

    @property
    def initialised(self) -> bool:
        return self.schema_version is not None and (self.dataset is not None or bool(self.loads))


def initialise(
    endpoints: DatabaseEndpoints,
    request: DemoDataRequest | None,
    *,
    reset: bool = False,
    progress: Callable[..., Any] | None = None,
    sql_dir: Path = SQL_DIR,
) -> InitReport:
    """Migrate and load the demo data (`request` None: no demo rows, for your own data). All or
    nothing: if a first initialisation fails, the schemas it created are dropped again, so a
    retry starts from a clean database. `sql_dir`: the migrations (the tests add one)."""
    admin = endpoints.admin_url
    if reset:
        reset_schemas(admin)
    with psycopg.connect(admin) as conn:
        fresh = schema_version(conn) is None
        on_citus = citus.citus_version(conn) is not None
        if on_citus:
            citus.prepare_roles(conn)
            conn.commit()
    try:
        applied = apply_migrations(admin, sql_dir)
        with psycopg.connect(admin) as conn:
            if _dataset_info(conn) is not None or _loads(conn):
                distributed, warnings = _distribute(endpoints, on_citus)
                return InitReport(applied, already_initialised=True, distributed=distributed,
                                  warnings=warnings)
            if request is None:  # the schema only: the operator imports their own data
                conn.execute("INSERT INTO zava_meta.data_loads (kind) VALUES ('empty')")
                conn.commit()
                distributed, warnings = _distribute(endpoints, on_citus)
                return InitReport(applied, distributed=distributed, warnings=warnings)
            dataset = generate_dataset(
                seed=request.seed, anchor=request.anchor or _utc_today(),
                scale=request.scale, products=request.products,
            )
            with conn.transaction():
                counts = load_dataset(conn, dataset, progress)
                conn.execute(
                    "INSERT INTO zava_meta.demo_dataset"
                    " (seed, anchor_date, scale, products, checksum) VALUES (%s, %s, %s, %s, %s)",
                    (request.seed, dataset.anchor, request.scale, counts.get("retail.products", 0),
                     dataset.checksum()),
                )
        distributed, warnings = _distribute(endpoints, on_citus)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("ANALYZE")
        return InitReport(applied, loaded=counts, distributed=distributed, warnings=warnings)
    except BaseException:
        if fresh:
            log.warning("initialisation failed; removing what it created")
            reset_schemas(admin)
        raise


def _distribute(endpoints: DatabaseEndpoints, on_citus: bool) -> tuple[list[str], list[str]]:
    """The Citus step of `db init` (nothing on a single PostgreSQL): what it changed, and
    what the operator must still fix on the workers."""
    if not on_citus:
        return [], []
    return (citus.distribute(endpoints.admin_url),
            citus.worker_login_warnings(endpoints.admin_url, endpoints.query_url))


def reset_schemas(admin_url: str) -> None:
    """Drop everything the migrations created except the cluster-wide roles."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(s) for s in OWNED_SCHEMAS)
            )
        )


def status(endpoints: DatabaseEndpoints) -> DatabaseStatus:
    with psycopg.connect(endpoints.admin_url) as conn:
        version = schema_version(conn)
        counts: dict[str, int] = {}
        dataset = None
        if version is not None:
            for table in COUNTED_TABLES:
                query = sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(*table.split("."))
                )
                row = conn.execute(query).fetchone()
                counts[table] = 0 if row is None else int(row[0])
            dataset = _dataset_info(conn)
        on_citus = citus.citus_version(conn)
        placement = citus.distribution(conn) if on_citus and version is not None else []
        loads = _loads(conn) if version is not None else []
    return DatabaseStatus(endpoints.kind, version, latest_version(), counts, dataset,
                          on_citus, placement, loads)


def refresh_rollups(admin_url: str, *, full: bool = False) -> sales_rollups.RollupRefresh:
    """Bring the daily sales rollups up to date with the orders: only the store-days whose
    orders changed since the last refresh, or everything (`full`). A single PostgreSQL keeps
    them exact with triggers and needs this only for repairs (`full`); on Citus, where those
    triggers cannot run on distributed tables, it is the refresh to run after loads or on a
    schedule (adapters/postgres/sales_rollups.py)."""
    return sales_rollups.refresh(admin_url, full=full)


def list_users(admin_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            """
            SELECT u.user_id::text, u.display_name, u.email, u.role,
                   coalesce(array_agg(s.name ORDER BY s.name)
                            FILTER (WHERE s.name IS NOT NULL), '{}')
            FROM access.app_users AS u
            LEFT JOIN access.user_store_access AS a USING (user_id)
            LEFT JOIN retail.stores AS s USING (store_id)
            GROUP BY u.user_id
            ORDER BY CASE u.role WHEN 'store_manager' THEN 0
                                 WHEN 'regional_manager' THEN 1 ELSE 2 END, u.display_name
            """
        ).fetchall()
    return [
        {"user_id": r[0], "display_name": r[1], "email": r[2], "role": r[3], "stores": list(r[4])}
        for r in rows
    ]


def _dataset_info(conn: psycopg.Connection) -> dict[str, Any] | None:
    exists = conn.execute("SELECT to_regclass('zava_meta.demo_dataset')").fetchone()
    if exists is None or exists[0] is None:
        return None
    row = conn.execute(
        "SELECT seed, anchor_date, scale, products, checksum, loaded_at FROM zava_meta.demo_dataset"
    ).fetchone()
    if row is None:
        return None
    keys = ("seed", "anchor_date", "scale", "products", "checksum", "loaded_at")
    return dict(zip(keys, row, strict=True))


def _loads(conn: psycopg.Connection) -> list[dict[str, Any]]:
    exists = conn.execute("SELECT to_regclass('zava_meta.data_loads')").fetchone()
    if exists is None or exists[0] is None:
        return []
    rows = conn.execute("SELECT kind, source, replaced, row_counts, loaded_at"
                        " FROM zava_meta.data_loads ORDER BY load_id").fetchall()
    keys = ("kind", "source", "replaced", "row_counts", "loaded_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _utc_today() -> date:
    from datetime import UTC, datetime

    return datetime.now(UTC).date()
