-- The signed request context on a Citus cluster (issue 16).
--
-- On Citus the row-level security policies run on the workers' shards, in worker backends that
-- Citus opens for the coordinator backend serving the request. The server sets the context on
-- the coordinator with set_config() (a bind parameter, never statement text), which Citus does
-- not propagate; a SET LOCAL is propagated to the workers with the transaction
-- (citus.propagate_set_commands = 'local'). The server calls this function right after its
-- set_config() on a cluster (never on a single node): it re-issues the same value as SET LOCAL
-- from inside the function, so the value stays out of the coordinator's statement text too; on
-- the workers it arrives as text, which is why `zava-mcp db init` turns track_activities off
-- for the query role there (adapters/postgres/citus.py).
--
-- Calling it grants nothing: it copies the transaction's own context, valid or not, and each
-- node verifies it (signature, freshness, and the Citus global pid, which is the same on the
-- coordinator backend and on every worker backend serving it).
SET LOCAL ROLE zava_owner;

CREATE FUNCTION access.propagate_context() RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('SET LOCAL zava.context = %L', coalesce(current_setting('zava.context', true), ''));
END
$$;

REVOKE ALL ON FUNCTION access.propagate_context() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access.propagate_context() TO zava_query;
