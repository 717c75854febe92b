-- catalog: product images. Each file is stored once, keyed by the SHA-256 of its bytes
-- (the URL it is served at names that hash, so what a URL shows never changes and
-- caches keep it for good); each product lists the files it shows, in order, with
-- their alt text. A file no product shows any more is deleted with its last use.
-- The limits here are the upload rules' (components/products/src/domain/image.rs).
CREATE TABLE catalog.images (
    sha256       TEXT PRIMARY KEY CONSTRAINT images_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type TEXT NOT NULL
                 CONSTRAINT images_content_type_check
                 CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    width        INTEGER NOT NULL CONSTRAINT images_width_check CHECK (width BETWEEN 1 AND 4096),
    height       INTEGER NOT NULL CONSTRAINT images_height_check CHECK (height BETWEEN 1 AND 4096),
    bytes        BYTEA NOT NULL
                 CONSTRAINT images_bytes_check CHECK (octet_length(bytes) BETWEEN 1 AND 2097152),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The formats are compressed already: TOAST stores them out of line without trying again.
ALTER TABLE catalog.images ALTER COLUMN bytes SET STORAGE EXTERNAL;

CREATE TABLE catalog.product_images (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id   BIGINT NOT NULL
                 CONSTRAINT product_images_product_id_fkey
                 REFERENCES catalog.products (id) ON DELETE CASCADE,
    image_sha256 TEXT NOT NULL
                 CONSTRAINT product_images_image_sha256_fkey REFERENCES catalog.images (sha256),
    alt          TEXT NOT NULL DEFAULT ''
                 CONSTRAINT product_images_alt_check CHECK (char_length(alt) <= 300),
    -- 0 is shown first; a product's positions are 0, 1, ... without gaps, so this also
    -- bounds a product to 8 images
    position     INTEGER NOT NULL
                 CONSTRAINT product_images_position_check CHECK (position BETWEEN 0 AND 7),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- checked at the end of each statement, so one UPDATE can reorder a product's images;
    -- its index also serves reading a product's images in order
    CONSTRAINT product_images_position_key UNIQUE (product_id, position) DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX product_images_image_idx ON catalog.product_images (image_sha256);

-- Deletes the file of a product image that was removed (or whose product was) once no
-- product shows it. An upload of the same bytes that committed meanwhile keeps it: its
-- reference makes the delete fail, and the file stays.
CREATE FUNCTION catalog.forget_unshown_image() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM catalog.images i
    WHERE i.sha256 = OLD.image_sha256
      AND NOT EXISTS (SELECT 1 FROM catalog.product_images pi WHERE pi.image_sha256 = OLD.image_sha256);
    RETURN NULL;
EXCEPTION WHEN foreign_key_violation THEN
    RETURN NULL;
END
$$;
CREATE TRIGGER product_images_forget_unshown AFTER DELETE ON catalog.product_images
    FOR EACH ROW EXECUTE FUNCTION catalog.forget_unshown_image();

GRANT SELECT, INSERT, UPDATE, DELETE ON catalog.images, catalog.product_images TO spinshop_products;
