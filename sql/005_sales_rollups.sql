-- Daily sales rollups for the analytics tools (get_store_performance, get_sales_trend,
-- get_top_products, compare_stores, get_inventory_alerts).
--
-- Why: those tools aggregate order lines of completed orders over date ranges. order_items has
-- no date, so the straightforward query probes order_items once per order (~300-450 ms per store
-- and quarter on the `large` dataset); the rollups answer the same question from a contiguous
-- (store_id, sales_date) index range (bench/analytics.py measures both).
--
-- What: per store and UTC day (sales_date = (orders.order_date AT TIME ZONE 'UTC')::date), only
-- orders with status 'completed':
--   daily_store_sales    orders (count), units, revenue (Σ order_items.total_amount), cost
--   daily_product_sales  the same per product (no order count)
-- cost = units × the product's current retail.products.cost, exactly what a query joining
-- products would compute (a cost change re-values the rollups).
--
-- How they stay exact: statement-level triggers with transition tables on orders, order_items
-- (INSERT/UPDATE/DELETE/TRUNCATE) and products (UPDATE of cost) apply signed deltas in the
-- same transaction as the change, so a reader never sees rollups that disagree with the rows
-- (COPY fires them too: a bulk load costs one set-based upsert per COPY statement). The price:
-- concurrent writers of the same store and day queue on that day's rollup row until commit.
-- retail.rebuild_sales_rollups() recomputes both from scratch: the backfill below, repairs, and
-- a Citus cluster, where statement triggers with transition tables do not run on distributed
-- tables (drop them there and refresh with it on a schedule).
--
-- They are tenant tables like the ones they summarise: store_id leads the primary key (Citus
-- co-location), row-level security is ENABLEd and FORCEd with the same access function. No
-- foreign keys: they are derived data, written only by the triggers below.
SET LOCAL ROLE zava_owner;

CREATE TABLE retail.daily_store_sales (
    store_id   uuid NOT NULL,
    sales_date date NOT NULL,
    orders     integer NOT NULL,
    units      bigint NOT NULL,
    revenue    numeric(16,2) NOT NULL,
    cost       numeric(16,2) NOT NULL,
    PRIMARY KEY (store_id, sales_date)
);

CREATE TABLE retail.daily_product_sales (
    store_id   uuid NOT NULL,
    sales_date date NOT NULL,
    product_id uuid NOT NULL,
    units      bigint NOT NULL,
    revenue    numeric(16,2) NOT NULL,
    cost       numeric(16,2) NOT NULL,
    PRIMARY KEY (store_id, sales_date, product_id)
);

COMMENT ON TABLE retail.daily_store_sales IS 'Completed orders per store and UTC day (derived, trigger-maintained). Row-level security: only the caller''s stores.';
COMMENT ON TABLE retail.daily_product_sales IS 'Units, revenue and cost of completed orders per store, UTC day and product (derived, trigger-maintained). Row-level security: only the caller''s stores.';

-- ---------------------------------------------------------------- applying deltas
CREATE TYPE retail.sales_rollup_key AS (store_id uuid, sales_date date, product_id uuid);

