-- carts: one cart per user and its items. The cart row's version changes with every
-- change to the cart; checkout derives the order's idempotency key from it, so a
-- retried checkout of an unchanged cart can't place a second order.
-- The service's role may read and write these tables only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_carts') THEN
        CREATE ROLE spinshop_carts LOGIN;
    END IF;
END
$$;

CREATE SCHEMA carts;
REVOKE ALL ON SCHEMA carts FROM PUBLIC;
GRANT USAGE ON SCHEMA carts TO spinshop_carts;

CREATE TABLE carts.carts (
    user_id    BIGINT PRIMARY KEY CONSTRAINT carts_user_id_check CHECK (user_id > 0),
    version    BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE carts.cart_items (
    user_id    BIGINT NOT NULL REFERENCES carts.carts (user_id) ON DELETE CASCADE,
    product_id BIGINT NOT NULL CONSTRAINT cart_items_product_id_check CHECK (product_id > 0),
    qty        INTEGER NOT NULL CONSTRAINT cart_items_qty_check CHECK (qty BETWEEN 1 AND 1000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, product_id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA carts TO spinshop_carts;
