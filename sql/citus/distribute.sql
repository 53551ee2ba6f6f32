-- Distribute the Zava schema over a Citus cluster (run once, as the owner, on the coordinator,
-- after `zava-mcp db init`). Reference tables are replicated to every node; tenant tables are
-- hash-distributed by store_id and co-located, so per-store joins and RLS stay node-local.
-- The list comes from zava_meta.table_distribution, which the Citus-readiness test keeps complete.
CREATE EXTENSION IF NOT EXISTS citus;

-- The sales rollups' statement triggers (sql/005, with transition tables) cannot run on Citus
-- distributed or reference tables: drop them, and refresh the rollups on a schedule instead with
-- SELECT retail.rebuild_sales_rollups();
DROP TRIGGER IF EXISTS order_items_sales_rollup_insert ON retail.order_items;
DROP TRIGGER IF EXISTS order_items_sales_rollup_update ON retail.order_items;
DROP TRIGGER IF EXISTS order_items_sales_rollup_delete ON retail.order_items;
DROP TRIGGER IF EXISTS order_items_sales_rollup_truncate ON retail.order_items;
DROP TRIGGER IF EXISTS orders_sales_rollup_insert ON retail.orders;
DROP TRIGGER IF EXISTS orders_sales_rollup_update ON retail.orders;
DROP TRIGGER IF EXISTS orders_sales_rollup_delete ON retail.orders;
DROP TRIGGER IF EXISTS orders_sales_rollup_truncate ON retail.orders;
DROP TRIGGER IF EXISTS products_sales_rollup_update ON retail.products;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT table_name FROM zava_meta.table_distribution
             WHERE kind = 'reference'
             ORDER BY CASE table_name            -- parents before children
                 WHEN 'retail.regions' THEN 1 WHEN 'retail.stores' THEN 2
                 WHEN 'retail.categories' THEN 3 WHEN 'retail.product_types' THEN 4
                 WHEN 'retail.products' THEN 5 ELSE 6 END
    LOOP
        PERFORM create_reference_table(r.table_name::regclass);
    END LOOP;

    PERFORM create_distributed_table('retail.customers', 'store_id');
    FOR r IN SELECT table_name, colocate_with FROM zava_meta.table_distribution
             WHERE kind = 'distributed' AND colocate_with IS NOT NULL
             ORDER BY CASE table_name WHEN 'retail.orders' THEN 1 ELSE 2 END
    LOOP
        PERFORM create_distributed_table(r.table_name::regclass, 'store_id',
                                         colocate_with => r.colocate_with);
    END LOOP;
END
$$;
