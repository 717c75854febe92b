-- catalog: categories, and ranked full-text search over products.
--
-- Categories form a tree at most two levels deep: top-level categories, and
-- categories under one of them. The depth is a constraint, not a check in the
-- service, so no interleaving of requests can nest three deep: every category says
-- whether it is top-level (`top_level`), and a category's parent must be a row whose
-- `top_level` is true (the composite foreign key below). Giving a parent to a category
-- that has children would make it no longer top-level while its children still
-- point at it as one, which the same key refuses.
CREATE TABLE catalog.categories (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- lower-case letters and digits in words joined by single hyphens
    slug       TEXT NOT NULL CONSTRAINT categories_slug_key UNIQUE
               CONSTRAINT categories_slug_check
               CHECK (char_length(slug) <= 64 AND slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name       TEXT NOT NULL
               CONSTRAINT categories_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    parent_id  BIGINT,
    top_level  BOOLEAN NOT NULL GENERATED ALWAYS AS (parent_id IS NULL) STORED,
    -- always true: the half of the parent key that says "a top-level parent"
    parent_top BOOLEAN NOT NULL DEFAULT true CONSTRAINT categories_parent_top_check CHECK (parent_top),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT categories_id_top_level_key UNIQUE (id, top_level),
    CONSTRAINT categories_parent_fkey FOREIGN KEY (parent_id, parent_top)
        REFERENCES catalog.categories (id, top_level)
);
CREATE INDEX categories_parent_idx ON catalog.categories (parent_id);

-- A product is in at most one category; a category that holds products can't be
-- deleted (no ON DELETE).
ALTER TABLE catalog.products
    ADD COLUMN category_id BIGINT CONSTRAINT products_category_id_fkey REFERENCES catalog.categories (id);
CREATE INDEX products_category_idx ON catalog.products (category_id);

-- Full-text search: the name weighs more (A) than the description (B).
ALTER TABLE catalog.products
    ADD COLUMN search tsvector NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A')
        || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
    ) STORED;
CREATE INDEX products_search_idx ON catalog.products USING gin (search);

-- Near matches for short or misspelled words: trigram similarity on the name. The
-- extension lives in the catalog schema, where only the products role may use it;
-- pg_trgm is a trusted extension, so a database owner that is not a superuser may
-- create it too.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA catalog;
CREATE INDEX products_name_trgm_idx ON catalog.products USING gin (name catalog.gin_trgm_ops);

-- The list's sort orders other than relevance.
CREATE INDEX products_newest_idx ON catalog.products (created_at DESC, id DESC);
CREATE INDEX products_price_idx ON catalog.products (price, id);

GRANT SELECT, INSERT, UPDATE, DELETE ON catalog.categories TO spinshop_products;
