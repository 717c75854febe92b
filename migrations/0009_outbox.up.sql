-- The transactional outbox of each service that publishes events (users, orders,
-- payments). An event is written here in the same transaction as the change it
-- reports, then delivered to notifications at least once (spinshop_kit::outbox).
-- Every outbox has the same shape:
--   outbox            one row per event: the envelope as it is sent, and its delivery
--                     state (attempts, when it is next due, a lease that keeps two
--                     flushes from sending it at once, when it was delivered)
--   outbox_sequences  the last sequence number of each aggregate, so its events are
--                     numbered 1, 2, 3... in commit order; kept when old events are pruned
DO $$
DECLARE
    target RECORD;
BEGIN
    FOR target IN SELECT * FROM (VALUES ('users', 'spinshop_users'),
                                        ('orders', 'spinshop_orders'),
                                        ('payments', 'spinshop_payments')) AS t (schema_name, role_name) LOOP
        EXECUTE format($sql$
            CREATE TABLE %1$I.outbox_sequences (
                aggregate_type TEXT   NOT NULL,
                aggregate_id   BIGINT NOT NULL,
                last_sequence  BIGINT NOT NULL,
                PRIMARY KEY (aggregate_type, aggregate_id)
            );
            CREATE TABLE %1$I.outbox (
                seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                event_id        UUID        NOT NULL UNIQUE,
                aggregate_type  TEXT        NOT NULL,
                aggregate_id    BIGINT      NOT NULL,
                sequence        BIGINT      NOT NULL CONSTRAINT outbox_sequence_check CHECK (sequence > 0),
                event           JSONB       NOT NULL,
                created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
                attempts        INTEGER     NOT NULL DEFAULT 0,
                next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                leased_until    TIMESTAMPTZ,
                last_error      TEXT,
                delivered_at    TIMESTAMPTZ,
                UNIQUE (aggregate_type, aggregate_id, sequence)
            );
            CREATE INDEX outbox_pending_idx ON %1$I.outbox (seq) WHERE delivered_at IS NULL;
            CREATE INDEX outbox_delivered_idx ON %1$I.outbox (delivered_at) WHERE delivered_at IS NOT NULL;
            GRANT SELECT, INSERT, UPDATE, DELETE ON %1$I.outbox, %1$I.outbox_sequences TO %2$I;
        $sql$, target.schema_name, target.role_name);
    END LOOP;
END
$$;
