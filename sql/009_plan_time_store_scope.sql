-- Row-level security, continued: give the planner the caller's store list (issue 3, RLS cost).
--
-- 003 and 005 wrote every policy as `store_id = ANY ((SELECT access.visible_store_ids())::uuid[])`:
-- an InitPlan, evaluated once per query, but a parameter the planner cannot see. It therefore
-- estimated "some of the stores", and on `large` chose a full scan of order_items where the
-- owner's equivalent `store_id = ANY('{…}')` got a bitmap scan of one store: 418 ms against
-- 136 ms for a category revenue query as a store manager (bench/rls_overhead.py, serial).
--
-- Now the access function is IMMUTABLE and called bare, so the planner folds it to a constant
-- while planning (eval_const_expressions): once per planned statement, like the InitPlan, and
-- the plan sees `store_id = ANY ('{…}'::uuid[])` exactly as the owner's query does (136 ms).
--
-- IMMUTABLE is a promise PostgreSQL does not check; the function's result depends on the
-- transaction's signed context. It is safe only because no plan made under one request's
-- context is ever executed under another's. Plans outlive their statement in four places, and
-- each is closed:
--   * protocol-level prepared statements: the query pool's connections never prepare
--     (psycopg prepare_threshold=None, adapters/postgres/pool.py);
--   * SQL PREPARE / EXECUTE: the SQL guard refuses both, and should a request get one through,
--     the pool's reset on return runs DISCARD ALL (DEALLOCATE ALL + DISCARD PLANS), so the next
--     request on that connection cannot EXECUTE it;
--   * plans cached inside PL/pgSQL or SQL functions: the query role cannot create functions or
--     temporary objects (001), the functions it may call read no tenant table as invoker, and
--     DISCARD ALL drops cached plans between requests anyway;
--   * a context change inside one transaction: a context is bound to the backend and signed,
--     so a request can only replace its own context by an invalid one (→ no stores).
-- tests/integration/test_plan_time_scope.py attacks each of these on the real database.
-- The owner's maintenance policies are untouched; a missing or forged context still folds to
-- the empty array.
SET LOCAL ROLE zava_owner;

ALTER FUNCTION access.visible_store_ids() IMMUTABLE;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['customers', 'orders', 'order_items', 'inventory',
                             'daily_store_sales', 'daily_product_sales'] LOOP
        EXECUTE format(
            'ALTER POLICY %I ON retail.%I USING (store_id = ANY (access.visible_store_ids()))',
            t || '_visible_stores', t);
    END LOOP;
END
$$;
