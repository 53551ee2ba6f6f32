"""Table descriptions from the live catalog, with valid values read under the caller's RLS."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import AsyncConn
from domain.model import ColumnSchema, ForeignKey, TableSchema, UserId
from ports.schema_catalog import SchemaCatalog

_COLUMNS_SQL = """
SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''), c.relrowsecurity,
       a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       coalesce(col_description(c.oid, a.attnum), '')
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'retail'
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relname = ANY (%s)
ORDER BY c.relname, a.attnum
"""

_KEYS_SQL = """
SELECT 'retail.' || (SELECT relname FROM pg_class WHERE oid = c.conrelid), c.contype,
       (SELECT n.nspname || '.' || r.relname FROM pg_class AS r
        JOIN pg_namespace AS n ON n.oid = r.relnamespace WHERE r.oid = c.confrelid),
       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute AS a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint AS c
WHERE c.connamespace = 'retail'::regnamespace AND c.contype IN ('p', 'f')
ORDER BY c.conname
"""

# Categorical columns and how to list their values; the tenant-dependent ones go through RLS
# or the access function, so a store manager sees only their own store's name.
_VALID_VALUES_SQL: dict[tuple[str, str], str] = {
    ("stores", "name"): "SELECT name FROM retail.stores"
    " WHERE store_id = ANY ((SELECT access.visible_store_ids())::uuid[]) ORDER BY name",
    ("regions", "name"): "SELECT DISTINCT r.name FROM retail.regions r JOIN retail.stores s"
    " USING (region_id) WHERE s.store_id = ANY ((SELECT access.visible_store_ids())::uuid[])"
    " ORDER BY 1",
    ("categories", "name"): "SELECT name FROM retail.categories ORDER BY name",
    ("product_types", "name"): "SELECT name FROM retail.product_types ORDER BY name",
}
_STATIC_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("orders", "status"): ("cancelled", "completed", "returned"),
}

EXPOSED_TABLES = frozenset({
    "regions", "stores", "categories", "product_types", "products",
    "product_description_embeddings", "customers", "orders", "order_items", "inventory",
})


class PsycopgSchemaCatalog(SchemaCatalog):
    def __init__(self, gateway: DatabaseGateway, exposed: frozenset[str] = EXPOSED_TABLES
                 ) -> None:
        self._gateway = gateway
        self._exposed = exposed

    def exposed_tables(self) -> frozenset[str]:
        return self._exposed

    async def describe(self, user_id: UserId, tables: Sequence[str]) -> list[TableSchema]:
        async def read(conn: AsyncConn) -> list[TableSchema]:
            columns = await (await conn.execute(_COLUMNS_SQL, (list(tables),))).fetchall()
            keys = await (await conn.execute(_KEYS_SQL)).fetchall()
            values: dict[tuple[str, str], tuple[str, ...]] = dict(_STATIC_VALUES)
            for (table, column), query in _VALID_VALUES_SQL.items():
                if table in tables:
                    rows = await (await conn.execute(query)).fetchall()
                    values[(table, column)] = tuple(str(r[0]) for r in rows)
            return [_table_schema(t, columns, keys, values) for t in tables]

        return await self._gateway.read("schema.describe", user_id, read)


def _table_schema(
    table: str,
    columns: list[tuple],  # type: ignore[type-arg]
    keys: list[tuple],  # type: ignore[type-arg]
    values: dict[tuple[str, str], tuple[str, ...]],
) -> TableSchema:
    own = [c for c in columns if c[0] == table]
    qualified = f"retail.{table}"
    primary = next((tuple(k[3]) for k in keys if k[0] == qualified and k[1] == "p"), ())
    return TableSchema(
        name=qualified,
        description=own[0][1] if own else "",
        row_level_security=bool(own and own[0][2]),
        columns=tuple(ColumnSchema(c[3], c[4], bool(c[5]), c[6]) for c in own),
        primary_key=primary,
        foreign_keys=tuple(
            ForeignKey(tuple(k[3]), k[2], tuple(k[4]))
            for k in keys if k[0] == qualified and k[1] == "f"
        ),
        valid_values={col: vals for (t, col), vals in values.items() if t == table},
    )