-- The statement a trigger runs, built from two queries over its transition tables:
--   line_deltas:  (sign, store_id, sales_date, product_id, quantity, total_amount)
--   order_deltas: (sign, store_id, sales_date)
-- sign is +1 for a row entering the rollups and -1 for one leaving them. One statement upserts
-- both rollups (the line deltas are read once) and returns the keys whose totals reached zero,
-- which the trigger then deletes (a later statement sees the upserted rows; this one would not).
CREATE FUNCTION retail.sales_rollup_upsert_sql(line_deltas text, order_deltas text)
    RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT format($sql$
WITH lines AS MATERIALIZED (
    SELECT d.store_id, d.sales_date, d.product_id,
           sum(d.sign * d.quantity) AS units, sum(d.sign * d.total_amount) AS revenue
    FROM (%s) AS d
    GROUP BY d.store_id, d.sales_date, d.product_id
), products AS (
    SELECT l.store_id, l.sales_date, l.product_id, l.units, l.revenue, l.units * p.cost AS cost
    FROM lines AS l JOIN retail.products AS p ON p.product_id = l.product_id
    WHERE l.units <> 0 OR l.revenue <> 0
), product_upsert AS (
    INSERT INTO retail.daily_product_sales AS t
           (store_id, sales_date, product_id, units, revenue, cost)
    SELECT store_id, sales_date, product_id, units, revenue, cost FROM products
    ORDER BY store_id, sales_date, product_id
    ON CONFLICT (store_id, sales_date, product_id) DO UPDATE
       SET units = t.units + excluded.units, revenue = t.revenue + excluded.revenue,
           cost = t.cost + excluded.cost
    RETURNING t.store_id, t.sales_date, t.product_id, t.units, t.revenue
), stores AS (
    SELECT store_id, sales_date, sum(orders) AS orders, sum(units) AS units,
           sum(revenue) AS revenue, sum(cost) AS cost
    FROM (SELECT store_id, sales_date, 0 AS orders, units, revenue, cost FROM products
          UNION ALL
          SELECT o.store_id, o.sales_date, o.sign, 0, 0, 0 FROM (%s) AS o) AS x
    GROUP BY store_id, sales_date
    HAVING sum(orders) <> 0 OR sum(units) <> 0 OR sum(revenue) <> 0
), store_upsert AS (
    INSERT INTO retail.daily_store_sales AS t
           (store_id, sales_date, orders, units, revenue, cost)
    SELECT store_id, sales_date, orders, units, revenue, cost FROM stores
    ORDER BY store_id, sales_date
    ON CONFLICT (store_id, sales_date) DO UPDATE
       SET orders = t.orders + excluded.orders, units = t.units + excluded.units,
           revenue = t.revenue + excluded.revenue, cost = t.cost + excluded.cost
    RETURNING t.store_id, t.sales_date, t.orders, t.units, t.revenue
)
SELECT (SELECT array_agg(ROW(store_id, sales_date, product_id)::retail.sales_rollup_key)
        FROM product_upsert WHERE units = 0 AND revenue = 0),
       (SELECT array_agg(ROW(store_id, sales_date, NULL)::retail.sales_rollup_key)
        FROM store_upsert WHERE orders = 0 AND units = 0 AND revenue = 0)
$sql$, line_deltas, order_deltas)
$fn$;

CREATE FUNCTION retail.delete_empty_sales_rollups(
    product_keys retail.sales_rollup_key[], store_keys retail.sales_rollup_key[])
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $fn$
    DELETE FROM retail.daily_product_sales AS t
    USING unnest(product_keys) AS k
    WHERE t.store_id = k.store_id AND t.sales_date = k.sales_date
      AND t.product_id = k.product_id AND t.units = 0 AND t.revenue = 0;
    DELETE FROM retail.daily_store_sales AS t
    USING unnest(store_keys) AS k
    WHERE t.store_id = k.store_id AND t.sales_date = k.sales_date
      AND t.orders = 0 AND t.units = 0 AND t.revenue = 0;
$fn$;

