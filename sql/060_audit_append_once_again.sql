-- sql/020 (text user ids) redefined audit.append_tool_calls from sql/003's body, so the
-- record_id that sql/011 added was no longer written and a replayed audit record (from the
-- spool, after an outage or a crash) could be appended twice. The same function again, with
-- the record id and ON CONFLICT DO NOTHING; it reads the rows with the table's own row type,
-- so a later change of a column's type needs no new version of it.
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
