"""The signed request context across a Citus cluster's nodes (issue 16), installed by
`zava-mcp db init` on a coordinator.

On a single node the context is bound to the backend pid (sql/003, sql/020). On Citus the row
policies run in worker backends that Citus opens for the coordinator backend serving the
request, so the context must travel there (as SET LOCAL statement text, sql/030), and what the
workers can check it against is what Citus tells them about that coordinator backend: its
global pid (from the connection's application_name) and its distributed transaction id (Citus
sends `assign_distributed_transaction_id(...)` at the start of each worker transaction).

A session on the coordinator can claim any global pid (`SET application_name = 'citus_internal
gpid=…'`, at login or at any moment later), and the coordinator checks the context only while
planning: a claim made after planning (a cursor fetched after it), or a context SET LOCAL for
the workers but cleared on the coordinator, reaches the workers under the claimed global pid.
A global pid alone therefore cannot keep a context that travels to the workers from being
replayed. So:

- the server's context (v2, bound to the global pid) is honoured only on the node that issued
  that global pid, and only by the backend it was issued to (`access.own_global_pid()` raises
  for a claimed one); it never leaves the coordinator;
- `access.propagate_context()` verifies it there, opens the request's distributed transaction
  itself (a number and a random stamp) and sends the workers a different value (v3): the same
  claims plus the number, signed with the same key over the stamp too, which the value does not
  carry. A worker honours v3 only inside that distributed transaction: Citus starts every worker
  transaction by assigning it, number and stamp;
- `assign_distributed_transaction_id()` must stay PUBLIC (Citus calls it as the query role on
  the workers, and on the coordinator over connections to itself, e.g. to ship a subquery's
  result there), so a session could join the request's transaction if it knew the stamp: the
  functions that show other backends' stamps are revoked from PUBLIC on the coordinator, and a
  guess has 2^47 possible stamps, one transaction per try, within the value's 5 minutes.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from adapters.postgres.citus_worker_login import QUERY_ROLE

OWNER_ROLE = "zava_owner"
_VERIFIED_CONTEXT = "access.verified_context()"
_PROPAGATE_CONTEXT = "access.propagate_context()"
_OWN_GLOBAL_PID = "access.own_global_pid(bigint)"

# The global pid a context check compares with, refusing one this session claimed: on the node
# a global pid was issued on, only the backend it was issued to may use it; the backends that
# Citus opens on the workers for a request carry the coordinator's (another node's) global
# pid, and only the coordinator can open those (citus_worker_login.py). It raises rather than
# fails the check: the coordinator folds the policy's store list while planning and then lets
# the workers decide, so only an error stops the statement there.
_OWN_GLOBAL_PID_FUNCTION = """
CREATE OR REPLACE FUNCTION access.own_global_pid(gpid bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF citus_pid_for_gpid(gpid) <> pg_backend_pid() AND citus_nodeid_for_gpid(gpid) = (
            SELECT n.nodeid FROM pg_dist_node AS n JOIN pg_dist_local_group AS l USING (groupid)
            WHERE n.noderole = 'primary' ORDER BY n.nodeid LIMIT 1) THEN
        RAISE EXCEPTION 'this session claims the global pid of another backend: it gets no'
              ' request context' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN gpid;
END
$$
"""

# sql/031's check, on Citus: v2 (the server's) only for a global pid issued on this node, v3
# (propagate_context's) only inside the distributed transaction it names. Keep the two in step
# with the single node's definition (the same claims, key and freshness; counts checked as
# lengths, not in the pattern, which cost ~50 µs per check).
_VERIFIED_CONTEXT_FUNCTION = r"""
CREATE OR REPLACE FUNCTION access.verified_context(OUT purpose text, OUT subject text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    raw       text := current_setting('zava.context', true);
    parts     text[];
    signed    integer;
    signature text;
    backend   bigint;
    number    bigint;
    stamp     text;
BEGIN
    -- a subject of up to 255 characters is at most 1020 bytes of UTF-8, 2040 hex digits
    IF raw IS NULL OR length(raw) > 2300 THEN
        RETURN;
    ELSIF raw ~ '^v3\|(query|audit)\|[0-9a-f]+\|[0-9]+\|[0-9]+\|[0-9a-f]+\|[0-9]+\|[0-9a-f]+$' THEN
        parts := string_to_array(raw, '|');
        signature := parts[8];
        IF length(parts[3]) % 2 <> 0 OR length(parts[4]) > 20 OR length(parts[5]) <> 13
           OR length(parts[6]) <> 32 OR length(parts[7]) > 19 OR length(signature) <> 64 THEN
            RETURN;
        END IF;
        SELECT nullif(t.transaction_number, 0),
               (extract(epoch FROM t.transaction_stamp) * 1000000)::bigint::text
        INTO number, stamp FROM get_current_transaction_id() AS t;
        IF parts[7]::bigint IS DISTINCT FROM number THEN
            RETURN;
        END IF;
        parts[8] := stamp;  -- the transaction's stamp is signed but does not travel in the value
        signed := 8;
        -- the transaction binds it; the coordinator's own connections to itself carry the
        -- request's global pid (another backend's) and must pass
        backend := citus_backend_gpid();
    ELSIF raw ~ '^v2\|(query|audit)\|[0-9a-f]+\|[0-9]+\|[0-9]+\|[0-9a-f]+\|[0-9a-f]+$' THEN
        parts := string_to_array(raw, '|');
        signature := parts[7];
        IF length(parts[3]) % 2 <> 0 OR length(parts[4]) > 20 OR length(parts[5]) <> 13
           OR length(parts[6]) <> 32 OR length(signature) <> 64 THEN
            RETURN;
        END IF;
        signed := 6;
        backend := access.own_global_pid(citus_backend_gpid());  -- a claimed one raises
        IF citus_nodeid_for_gpid(parts[4]::bigint) IS DISTINCT FROM (
                SELECT n.nodeid FROM pg_dist_node AS n JOIN pg_dist_local_group AS l USING (groupid)
                WHERE n.noderole = 'primary' ORDER BY n.nodeid LIMIT 1) THEN
            RETURN;
        END IF;
    ELSE
        RETURN;
    END IF;
    IF parts[4]::bigint <> backend
       OR abs(extract(epoch FROM now()) * 1000 - parts[5]::bigint) > 300000
       OR access.context_signature(array_to_string(parts[1:signed], '|')) <> signature THEN
        RETURN;
    END IF;
    purpose := parts[2];
    -- only a value the key's holder signed gets here, and it signs valid UTF-8
    subject := convert_from(decode(parts[3], 'hex'), 'UTF8');
END
$$
"""

# sql/030's propagation, on Citus: what travels to the workers is the transaction-bound v3, and
# only for a context this backend verified; anything else travels as ''. It opens the
# distributed transaction itself, before anything else in it could: Citus would stamp it with
# the time, which a replayer could guess to the millisecond from the value's issue time. This
# stamp is up to 4.5 years earlier at random (47 bits; Citus uses stamps only to pick a
# deadlock's youngest transaction, and never cancels these, see the README), and the value is
# signed over it without carrying it. The number is from a range Citus's own counter never
# reaches (bit 62 set), unique per backend and microsecond.
_PROPAGATE_CONTEXT_FUNCTION = """
CREATE OR REPLACE FUNCTION access.propagate_context() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    raw    text := current_setting('zava.context', true);
    number bigint;
    stamp  timestamptz;
    bound  text := '';
BEGIN
    IF raw LIKE 'v3|%' THEN
        IF (SELECT c.purpose FROM access.verified_context() AS c) IS NOT NULL THEN
            bound := raw;  -- propagated already in this transaction
        END IF;
    ELSE
        IF (SELECT t.transaction_number FROM get_current_transaction_id() AS t) <> 0 THEN
            RAISE EXCEPTION 'access.propagate_context() must come before the transaction''s'
                  ' first distributed statement' USING ERRCODE = 'active_sql_transaction';
        END IF;
        number := (1::bigint << 62)
            | (((extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                % (1::bigint << 39)) << 22)
            | (pg_backend_pid() % (1 << 22));
        stamp := date_trunc('milliseconds', clock_timestamp()) - make_interval(secs =>
            (('x' || left(replace(gen_random_uuid()::text, '-', ''), 12))::bit(48)::bigint
             % (1::bigint << 47)) / 1000000.0);
        PERFORM assign_distributed_transaction_id(
            (SELECT groupid FROM pg_dist_local_group), number, stamp);
        IF (SELECT c.purpose FROM access.verified_context() AS c) IS NOT NULL THEN
            bound := 'v3|' || array_to_string((string_to_array(raw, '|'))[2:6], '|')
                     || '|' || number;
            bound := bound || '|' || access.context_signature(
                bound || '|' || (extract(epoch FROM stamp) * 1000000)::bigint);
        END IF;
    END IF;
    EXECUTE format('SET LOCAL zava.context = %L', bound);
END
$$
"""

# Where a session of the query role on the coordinator could read another backend's distributed
# transaction stamp (each shows the role's own backends, or every node's): revoked from PUBLIC
# there. A superuser and members of pg_monitor see them through their own connection.
_TRANSACTION_VIEWS = (
    "pg_catalog.get_all_active_transactions()",
    "pg_catalog.get_global_active_transactions()",
    "pg_catalog.citus_internal_local_blocked_processes()",
    "pg_catalog.citus_internal_global_blocked_processes()",
    "pg_catalog.dump_local_wait_edges()",
    "pg_catalog.dump_global_wait_edges()",
)


def bind_context_to_transactions(conn: psycopg.Connection) -> list[str]:
    """Install the checks above on the coordinator (and, as distributed functions, on every
    worker) and keep other backends' transaction stamps out of the query role's sight; what
    it changed."""
    changed = _keep_transaction_stamps_private(conn)
    installed = {_OWN_GLOBAL_PID: _OWN_GLOBAL_PID_FUNCTION,
                 _VERIFIED_CONTEXT: _VERIFIED_CONTEXT_FUNCTION,
                 _PROPAGATE_CONTEXT: _PROPAGATE_CONTEXT_FUNCTION}
    if all(function_body(conn, function) == _body_of(definition)
           for function, definition in installed.items()):
        return changed
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(OWNER_ROLE)))
    conn.execute(_OWN_GLOBAL_PID_FUNCTION)
    conn.execute(f"REVOKE ALL ON FUNCTION {_OWN_GLOBAL_PID} FROM PUBLIC")
    conn.execute(_VERIFIED_CONTEXT_FUNCTION)
    conn.execute(_PROPAGATE_CONTEXT_FUNCTION)
    conn.execute(f"REVOKE ALL ON FUNCTION {_PROPAGATE_CONTEXT} FROM PUBLIC")
    conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
        sql.SQL(_PROPAGATE_CONTEXT), sql.Identifier(QUERY_ROLE)))
    conn.execute("RESET ROLE")
    return [*changed, "access.verified_context(): the workers honour only the context"
            " propagate_context() bound to the request's distributed transaction"]


def function_body(conn: psycopg.Connection, function: str) -> str | None:
    """The function's source as the catalog holds it (None if there is no such function)."""
    row = conn.execute("SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure(%s)",
                       (function,)).fetchone()
    return None if row is None else str(row[0])


def _body_of(definition: str) -> str:
    return definition.split("AS $$", 1)[1].rsplit("$$", 1)[0]


def _keep_transaction_stamps_private(conn: psycopg.Connection) -> list[str]:
    """On the coordinator only (a REVOKE on an extension's function would otherwise be
    propagated; the workers' are reached only through the coordinator)."""
    public = [name for name in _TRANSACTION_VIEWS if (conn.execute(
        "SELECT has_function_privilege('public', %s::regprocedure, 'EXECUTE')", (name,)
    ).fetchone() or (False,))[0]]
    if not public:
        return []
    conn.execute("SET LOCAL citus.enable_ddl_propagation = off")
    for name in public:
        conn.execute(f"REVOKE EXECUTE ON FUNCTION {name} FROM PUBLIC")
    conn.execute("RESET citus.enable_ddl_propagation")
    return [f"{name}: no longer PUBLIC on the coordinator" for name in public]