-- ---------------------------------------------------------------- triggers
-- The rows a statement changed, signed: +1 for rows it wrote (new_rows), -1 for rows it
-- replaced or removed (old_rows); an UPDATE contributes both, and unchanged rows cancel out.
CREATE FUNCTION retail.sales_rollup_changed_rows_sql(operation text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $fn$
SELECT CASE operation
    WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
    ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END
$fn$;

-- order_items changed: its lines enter or leave the rollups if their order is completed.
CREATE FUNCTION retail.order_items_sales_rollup() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    changed text := retail.sales_rollup_changed_rows_sql(TG_OP);
    product_keys retail.sales_rollup_key[];
    store_keys retail.sales_rollup_key[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE retail.daily_product_sales;
        UPDATE retail.daily_store_sales SET units = 0, revenue = 0, cost = 0;
        DELETE FROM retail.daily_store_sales WHERE orders = 0;
        RETURN NULL;
    END IF;
    EXECUTE retail.sales_rollup_upsert_sql(
        format('SELECT c.sign, o.store_id, (o.order_date AT TIME ZONE %L)::date AS sales_date,'
               ' c.product_id, c.quantity, c.total_amount'
               ' FROM (%s) AS c JOIN retail.orders AS o'
               ' ON o.store_id = c.store_id AND o.order_id = c.order_id'
               ' WHERE o.status = %L', 'UTC', changed, 'completed'),
        'SELECT NULL::integer AS sign, NULL::uuid AS store_id, NULL::date AS sales_date'
        ' WHERE false')
    INTO product_keys, store_keys;
    PERFORM retail.delete_empty_sales_rollups(product_keys, store_keys);
    RETURN NULL;
END
$fn$;

-- orders changed: a completed order entering or leaving counts once, with its existing lines
-- (an UPDATE that keeps store, day and status nets to zero and writes nothing).
CREATE FUNCTION retail.orders_sales_rollup() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    changed text := format(
        'SELECT c.sign, c.store_id, c.order_id, (c.order_date AT TIME ZONE %L)::date AS sales_date'
        ' FROM (%s) AS c WHERE c.status = %L',
        'UTC', retail.sales_rollup_changed_rows_sql(TG_OP), 'completed');
    product_keys retail.sales_rollup_key[];
    store_keys retail.sales_rollup_key[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE retail.daily_product_sales, retail.daily_store_sales;
        RETURN NULL;
    END IF;
    EXECUTE retail.sales_rollup_upsert_sql(
        format('SELECT c.sign, c.store_id, c.sales_date, i.product_id, i.quantity,'
               ' i.total_amount FROM (%s) AS c JOIN retail.order_items AS i'
               ' ON i.store_id = c.store_id AND i.order_id = c.order_id', changed),
        format('SELECT c.sign, c.store_id, c.sales_date FROM (%s) AS c', changed))
    INTO product_keys, store_keys;
    PERFORM retail.delete_empty_sales_rollups(product_keys, store_keys);
    RETURN NULL;
END
$fn$;

-- products.cost changed: re-value the rollups of those products at the new cost.
CREATE FUNCTION retail.products_sales_rollup() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    repriced uuid[];
BEGIN
    SELECT array_agg(n.product_id) INTO repriced
    FROM new_rows AS n JOIN old_rows AS o ON o.product_id = n.product_id
    WHERE n.cost IS DISTINCT FROM o.cost;
    IF repriced IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE retail.daily_product_sales AS t SET cost = t.units * p.cost
    FROM retail.products AS p
    WHERE p.product_id = t.product_id AND t.product_id = ANY (repriced);
    UPDATE retail.daily_store_sales AS s SET cost = x.cost
    FROM (SELECT d.store_id, d.sales_date, sum(d.cost) AS cost
          FROM retail.daily_product_sales AS d
          WHERE (d.store_id, d.sales_date) IN (SELECT store_id, sales_date
                                                FROM retail.daily_product_sales
                                                WHERE product_id = ANY (repriced))
          GROUP BY d.store_id, d.sales_date) AS x
    WHERE s.store_id = x.store_id AND s.sales_date = x.sales_date;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER order_items_sales_rollup_insert AFTER INSERT ON retail.order_items
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.order_items_sales_rollup();
CREATE TRIGGER order_items_sales_rollup_update AFTER UPDATE ON retail.order_items
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.order_items_sales_rollup();
CREATE TRIGGER order_items_sales_rollup_delete AFTER DELETE ON retail.order_items
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.order_items_sales_rollup();
CREATE TRIGGER order_items_sales_rollup_truncate AFTER TRUNCATE ON retail.order_items
    FOR EACH STATEMENT EXECUTE FUNCTION retail.order_items_sales_rollup();

CREATE TRIGGER orders_sales_rollup_insert AFTER INSERT ON retail.orders
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.orders_sales_rollup();
CREATE TRIGGER orders_sales_rollup_update AFTER UPDATE ON retail.orders
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.orders_sales_rollup();
CREATE TRIGGER orders_sales_rollup_delete AFTER DELETE ON retail.orders
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.orders_sales_rollup();
CREATE TRIGGER orders_sales_rollup_truncate AFTER TRUNCATE ON retail.orders
    FOR EACH STATEMENT EXECUTE FUNCTION retail.orders_sales_rollup();

CREATE TRIGGER products_sales_rollup_update AFTER UPDATE ON retail.products
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION retail.products_sales_rollup();

-- ---------------------------------------------------------------- rebuild (and backfill)
CREATE FUNCTION retail.rebuild_sales_rollups() RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $fn$
    TRUNCATE retail.daily_product_sales, retail.daily_store_sales;
    INSERT INTO retail.daily_product_sales (store_id, sales_date, product_id, units, revenue, cost)
    SELECT x.store_id, x.sales_date, x.product_id, x.units, x.revenue, x.units * p.cost
    FROM (SELECT o.store_id, (o.order_date AT TIME ZONE 'UTC')::date AS sales_date, i.product_id,
                 sum(i.quantity) AS units, sum(i.total_amount) AS revenue
          FROM retail.orders AS o
          JOIN retail.order_items AS i ON i.store_id = o.store_id AND i.order_id = o.order_id
          WHERE o.status = 'completed'
          GROUP BY 1, 2, 3) AS x
    JOIN retail.products AS p ON p.product_id = x.product_id
    ORDER BY 1, 2, 3;
    INSERT INTO retail.daily_store_sales (store_id, sales_date, orders, units, revenue, cost)
    SELECT o.store_id, o.sales_date, o.orders, coalesce(d.units, 0), coalesce(d.revenue, 0),
           coalesce(d.cost, 0)
    FROM (SELECT store_id, (order_date AT TIME ZONE 'UTC')::date AS sales_date, count(*) AS orders
          FROM retail.orders WHERE status = 'completed' GROUP BY 1, 2) AS o
    LEFT JOIN (SELECT store_id, sales_date, sum(units) AS units, sum(revenue) AS revenue,
                      sum(cost) AS cost
               FROM retail.daily_product_sales GROUP BY 1, 2) AS d
           ON d.store_id = o.store_id AND d.sales_date = o.sales_date
    ORDER BY 1, 2;
$fn$;

SELECT retail.rebuild_sales_rollups();

-- ---------------------------------------------------------------- access
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['daily_store_sales', 'daily_product_sales'] LOOP
        EXECUTE format('ALTER TABLE retail.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE retail.%I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY %I ON retail.%I FOR SELECT TO zava_query '
            'USING (store_id = ANY ((SELECT access.visible_store_ids())::uuid[]))',
            t || '_visible_stores', t);
        EXECUTE format(
            'CREATE POLICY %I ON retail.%I FOR ALL TO zava_owner USING (true) WITH CHECK (true)',
            t || '_owner_maintenance', t);
        EXECUTE format('GRANT SELECT ON retail.%I TO zava_query', t);
    END LOOP;
END
$$;

REVOKE ALL ON FUNCTION retail.sales_rollup_upsert_sql(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.sales_rollup_changed_rows_sql(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.delete_empty_sales_rollups(retail.sales_rollup_key[],
                                                         retail.sales_rollup_key[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.order_items_sales_rollup() FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.orders_sales_rollup() FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.products_sales_rollup() FROM PUBLIC;
REVOKE ALL ON FUNCTION retail.rebuild_sales_rollups() FROM PUBLIC;

INSERT INTO zava_meta.table_distribution (table_name, kind, colocate_with) VALUES
    ('retail.daily_store_sales', 'distributed', 'retail.customers'),
    ('retail.daily_product_sales', 'distributed', 'retail.customers');
