"""The Citus co-location rule, checked against the live catalog so a new table cannot break it.

- every retail table is listed in zava_meta.table_distribution as reference or distributed;
- a distributed (tenant) table has store_id in its primary key and every unique constraint,
  has FORCEd RLS, and each foreign key to another distributed table includes store_id on both
  sides (matched to each other);
- a reference table has no foreign key to a distributed table.
"""

from __future__ import annotations

import psycopg
import pytest

from ports.database_server import DatabaseEndpoints

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(database: DatabaseEndpoints) -> dict[str, object]:
    with psycopg.connect(database.admin_url) as conn:
        tables = {
            r[0] for r in conn.execute(
                "SELECT 'retail.' || relname FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE n.nspname = 'retail' AND c.relkind IN ('r', 'p')"
                " AND NOT c.relispartition"
            )
        }
        kinds = dict(conn.execute("SELECT table_name, kind FROM zava_meta.table_distribution"))
        unique_keys = conn.execute(
            """
            SELECT conrelid::regclass::text, conname,
                   array(SELECT attname FROM pg_attribute
                         WHERE attrelid = conrelid AND attnum = ANY (conkey))
            FROM pg_constraint
            WHERE contype IN ('p', 'u') AND connamespace = 'retail'::regnamespace
              AND conparentid = 0
            """
        ).fetchall()
        foreign_keys = conn.execute(
            """
            SELECT conrelid::regclass::text, confrelid::regclass::text, conname,
                   array(SELECT a.attname FROM unnest(conkey) WITH ORDINALITY AS k(n, i)
                         JOIN pg_attribute a ON a.attrelid = conrelid AND a.attnum = k.n
                         ORDER BY k.i),
                   array(SELECT a.attname FROM unnest(confkey) WITH ORDINALITY AS k(n, i)
                         JOIN pg_attribute a ON a.attrelid = confrelid AND a.attnum = k.n
                         ORDER BY k.i)
            FROM pg_constraint
            WHERE contype = 'f' AND connamespace = 'retail'::regnamespace
              AND conparentid = 0
            """
        ).fetchall()
        forced = {
            r[0] for r in conn.execute(
                "SELECT 'retail.' || relname FROM pg_class WHERE relnamespace = "
                "'retail'::regnamespace AND relrowsecurity AND relforcerowsecurity"
                " AND NOT relispartition"
            )
        }
    return {"tables": tables, "kinds": kinds, "unique_keys": unique_keys,
            "foreign_keys": foreign_keys, "forced": forced}


def test_every_table_is_classified(catalog: dict) -> None:
    assert catalog["tables"] == set(catalog["kinds"]), (
        "add new retail tables to zava_meta.table_distribution (reference or distributed)"
    )


def test_tenant_keys_include_store_id(catalog: dict) -> None:
    distributed = {t for t, k in catalog["kinds"].items() if k == "distributed"}
    assert distributed, "no tenant tables?"
    for table, name, columns in catalog["unique_keys"]:
        if table in distributed:
            assert "store_id" in columns, f"{table}.{name} {columns} lacks store_id"


def test_tenant_tables_force_rls(catalog: dict) -> None:
    distributed = {t for t, k in catalog["kinds"].items() if k == "distributed"}
    assert distributed <= catalog["forced"]


def test_foreign_keys_respect_colocation(catalog: dict) -> None:
    kinds = catalog["kinds"]
    for source, target, name, columns, referenced in catalog["foreign_keys"]:
        if kinds[source] == "reference":
            assert kinds[target] == "reference", f"{name}: reference table → tenant table"
        elif kinds[target] == "distributed":
            pairs = dict(zip(columns, referenced, strict=True))
            assert pairs.get("store_id") == "store_id", f"{name} {columns} lacks store_id"
