-- Roles and schemas. Runs as the admin connection (superuser on the embedded server, the
-- database owner on an external one). Everything after this file runs as zava_owner.
--
-- zava_owner : owns every schema object; NOLOGIN so nobody connects as the owner by accident.
-- zava_query : the role that runs the model's SQL. NOSUPERUSER NOBYPASSRLS, owns nothing,
--              SELECT-only on retail; RLS decides which rows it sees.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zava_owner') THEN
        CREATE ROLE zava_owner NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zava_query') THEN
        CREATE ROLE zava_query LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT
            CONNECTION LIMIT 200;
    END IF;
END
$$;

-- The admin must be able to act as the owner to run later migrations.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT zava_owner TO %I', current_user);
    END IF;
END
$$;

CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SCHEMA IF NOT EXISTS retail AUTHORIZATION zava_owner;
CREATE SCHEMA IF NOT EXISTS access AUTHORIZATION zava_owner;
CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION zava_owner;
ALTER SCHEMA zava_meta OWNER TO zava_owner;  -- created by the migration runner

-- Nobody but the owner creates anything anywhere.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON SCHEMA retail, access, audit, zava_meta FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO zava_owner, zava_query;  -- the vector type lives in public
GRANT USAGE ON SCHEMA retail TO zava_query;
GRANT USAGE ON SCHEMA access TO zava_query;              -- to call the access function, nothing else

-- No temporary objects for anyone but the owner: a read-only transaction may still write temp
-- tables, and a temp function could shadow a name in pg_temp.
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY, CREATE ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO zava_query', current_database());
END
$$;
