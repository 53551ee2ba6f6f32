-- Audit records carry an id chosen by the server as it records the call, so that a batch
-- written again (replayed from the on-disk spool after an outage or a crash, or retried on a
-- broken connection after its COMMIT was sent) is appended once: ON CONFLICT DO NOTHING.
ALTER TABLE audit.tool_calls ADD COLUMN record_id uuid;
CREATE UNIQUE INDEX tool_calls_record_id_key ON audit.tool_calls (record_id);
COMMENT ON COLUMN audit.tool_calls.record_id IS
    'id the server gave the record: a replayed record is not appended twice';

-- Same signature and checks as before; the rows are read with the table's own row type, so
-- the function follows the table's column types.
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
    INSERT INTO audit.tool_calls (record_id, called_at, user_id, tool, argument_digest,
                                  sql_fingerprint, row_count, duration_ms, outcome, error_code)
    SELECT r.record_id, coalesce(r.called_at, now()), r.user_id, r.tool, r.argument_digest,
           r.sql_fingerprint, r.row_count, r.duration_ms, r.outcome, r.error_code
    FROM jsonb_populate_recordset(NULL::audit.tool_calls, records) AS r
    ON CONFLICT (record_id) DO NOTHING;
    GET DIAGNOSTICS appended = ROW_COUNT;
    RETURN appended;
END
$$;
REVOKE ALL ON FUNCTION audit.append_tool_calls(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.append_tool_calls(jsonb) TO zava_query;
