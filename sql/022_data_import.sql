-- Your own data (`zava-mcp db init --no-demo`, `zava-mcp db import DIR`).
SET LOCAL ROLE zava_owner;

-- Orders a chain exports may still be open: 'pending' (not revenue, like cancelled ones).
ALTER TABLE retail.orders DROP CONSTRAINT orders_status_check;
ALTER TABLE retail.orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('completed', 'pending', 'cancelled', 'returned'));
COMMENT ON COLUMN retail.orders.status IS 'completed, pending, returned or cancelled; revenue counts completed orders.';

-- What filled the tenant tables besides (or instead of) the demo: an empty initialisation or an
-- import, one row each. `db status` shows them; a database with any row here (or a demo
-- dataset) is initialised.
CREATE TABLE zava_meta.data_loads (
    load_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      text NOT NULL CHECK (kind IN ('empty', 'import')),
    source    text,                    -- the imported directory
    replaced  boolean NOT NULL DEFAULT false,
    row_counts jsonb NOT NULL DEFAULT '{}',
    loaded_at timestamptz NOT NULL DEFAULT now()
);
