CREATE INDEX products_name_trgm_idx ON catalog.products USING gin (name catalog.gin_trgm_ops);
DROP TRIGGER products_count_search_words_update ON catalog.products;
DROP TRIGGER products_count_search_words ON catalog.products;
DROP FUNCTION catalog.count_search_words();
DROP FUNCTION catalog.product_words(TEXT, TEXT);
DROP TABLE catalog.search_words;
