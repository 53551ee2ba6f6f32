-- Who may see what, the row-level security that enforces it, and the audit trail.
SET LOCAL ROLE zava_owner;

-- ---------------------------------------------------------------- access directory
-- Not readable by zava_query: the server reads a user's profile only through
-- access.current_user_profile(), which answers for the user of the current request and no other.
CREATE TABLE access.app_users (
    user_id      uuid PRIMARY KEY,
    display_name text NOT NULL,
    email        text NOT NULL UNIQUE,
    role         text NOT NULL CHECK (role IN ('store_manager', 'regional_manager', 'head_office')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE access.user_store_access (
    user_id  uuid NOT NULL REFERENCES access.app_users (user_id) ON DELETE CASCADE,
    store_id uuid NOT NULL REFERENCES retail.stores (store_id),
    PRIMARY KEY (user_id, store_id)
);

-- ---------------------------------------------------------------- the request context
-- The server tells the database who is asking with the transaction-local setting
--   zava.context = v1|<purpose>|<subject>|<backend pid>|<issued, unix ms>|<nonce>|<signature>
-- signed with HMAC-SHA256 under a key only zava_owner can read (and the server, which reads it
-- through the admin connection at start-up). SQL running as zava_query can call set_config, but
-- it cannot produce a signature for another user, and a value it might somehow have seen is
-- useless on another backend or five minutes later. purpose is 'query' (subject = user id) or
-- 'audit' (the server's audit writer).
CREATE TABLE access.context_key (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    key       bytea NOT NULL CHECK (length(key) = 64),
    inner_pad bytea NOT NULL,   -- key XOR 0x36…, precomputed for HMAC
    outer_pad bytea NOT NULL    -- key XOR 0x5c…
);

DO $$
DECLARE
    k bytea := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text
                              || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
                      'hex');
    ipad bytea := k;
    opad bytea := k;
BEGIN
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);   -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);   -- 0x5c
    END LOOP;
    INSERT INTO access.context_key (key, inner_pad, outer_pad) VALUES (k, ipad, opad);
END
$$;

-- HMAC-SHA256 (RFC 2104) with the built-in sha256(): pgcrypto is not available everywhere.
CREATE FUNCTION access.context_signature(message text) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(message, 'UTF8'))), 'hex')
    FROM access.context_key AS k
$$;

CREATE FUNCTION access.verified_context(OUT purpose text, OUT subject text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    raw   text := current_setting('zava.context', true);
    parts text[];
BEGIN
    IF raw IS NULL OR raw !~ ('^v1\|(query|audit)\|[0-9a-f-]{1,36}\|[0-9]{1,10}\|[0-9]{13}'
                             '\|[0-9a-f]{32}\|[0-9a-f]{64}$') THEN
        RETURN;
    END IF;
    parts := string_to_array(raw, '|');
    IF parts[4]::bigint <> pg_backend_pid()
       OR abs(extract(epoch FROM now()) * 1000 - parts[5]::bigint) > 300000
       OR access.context_signature(array_to_string(parts[1:6], '|')) <> parts[7] THEN
        RETURN;
    END IF;
    purpose := parts[2];
    subject := parts[3];
END
$$;

-- The user of the current request; NULL (nobody) for a missing, malformed or forged context.
CREATE FUNCTION access.context_user_id() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN c.purpose = 'query'
                 AND c.subject ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                THEN c.subject::uuid END
    FROM access.verified_context() AS c
$$;

-- The one access function every policy calls: the store ids the current request may see.
-- Unknown, missing or malformed context → the empty array, never "all stores".
-- PARALLEL RESTRICTED: it runs in the leader (as the policy's InitPlan, once per query) and the
-- rest of the plan may still go parallel; the default (UNSAFE) would make every RLS query serial.
CREATE FUNCTION access.visible_store_ids() RETURNS uuid[]
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(a.store_id ORDER BY a.store_id), '{}'::uuid[])
    FROM access.user_store_access AS a
    WHERE a.user_id = (SELECT access.context_user_id())   -- verify the context once, not per row
$$;

CREATE FUNCTION access.current_user_profile()
    RETURNS TABLE (user_id uuid, display_name text, email text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.user_id, u.display_name, u.email, u.role
    FROM access.app_users AS u
    WHERE u.user_id = (SELECT access.context_user_id())
$$;

REVOKE ALL ON access.context_key FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA access FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access.visible_store_ids() TO zava_query;
GRANT EXECUTE ON FUNCTION access.current_user_profile() TO zava_query;

-- ---------------------------------------------------------------- row-level security
-- ENABLE + FORCE on every tenant table. zava_query sees rows of its visible stores only;
-- (SELECT fn()) makes the planner evaluate the access function once per query (an InitPlan),
-- not once per row. zava_owner keeps a maintenance policy for data loads.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'orders', 'order_items', 'inventory'] LOOP
        EXECUTE format('ALTER TABLE retail.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE retail.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON retail.%I FOR SELECT TO zava_query '
            'USING (store_id = ANY ((SELECT access.visible_store_ids())::uuid[]))',
            t || '_visible_stores', t);
        EXECUTE format(
            'CREATE POLICY %I ON retail.%I FOR ALL TO zava_owner USING (true) WITH CHECK (true)',
            t || '_owner_maintenance', t);
    END LOOP;
END
$$;

GRANT SELECT ON ALL TABLES IN SCHEMA retail TO zava_query;

-- ---------------------------------------------------------------- audit
-- Append-only record of every tool call. zava_query has no privilege on it at all.
CREATE TABLE audit.tool_calls (
    call_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    called_at       timestamptz NOT NULL DEFAULT now(),
    user_id         uuid,
    tool            text NOT NULL,
    argument_digest text NOT NULL,        -- sha256 of the canonical JSON arguments
    sql_fingerprint text,                 -- normalised SQL with literals removed
    row_count       integer,
    duration_ms     double precision NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('ok', 'rejected', 'error')),
    error_code      text
);
CREATE INDEX tool_calls_called_at_idx ON audit.tool_calls (called_at);

CREATE FUNCTION audit.refuse_change() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'audit.tool_calls is append-only';
END
$$;
-- The only write path: the server's audit writer, holding an 'audit' context signed with the key.
-- zava_query may call it, but without that context it raises; and a model's query runs in a
-- READ ONLY transaction where it could not write anyway.
CREATE FUNCTION audit.append_tool_calls(records jsonb) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    appended integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM access.verified_context() AS c WHERE c.purpose = 'audit') THEN
        RAISE EXCEPTION 'audit records need the server''s signed audit context'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    INSERT INTO audit.tool_calls (called_at, user_id, tool, argument_digest, sql_fingerprint,
                                  row_count, duration_ms, outcome, error_code)
    SELECT r.called_at, r.user_id, r.tool, r.argument_digest, r.sql_fingerprint,
           r.row_count, r.duration_ms, r.outcome, r.error_code
    FROM jsonb_to_recordset(records) AS r(called_at timestamptz, user_id uuid, tool text,
         argument_digest text, sql_fingerprint text, row_count integer,
         duration_ms double precision, outcome text, error_code text);
    GET DIAGNOSTICS appended = ROW_COUNT;
    RETURN appended;
END
$$;
REVOKE ALL ON FUNCTION audit.append_tool_calls(jsonb) FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO zava_query;
GRANT EXECUTE ON FUNCTION audit.append_tool_calls(jsonb) TO zava_query;

CREATE TRIGGER tool_calls_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.tool_calls
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
