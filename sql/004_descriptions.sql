-- Descriptions the schema tool hands to models (get_multiple_table_schemas, zava://schema/*).
SET LOCAL ROLE zava_owner;

COMMENT ON TABLE retail.regions IS 'Sales regions grouping the stores.';
COMMENT ON TABLE retail.stores IS 'The Zava Retail stores: 7 physical stores in Washington state and 1 online store.';
COMMENT ON COLUMN retail.stores.name IS 'Store name, e.g. ''Zava Retail Seattle''.';
COMMENT ON COLUMN retail.stores.is_online IS 'true for the online store.';
COMMENT ON TABLE retail.categories IS 'The 9 product categories.';
COMMENT ON TABLE retail.product_types IS 'Product types within a category (e.g. Hammers in Hand Tools).';
COMMENT ON TABLE retail.products IS 'The product catalogue, shared by all stores.';
COMMENT ON COLUMN retail.products.cost IS 'Unit cost to Zava (USD); margin = unit price - cost.';
COMMENT ON COLUMN retail.products.base_price IS 'List price (USD); order lines may sell below it.';
COMMENT ON COLUMN retail.products.search_document IS 'Full-text search vector of name and description (use semantic_search_products for product search).';
COMMENT ON TABLE retail.product_description_embeddings IS 'Vector embeddings of product descriptions for semantic search.';
COMMENT ON TABLE retail.customers IS 'Customers, each with a home store. Row-level security: only the caller''s stores.';
COMMENT ON TABLE retail.orders IS 'Orders (one per checkout). Row-level security: only the caller''s stores.';
COMMENT ON COLUMN retail.orders.order_date IS 'When the order was placed (timestamptz, UTC).';
COMMENT ON COLUMN retail.orders.status IS 'completed, returned or cancelled; revenue usually counts completed orders.';
COMMENT ON COLUMN retail.orders.total_amount IS 'Order total (USD) = sum of its order_items.total_amount.';
COMMENT ON TABLE retail.order_items IS 'Order lines. Join to orders on (store_id, order_id). Row-level security: only the caller''s stores.';
COMMENT ON COLUMN retail.order_items.total_amount IS 'Line total (USD) = quantity * unit_price - discount_amount.';
COMMENT ON TABLE retail.inventory IS 'Stock per store and product. Row-level security: only the caller''s stores.';
COMMENT ON COLUMN retail.inventory.reorder_point IS 'Reorder when stock_level is at or below this level.';
