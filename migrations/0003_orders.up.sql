-- orders: orders and their lines, with prices copied from the catalog when placed.
-- State rules live in constraints; transitions are conditional updates in the
-- component, so two racing requests can't both move an order. The service's role may
-- read and write these tables, and draw ids from their sequences, nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_orders') THEN
        CREATE ROLE spinshop_orders LOGIN;
    END IF;
END
$$;

CREATE SCHEMA orders;
REVOKE ALL ON SCHEMA orders FROM PUBLIC;
GRANT USAGE ON SCHEMA orders TO spinshop_orders;

CREATE TABLE orders.orders (
    -- allocated with nextval before the row exists (products keys the stock
    -- reservation by it), then inserted with OVERRIDING SYSTEM VALUE
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- a users.users id; no foreign key across services
    user_id          BIGINT NOT NULL CONSTRAINT orders_user_id_check CHECK (user_id > 0),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT orders_status_check
                     CHECK (status IN ('pending', 'paid', 'fulfilled', 'cancelled')),
    payment_status   TEXT NOT NULL DEFAULT 'unpaid'
                     CONSTRAINT orders_payment_status_check
                     CHECK (payment_status IN ('unpaid', 'paid', 'failed', 'refunded')),
    -- the payments.payments id that paid the order
    payment_id       BIGINT,
    -- minor units (cents), the sum of the lines
    total            BIGINT NOT NULL CONSTRAINT orders_total_check CHECK (total >= 0),
    currency         TEXT NOT NULL CONSTRAINT orders_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    shipping_address TEXT CONSTRAINT orders_shipping_address_check
                     CHECK (char_length(shipping_address) BETWEEN 1 AND 1000),
    notes            TEXT CONSTRAINT orders_notes_check CHECK (char_length(notes) BETWEEN 1 AND 1000),
    -- the client's Idempotency-Key header, one order per key and user
    idempotency_key  TEXT CONSTRAINT orders_idempotency_key_check
                     CHECK (char_length(idempotency_key) BETWEEN 1 AND 200),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT orders_user_idempotency_key UNIQUE (user_id, idempotency_key),
    -- an order that was paid names its payment and can't be unpaid or failed
    CONSTRAINT orders_paid_check CHECK (
        status NOT IN ('paid', 'fulfilled')
        OR (payment_id IS NOT NULL AND payment_status IN ('paid', 'refunded'))
    )
);
-- a user's orders, newest first
CREATE INDEX orders_user_created_idx ON orders.orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders.orders (created_at DESC, id DESC);

-- One line per product; duplicates in a request are merged before they get here.
CREATE TABLE orders.order_items (
    order_id   BIGINT NOT NULL REFERENCES orders.orders (id) ON DELETE CASCADE,
    -- a catalog.products id; no foreign key across services
    product_id BIGINT NOT NULL CONSTRAINT order_items_product_id_check CHECK (product_id > 0),
    -- the product's name and price when the order was placed
    name       TEXT NOT NULL,
    qty        BIGINT NOT NULL CONSTRAINT order_items_qty_check CHECK (qty BETWEEN 1 AND 1000),
    unit_price BIGINT NOT NULL CONSTRAINT order_items_unit_price_check CHECK (unit_price >= 0),
    line_total BIGINT NOT NULL GENERATED ALWAYS AS (qty * unit_price) STORED,
    PRIMARY KEY (order_id, product_id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA orders TO spinshop_orders;
-- nextval for the order id allocated ahead of the insert
GRANT USAGE ON ALL SEQUENCES IN SCHEMA orders TO spinshop_orders;
