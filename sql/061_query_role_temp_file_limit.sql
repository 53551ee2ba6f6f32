-- A ceiling on the temporary disk one session of the query role may use (temp_file_limit):
-- 1 GB. Model-written SQL can sort, hash or materialise far more than work_mem (16 MB) holds,
-- e.g. `SELECT * FROM generate_series(1, 1e9) ORDER BY 1`, and without a limit such a query
-- writes temporary files until the statement timeout ends it or the disk is full, for every
-- tenant and the database itself. 1 GB leaves room for legitimate work: sorting every order
-- line spills 14.6 MB at the small demo scale (130k lines), so about 290 MB at the large one
-- (2.6M lines). Past the limit the query fails with SQLSTATE 53400,
-- which the server answers as a DATABASE_ERROR telling the model to filter, aggregate or add
-- LIMIT (adapters/postgres/errors.py). At most pool size x workers x 1 GB is in use at once.
--
-- A role setting, not a per-transaction one: temp_file_limit is superuser-only, so the query
-- role cannot raise (or lower) it itself, and granting it SET on the parameter would let any
-- SQL that got past the guard lift the limit. Operators change it the same way, as a
-- superuser: ALTER ROLE zava_query SET temp_file_limit = '4GB' (README, Operations); a new
-- value applies to connections opened after it.
--
-- On an external server whose admin is not a superuser the setting is not permitted: the
-- migration then only warns, and the server logs a warning at each start until a superuser
-- sets it (adapters/postgres/startup_checks.py).
DO $$
BEGIN
    ALTER ROLE zava_query SET temp_file_limit = '1GB';
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'temp_file_limit not set for zava_query (%): ask a superuser to run'
        ' ALTER ROLE zava_query SET temp_file_limit = ''1GB''', SQLERRM;
END
$$;
