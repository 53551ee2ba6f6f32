"""Snapshots of everything an attack could change, taken as the owner, to prove it did not."""

from __future__ import annotations

import psycopg

CHECKED_TABLES = (
    "retail.regions", "retail.stores", "retail.categories", "retail.product_types",
    "retail.products", "retail.product_description_embeddings", "retail.customers",
    "retail.orders", "retail.order_items", "retail.inventory", "access.app_users",
    "access.user_store_access", "access.context_key", "audit.tool_calls",
    "zava_meta.schema_migrations",
)

_CATALOG_QUERIES = {
    "relations": "SELECT string_agg(format('%s.%s:%s:%s%s:%s', n.nspname, c.relname, c.relkind,"
    " c.relrowsecurity, c.relforcerowsecurity, c.relowner::regrole), ',' ORDER BY 1)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
    "functions": "SELECT string_agg(format('%s:%s:%s', p.oid::regprocedure, p.prosecdef,"
    " md5(p.prosrc)), ',' ORDER BY 1) FROM pg_proc p JOIN pg_namespace n"
    " ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')",
    "policies": "SELECT string_agg(format('%s.%s:%s:%s', schemaname, tablename, policyname, qual),"
    " ',' ORDER BY 1) FROM pg_policies",
    "roles": "SELECT string_agg(format('%s:%s%s%s%s%s', rolname, rolsuper, rolbypassrls,"
    " rolcanlogin, rolcreaterole, rolcreatedb), ',' ORDER BY 1) FROM pg_roles",
    "grants": "SELECT string_agg(format('%s:%s.%s:%s', grantee, table_schema, table_name,"
    " privilege_type), ',' ORDER BY 1) FROM information_schema.role_table_grants"
    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    "role_settings": "SELECT string_agg(format('%s:%s', setrole, setconfig), ',' ORDER BY 1)"
    " FROM pg_db_role_setting",
    "auto_conf": "SELECT string_agg(format('%s=%s', name, setting), ',' ORDER BY 1)"
    " FROM pg_file_settings WHERE sourcefile LIKE '%%postgresql.auto.conf'",
}


def database_state(admin_url: str) -> dict[str, str]:
    state: dict[str, str] = {}
    with psycopg.connect(admin_url) as conn:
        for table in CHECKED_TABLES:
            exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
            if exists is None or exists[0] is None:  # e.g. the audit trail on a Citus worker
                state[table] = "absent"
                continue
            row = conn.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY"
                f" t::text)), '') FROM {table} AS t"
            ).fetchone()
            state[table] = row[0]
        for name, query in _CATALOG_QUERIES.items():
            state[name] = conn.execute(query).fetchone()[0] or ""
    return state
