DROP INDEX catalog.products_price_idx;
DROP INDEX catalog.products_newest_idx;
DROP INDEX catalog.products_name_trgm_idx;
DROP EXTENSION IF EXISTS pg_trgm;
ALTER TABLE catalog.products DROP COLUMN search;
ALTER TABLE catalog.products DROP COLUMN category_id;
DROP TABLE catalog.categories;
