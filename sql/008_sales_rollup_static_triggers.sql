-- Sales rollup triggers with static SQL (replacing the dynamic ones of sql/005).
--
-- sql/005's trigger functions built their upsert as text and ran it with EXECUTE, so every
-- INSERT/UPDATE/DELETE statement on orders or order_items parsed and planned a large statement
-- again: ~1-2 ms per statement, 20x the cost of a single-row INSERT (bench/load_data.py measures
-- it). Here one function per table and operation is generated from the same pieces
-- (retail.sales_rollup_changed_rows_sql and retail.sales_rollup_upsert_sql), with the statement
-- written into its body: PL/pgSQL plans it once per session and reuses the plan (~0.2 ms per
-- statement). A cached plan keeps the row estimate of the transition table it was planned for,
-- so statements that change more than 1000 rows (bulk loads) still run the same text through
-- EXECUTE, planned for their size; the static plan only ever sees small statements. What the
-- triggers compute is unchanged; the triggers keep their names.
SET LOCAL ROLE zava_owner;

DO $migration$
DECLARE
    tbl text;
    op text;
    changed text;
    upsert text;
    fn text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['order_items', 'orders'] LOOP
        FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            changed := retail.sales_rollup_changed_rows_sql(op);
            IF tbl = 'order_items' THEN
                upsert := retail.sales_rollup_upsert_sql(
                    format('SELECT c.sign, o.store_id,'
                           ' (o.order_date AT TIME ZONE %L)::date AS sales_date,'
                           ' c.product_id, c.quantity, c.total_amount'
                           ' FROM (%s) AS c JOIN retail.orders AS o'
                           ' ON o.store_id = c.store_id AND o.order_id = c.order_id'
                           ' WHERE o.status = %L', 'UTC', changed, 'completed'),
                    'SELECT NULL::integer AS sign, NULL::uuid AS store_id,'
                    ' NULL::date AS sales_date WHERE false');
            ELSE
                changed := format(
                    'SELECT c.sign, c.store_id, c.order_id,'
                    ' (c.order_date AT TIME ZONE %L)::date AS sales_date'
                    ' FROM (%s) AS c WHERE c.status = %L', 'UTC', changed, 'completed');
                upsert := retail.sales_rollup_upsert_sql(
                    format('SELECT c.sign, c.store_id, c.sales_date, i.product_id, i.quantity,'
                           ' i.total_amount FROM (%s) AS c JOIN retail.order_items AS i'
                           ' ON i.store_id = c.store_id AND i.order_id = c.order_id', changed),
                    format('SELECT c.sign, c.store_id, c.sales_date FROM (%s) AS c', changed));
            END IF;
            fn := format('%s_sales_rollup_%s', tbl, lower(op));
            EXECUTE format(
                'CREATE FUNCTION retail.%I() RETURNS trigger'
                ' LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS %L',
                fn,
                'DECLARE product_keys retail.sales_rollup_key[];'
                ' store_keys retail.sales_rollup_key[];'
                ' BEGIN'
                ' IF (SELECT count(*) FROM '
                || CASE op WHEN 'INSERT' THEN 'new_rows' ELSE 'old_rows' END
                || ') > 1000 THEN'
                ' EXECUTE ' || quote_literal(upsert) || ' INTO product_keys, store_keys;'
                ' ELSE ' || upsert || ' INTO product_keys, store_keys;'
                ' END IF;'
                ' IF product_keys IS NOT NULL OR store_keys IS NOT NULL THEN'
                ' PERFORM retail.delete_empty_sales_rollups(product_keys, store_keys);'
                ' END IF; RETURN NULL; END');
            EXECUTE format('REVOKE ALL ON FUNCTION retail.%I() FROM PUBLIC', fn);
            EXECUTE format('DROP TRIGGER %I ON retail.%I', fn, tbl);
            EXECUTE format(
                'CREATE TRIGGER %I AFTER %s ON retail.%I REFERENCING %s'
                ' FOR EACH STATEMENT EXECUTE FUNCTION retail.%I()',
                fn, op, tbl,
                CASE op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
                        WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                        ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                fn);
        END LOOP;
    END LOOP;
END
$migration$;

-- TRUNCATE has no transition tables: two small static functions, as before.
CREATE FUNCTION retail.order_items_sales_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    TRUNCATE retail.daily_product_sales;
    UPDATE retail.daily_store_sales SET units = 0, revenue = 0, cost = 0;
    DELETE FROM retail.daily_store_sales WHERE orders = 0;
    RETURN NULL;
END
$fn$;

CREATE FUNCTION retail.orders_sales_rollup_truncate() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    TRUNCATE retail.daily_product_sales, retail.daily_store_sales;
    RETURN NULL;
END
$fn$;

REVOKE ALL ON FUNCTION retail.order_items_sales_rollup_truncate() FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.orders_sales_rollup_truncate() FROM PUBLIC;

DROP TRIGGER order_items_sales_rollup_truncate ON retail.order_items;
CREATE TRIGGER order_items_sales_rollup_truncate AFTER TRUNCATE ON retail.order_items
    FOR EACH STATEMENT EXECUTE FUNCTION retail.order_items_sales_rollup_truncate();
DROP TRIGGER orders_sales_rollup_truncate ON retail.orders;
CREATE TRIGGER orders_sales_rollup_truncate AFTER TRUNCATE ON retail.orders
    FOR EACH STATEMENT EXECUTE FUNCTION retail.orders_sales_rollup_truncate();

-- The dynamic functions of sql/005 no longer back any trigger.
DROP FUNCTION retail.order_items_sales_rollup();
DROP FUNCTION retail.orders_sales_rollup();
