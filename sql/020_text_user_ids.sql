-- User ids are the identity provider's subject: any non-empty text up to 255 characters
-- (Entra ID's `sub` and `oid`, Okta's `00u…`, Auth0's `auth0|…`), not only a UUID. The demo
-- users keep their UUIDs, now as text.
--
-- The signed request context (003) carried the subject as it was, matched by a UUID-shaped
-- pattern; a subject may now contain `|` (Auth0) or anything else, so it travels hex-encoded
-- (UTF-8), and the context's version tag becomes v2:
--   zava.context = v2|<purpose>|<subject, hex>|<backend pid>|<issued, unix ms>|<nonce>|<signature>
-- Nothing else about the context changes: signed, bound to the backend, fresh for five minutes.
SET LOCAL ROLE zava_owner;

ALTER TABLE access.user_store_access DROP CONSTRAINT user_store_access_user_id_fkey;
ALTER TABLE access.app_users ALTER COLUMN user_id TYPE text USING user_id::text;
ALTER TABLE access.user_store_access ALTER COLUMN user_id TYPE text USING user_id::text;
ALTER TABLE access.user_store_access
    ADD CONSTRAINT user_store_access_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES access.app_users (user_id) ON DELETE CASCADE;
-- 1-255 characters, no control characters, no surrounding blanks: what `users add` accepts.
ALTER TABLE access.app_users ADD CONSTRAINT app_users_user_id_form
    CHECK (user_id ~ '^[^[:cntrl:]]{1,255}$' AND user_id = btrim(user_id));
-- An operator registers people by id and name; the e-mail address is optional.
ALTER TABLE access.app_users ALTER COLUMN email DROP NOT NULL;

ALTER TABLE audit.tool_calls ALTER COLUMN user_id TYPE text USING user_id::text;

CREATE OR REPLACE FUNCTION access.verified_context(OUT purpose text, OUT subject text)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    raw   text := current_setting('zava.context', true);
    parts text[];
BEGIN
    -- a subject of up to 255 characters is at most 1020 bytes of UTF-8, 2040 hex digits
    IF raw IS NULL OR length(raw) > 2200
       OR raw !~ ('^v2\|(query|audit)\|([0-9a-f]{2})+\|[0-9]{1,10}\|[0-9]{13}'
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
    -- only a value the server signed gets here, and the server signs valid UTF-8
    subject := convert_from(decode(parts[3], 'hex'), 'UTF8');
END
$$;

-- The return type changes (uuid → text), so the function is replaced, not altered. The SQL
-- functions that call it name it in their bodies only; they are recreated right after.
DROP FUNCTION access.current_user_profile();
DROP FUNCTION access.context_user_id();

CREATE FUNCTION access.context_user_id() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN c.purpose = 'query' AND c.subject <> '' THEN c.subject END
    FROM access.verified_context() AS c
$$;

CREATE FUNCTION access.current_user_profile()
    RETURNS TABLE (user_id text, display_name text, email text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT u.user_id, u.display_name, u.email, u.role
    FROM access.app_users AS u
    WHERE u.user_id = (SELECT access.context_user_id())
$$;

-- Head office sees every store, including stores added after the user was registered; everyone
-- else sees the stores granted to them. Still IMMUTABLE (sql/009 says why that is safe).
CREATE OR REPLACE FUNCTION access.visible_store_ids() RETURNS uuid[]
    LANGUAGE sql IMMUTABLE SECURITY DEFINER PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH me AS (
        SELECT u.user_id, u.role FROM access.app_users AS u
        WHERE u.user_id = (SELECT access.context_user_id())   -- verify the context once
    )
    SELECT coalesce(array_agg(v.store_id ORDER BY v.store_id), '{}'::uuid[])
    FROM (SELECT a.store_id FROM access.user_store_access AS a JOIN me USING (user_id)
          WHERE me.role <> 'head_office'
          UNION
          SELECT s.store_id FROM retail.stores AS s, me WHERE me.role = 'head_office') AS v
$$;

REVOKE ALL ON FUNCTION access.context_user_id(), access.current_user_profile() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access.current_user_profile() TO zava_query;

CREATE OR REPLACE FUNCTION audit.append_tool_calls(records jsonb) RETURNS integer
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
    FROM jsonb_to_recordset(records) AS r(called_at timestamptz, user_id text, tool text,
         argument_digest text, sql_fingerprint text, row_count integer,
         duration_ms double precision, outcome text, error_code text);
    GET DIAGNOSTICS appended = ROW_COUNT;
    RETURN appended;
END
$$;

-- ---------------------------------------------------------------- who changed access, and how
-- `zava-mcp users add/grant/revoke/remove` append one row per change, in the change's own
-- transaction; like audit.tool_calls it is append-only and the query role cannot see it.
CREATE TABLE audit.access_changes (
    change_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,         -- the operator (OS user) and the database role
    action     text NOT NULL CHECK (action IN ('add', 'grant', 'revoke', 'remove')),
    user_id    text NOT NULL,
    details    jsonb NOT NULL         -- what changed: role, name, store codes added or removed
);
CREATE TRIGGER access_changes_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit.access_changes
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();
