-- The context check's format test (sql/020) without bounded repetitions. PostgreSQL's regex
-- engine spent ~50 µs matching `([0-9a-f]{2})+ … [0-9]{1,10} … [0-9]{13} … [0-9a-f]{32} …
-- [0-9a-f]{64}` against a valid context (measured in a loop of 1,000 checks: 50.7 µs; the same
-- pattern with `+` in place of each count, 2.6 µs), and every statement of the query role runs
-- the check while it is planned. The language accepted is the same: each count becomes a `+`
-- and a test of that part's length. Nothing else changes.
SET LOCAL ROLE zava_owner;

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
       OR raw !~ '^v2\|(query|audit)\|[0-9a-f]+\|[0-9]+\|[0-9]+\|[0-9a-f]+\|[0-9a-f]+$' THEN
        RETURN;
    END IF;
    parts := string_to_array(raw, '|');
    IF length(parts[3]) % 2 <> 0 OR length(parts[4]) > 10 OR length(parts[5]) <> 13
       OR length(parts[6]) <> 32 OR length(parts[7]) <> 64 THEN
        RETURN;
    END IF;
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
