-- Incremental refresh of the sales rollups (`zava-mcp db refresh-rollups`, issue 16).
--
-- On Citus the rollup triggers cannot run (transition tables on distributed tables), so the
-- rollups catch up with the orders by a refresh. A full rebuild recomputes and rewrites every
-- store-day; the incremental refresh recomputes only the store-days whose source rows changed.
-- It finds them by comparing, per store and UTC day, a fingerprint of everything the rollups
-- are computed from (each completed order, each of its lines with product, quantity, amount and
-- the product's current cost) with the fingerprint stored here at the last refresh: an insert,
-- an update (a status, a date, a quantity, a cost) or a delete of any of those rows changes the
-- fingerprint of every store-day it touched (adapters/postgres/sales_rollups.py).
--
-- A coordinator-local bookkeeping table (never distributed, never granted to the query role):
-- one row per store-day that holds completed orders, written only by the refresh.
SET LOCAL ROLE zava_owner;

CREATE TABLE zava_meta.sales_rollup_fingerprints (
    store_id    uuid NOT NULL,
    sales_date  date NOT NULL,
    lines       bigint NOT NULL,   -- order lines (an order without lines counts one)
    fingerprint numeric NOT NULL,  -- sum of a 64-bit hash of each of those lines
    PRIMARY KEY (store_id, sales_date)
);
