-- The retail schema (SPEC §4). Reference tables are small and replicated under Citus; tenant
-- tables carry store_id in their primary key and in every foreign key to another tenant table,
-- so a Citus cluster can distribute them by store_id with co-location (sql/citus/distribute.sql).
SET LOCAL ROLE zava_owner;

-- ---------------------------------------------------------------- reference tables
CREATE TABLE retail.regions (
    region_id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retail.stores (
    store_id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    city        text NOT NULL,
    is_online   boolean NOT NULL DEFAULT false,
    region_id   uuid NOT NULL REFERENCES retail.regions (region_id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retail.categories (
    category_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE retail.product_types (
    type_id     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id uuid NOT NULL REFERENCES retail.categories (category_id),
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (category_id, name)
);

CREATE TABLE retail.products (
    product_id  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    sku         text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL,
    category_id uuid NOT NULL REFERENCES retail.categories (category_id),
    type_id     uuid NOT NULL REFERENCES retail.product_types (type_id),
    cost        numeric(12,2) NOT NULL CHECK (cost >= 0),
    base_price  numeric(12,2) NOT NULL CHECK (base_price >= cost),
    -- full-text side of hybrid product search
    search_document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', description), 'B')) STORED,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON retail.products (category_id);
CREATE INDEX products_type_idx ON retail.products (type_id);
CREATE INDEX products_search_document_idx ON retail.products USING gin (search_document);

CREATE TABLE retail.product_description_embeddings (
    product_id  uuid PRIMARY KEY REFERENCES retail.products (product_id) ON DELETE CASCADE,
    embedding   vector(384) NOT NULL,
    model_id    text NOT NULL,
    content_sha256 text NOT NULL,   -- of the text embedded: a changed description is re-embedded
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- HNSW cosine index. m=16 / ef_construction=64 are pgvector's defaults and give recall@10 > 0.98
-- on the demo catalogue; ef_search is set per query by the search adapter.
CREATE INDEX product_description_embeddings_hnsw_idx
    ON retail.product_description_embeddings USING hnsw (embedding vector_cosine_ops)
    WITH (m = 16, ef_construction = 64);

-- ---------------------------------------------------------------- tenant tables (RLS, see 003)
CREATE TABLE retail.customers (
    store_id    uuid NOT NULL REFERENCES retail.stores (store_id),
    customer_id uuid NOT NULL DEFAULT gen_random_uuid(),
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    email       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, customer_id)
);

CREATE TABLE retail.orders (
    store_id     uuid NOT NULL REFERENCES retail.stores (store_id),
    order_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    customer_id  uuid NOT NULL,
    order_date   timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'completed'
                 CHECK (status IN ('completed', 'returned', 'cancelled')),
    total_amount numeric(12,2) NOT NULL CHECK (total_amount >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, order_id),
    FOREIGN KEY (store_id, customer_id) REFERENCES retail.customers (store_id, customer_id)
);
-- Analytics filter by store and date range and sum totals: an index-only scan serves them.
CREATE INDEX orders_store_date_idx ON retail.orders (store_id, order_date)
    INCLUDE (total_amount, status, order_id);
CREATE INDEX orders_date_idx ON retail.orders (order_date);
CREATE INDEX orders_customer_idx ON retail.orders (store_id, customer_id);

CREATE TABLE retail.order_items (
    store_id        uuid NOT NULL,
    order_item_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    order_id        uuid NOT NULL,
    product_id      uuid NOT NULL REFERENCES retail.products (product_id),
    quantity        integer NOT NULL CHECK (quantity > 0),
    unit_price      numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    discount_amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    total_amount    numeric(12,2) NOT NULL CHECK (total_amount >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, order_item_id),
    FOREIGN KEY (store_id, order_id) REFERENCES retail.orders (store_id, order_id),
    CHECK (total_amount = quantity * unit_price - discount_amount)
);
CREATE INDEX order_items_order_idx ON retail.order_items (store_id, order_id);
CREATE INDEX order_items_product_idx ON retail.order_items (product_id);

CREATE TABLE retail.inventory (
    store_id      uuid NOT NULL REFERENCES retail.stores (store_id),
    product_id    uuid NOT NULL REFERENCES retail.products (product_id),
    stock_level   integer NOT NULL CHECK (stock_level >= 0),
    reorder_point integer NOT NULL CHECK (reorder_point >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (store_id, product_id)
);

-- ---------------------------------------------------------------- how each table distributes
-- Read by sql/citus/distribute.sql and by the Citus-readiness test: a new retail table without
-- a row here fails the test.
CREATE TABLE zava_meta.table_distribution (
    table_name text PRIMARY KEY,            -- schema-qualified, e.g. retail.orders
    kind       text NOT NULL CHECK (kind IN ('reference', 'distributed')),
    colocate_with text                      -- distributed tables: the table they co-locate with
);
INSERT INTO zava_meta.table_distribution (table_name, kind, colocate_with) VALUES
    ('retail.regions', 'reference', NULL),
    ('retail.stores', 'reference', NULL),
    ('retail.categories', 'reference', NULL),
    ('retail.product_types', 'reference', NULL),
    ('retail.products', 'reference', NULL),
    ('retail.product_description_embeddings', 'reference', NULL),
    ('retail.customers', 'distributed', NULL),
    ('retail.orders', 'distributed', 'retail.customers'),
    ('retail.order_items', 'distributed', 'retail.customers'),
    ('retail.inventory', 'distributed', 'retail.customers');

-- Which demo dataset `zava-mcp db init` loaded (one row), so a re-run knows there is nothing to do.
CREATE TABLE zava_meta.demo_dataset (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seed        integer NOT NULL,
    anchor_date date NOT NULL,
    scale       text NOT NULL,
    products    integer NOT NULL,
    checksum    text NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
