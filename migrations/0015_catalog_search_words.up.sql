-- catalog: the words of the catalog, for searches with a misspelled or short word.
--
-- When a search's words match no product, each is replaced by the catalog word
-- closest to it ("keybord" by "keyboard") and the full-text search runs again. The
-- words are looked up here, a few thousand rows with a trigram index, rather than
-- in every product's name: the correction costs a lookup per word, however many
-- products share it.
--
-- A word is a run of three or more letters in a product's name or description,
-- lower-cased and not stemmed (`simple` configuration), counted once per product.
-- `products` is how many products use it; a word no product uses is deleted.
CREATE TABLE catalog.search_words (
    word     TEXT PRIMARY KEY,
    products INTEGER NOT NULL CONSTRAINT search_words_products_check CHECK (products >= 0)
);
-- Without GIN's pending list: words change only when products are written, and every
-- search with a misspelling would otherwise read the list through until a vacuum.
CREATE INDEX search_words_trgm_idx ON catalog.search_words
    USING gin (word catalog.gin_trgm_ops) WITH (fastupdate = off);

-- The words of a product, as counted above.
CREATE FUNCTION catalog.product_words(name TEXT, description TEXT) RETURNS TEXT[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(word), '{}')
    FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, name || ' ' || coalesce(description, '')))) AS word
    WHERE word ~ '^[[:alpha:]]{3,}$'
$$;

-- Keeps the counts as products are added, renamed, redescribed and deleted. Each count
-- changes in one statement under its row's lock, so changes at once all count; a count
-- that reaches 0 is deleted by the write that took it there. Words are counted in their
-- order, so two products written at once that share words wait for each other rather
-- than deadlock.
CREATE FUNCTION catalog.count_search_words() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    change RECORD;
BEGIN
    FOR change IN
        SELECT word, sum(delta)::INTEGER AS delta
        FROM (SELECT unnest(catalog.product_words(NEW.name, NEW.description)), 1
              WHERE TG_OP <> 'DELETE'
              UNION ALL
              SELECT unnest(catalog.product_words(OLD.name, OLD.description)), -1
              WHERE TG_OP <> 'INSERT') AS words (word, delta)
        GROUP BY word HAVING sum(delta) <> 0
        ORDER BY word
    LOOP
        IF change.delta > 0 THEN
            INSERT INTO catalog.search_words AS w (word, products) VALUES (change.word, change.delta)
            ON CONFLICT (word) DO UPDATE SET products = w.products + excluded.products;
        ELSE
            UPDATE catalog.search_words SET products = greatest(products + change.delta, 0)
            WHERE word = change.word;
            DELETE FROM catalog.search_words WHERE word = change.word AND products <= 0;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER products_count_search_words AFTER INSERT OR DELETE ON catalog.products
    FOR EACH ROW EXECUTE FUNCTION catalog.count_search_words();
CREATE TRIGGER products_count_search_words_update AFTER UPDATE OF name, description ON catalog.products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION catalog.count_search_words();

INSERT INTO catalog.search_words (word, products)
SELECT word, count(*) FROM catalog.products, unnest(catalog.product_words(name, description)) AS word
GROUP BY word;

-- Misspellings are corrected from the words above, no longer matched against names.
DROP INDEX catalog.products_name_trgm_idx;

GRANT SELECT, INSERT, UPDATE, DELETE ON catalog.search_words TO spinshop_products;
