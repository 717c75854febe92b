-- payments: charges against orders, and the idempotency keys that make /pay safe to retry.
-- A key charges at most once and an order has at most one successful charge: both are
-- constraints, so no interleaving of concurrent requests can double-charge.
-- The service's role may read and write these tables only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_payments') THEN
        CREATE ROLE spinshop_payments LOGIN;
    END IF;
END
$$;

CREATE SCHEMA payments;
REVOKE ALL ON SCHEMA payments FROM PUBLIC;
GRANT USAGE ON SCHEMA payments TO spinshop_payments;

CREATE TABLE payments.payments (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the order's owner, who paid (orders is the source of truth; copied for access checks)
    user_id         BIGINT NOT NULL,
    order_id        BIGINT NOT NULL CONSTRAINT payments_order_id_check CHECK (order_id > 0),
    idempotency_key TEXT NOT NULL,
    -- the keyed hash of the request that made the charge (see idempotency_keys)
    request_hash    TEXT NOT NULL,
    -- minor units (cents)
    amount          BIGINT NOT NULL CONSTRAINT payments_amount_check CHECK (amount >= 0),
    currency        TEXT NOT NULL
                    CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    -- succeeded -> refunded; failed is final
    status          TEXT NOT NULL
                    CONSTRAINT payments_status_check
                    CHECK (status IN ('succeeded', 'failed', 'refunded')),
    method          TEXT NOT NULL,
    -- the only part of a card number ever stored
    card_last4      TEXT CONSTRAINT payments_card_last4_check CHECK (card_last4 ~ '^[0-9]{4}$'),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT payments_user_key_key UNIQUE (user_id, idempotency_key)
);
CREATE INDEX payments_order_idx ON payments.payments (order_id);
CREATE INDEX payments_user_idx ON payments.payments (user_id);
-- Two requests with different keys for one order can't both charge it.
CREATE UNIQUE INDEX payments_one_success_per_order
    ON payments.payments (order_id) WHERE status IN ('succeeded', 'refunded');

-- One row per (user, Idempotency-Key) of POST /pay. The first request claims the key
-- (INSERT ... ON CONFLICT DO NOTHING); the response it settles on is stored for replay.
CREATE TABLE payments.idempotency_keys (
    user_id         BIGINT NOT NULL,
    key             TEXT NOT NULL
                    CONSTRAINT idempotency_keys_key_check CHECK (char_length(key) BETWEEN 1 AND 200),
    -- keyed SHA-256 of the normalised request, so a key can't be reused for another request
    request_hash    TEXT NOT NULL,
    -- NULL while the claiming request is still working
    response_status INTEGER,
    response_body   TEXT,
    payment_id      BIGINT REFERENCES payments.payments (id),
    claimed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key),
    CONSTRAINT idempotency_keys_response_check
        CHECK ((response_status IS NULL) = (response_body IS NULL))
);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA payments TO spinshop_payments;
