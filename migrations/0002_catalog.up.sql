-- catalog: products with their inventory, and stock reservations held for orders.
-- The invariants (stock never negative, reserved never above stock, one reservation
-- per order, legal reservation states) are constraints here, so no interleaving of
-- requests can break them. The service's role may read and write these tables only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_products') THEN
        CREATE ROLE spinshop_products LOGIN;
    END IF;
END
$$;

CREATE SCHEMA catalog;
REVOKE ALL ON SCHEMA catalog FROM PUBLIC;
GRANT USAGE ON SCHEMA catalog TO spinshop_products;

CREATE TABLE catalog.products (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL
                CONSTRAINT products_name_check CHECK (char_length(name) BETWEEN 1 AND 200),
    description TEXT,
    -- minor units (cents)
    price       BIGINT NOT NULL CONSTRAINT products_price_check CHECK (price >= 0),
    currency    TEXT NOT NULL DEFAULT 'USD'
                CONSTRAINT products_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    -- units on the shelf, including those reserved for orders not yet paid
    stock       BIGINT NOT NULL DEFAULT 0 CONSTRAINT products_stock_check CHECK (stock >= 0),
    reserved    BIGINT NOT NULL DEFAULT 0 CONSTRAINT products_reserved_check CHECK (reserved >= 0),
    -- set instead of deleting a product that orders refer to
    archived_at TIMESTAMPTZ,
    -- the one definition of "can be bought now", used for the JSON field and the list filter
    available   BOOLEAN NOT NULL
                GENERATED ALWAYS AS (archived_at IS NULL AND stock - reserved > 0) STORED,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_reserved_within_stock CHECK (reserved <= stock)
);

-- One row per order that asked for stock; order_id is the idempotency key.
CREATE TABLE catalog.reservations (
    order_id   BIGINT PRIMARY KEY CONSTRAINT reservations_order_id_check CHECK (order_id > 0),
    -- reserved -> released | committed; nothing leaves released or committed
    status     TEXT NOT NULL DEFAULT 'reserved'
               CONSTRAINT reservations_status_check
               CHECK (status IN ('reserved', 'released', 'committed')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE catalog.reservation_items (
    order_id   BIGINT NOT NULL REFERENCES catalog.reservations (order_id) ON DELETE CASCADE,
    -- no ON DELETE: a product that was ever reserved can only be archived
    product_id BIGINT NOT NULL
               CONSTRAINT reservation_items_product_id_fkey REFERENCES catalog.products (id),
    qty        BIGINT NOT NULL CONSTRAINT reservation_items_qty_check CHECK (qty BETWEEN 1 AND 1000),
    PRIMARY KEY (order_id, product_id)
);
CREATE INDEX reservation_items_product_idx ON catalog.reservation_items (product_id);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA catalog TO spinshop_products;
