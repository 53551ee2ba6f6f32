-- Stores get the short code a chain already uses for them (`stores.csv`'s `code`, what
-- `zava-mcp users add --stores` and `db import` refer to them by). The demo stores' codes are
-- the first three letters of their city (SEA, BEL, …, ONL).
SET LOCAL ROLE zava_owner;

ALTER TABLE retail.stores ADD COLUMN code text;
UPDATE retail.stores SET code = upper(left(city, 3));
ALTER TABLE retail.stores ALTER COLUMN code SET NOT NULL;
ALTER TABLE retail.stores ADD CONSTRAINT stores_code_key UNIQUE (code);
ALTER TABLE retail.stores ADD CONSTRAINT stores_code_form CHECK (code ~ '^[^[:cntrl:][:space:],]{1,64}$');
COMMENT ON COLUMN retail.stores.code IS 'The chain''s own short code for the store (e.g. SEA)';
COMMENT ON TABLE retail.stores IS 'The chain''s stores (physical and online), each in a region.';
