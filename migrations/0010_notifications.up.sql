-- notifications: the events the other services publish, each stored once by id
-- however often it is delivered; the inbox each user reads; and the signed webhook
-- every event is POSTed to when one is configured, as an outbox of its own (the same
-- shape as 0009's, spinshop_kit::outbox) with a record of every attempt.
-- The service's role may read and write these tables only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_notifications') THEN
        CREATE ROLE spinshop_notifications LOGIN;
    END IF;
END
$$;

CREATE SCHEMA notify;
REVOKE ALL ON SCHEMA notify FROM PUBLIC;
GRANT USAGE ON SCHEMA notify TO spinshop_notifications;

-- Every event received, once: a redelivery finds its id here and changes nothing.
CREATE TABLE notify.events (
    event_id       UUID PRIMARY KEY,
    type           TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    aggregate_type TEXT        NOT NULL,
    aggregate_id   BIGINT      NOT NULL,
    sequence       BIGINT      NOT NULL CONSTRAINT events_sequence_check CHECK (sequence > 0),
    -- the user whose inbox the event reaches; NULL for events only staff see
    user_id        BIGINT,
    occurred_at    TIMESTAMPTZ NOT NULL,
    data           JSONB       NOT NULL,
    -- the envelope as it was received, whole
    envelope       JSONB       NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_received_idx ON notify.events (received_at DESC, event_id DESC);
CREATE INDEX events_aggregate_idx ON notify.events (aggregate_type, aggregate_id, sequence);

-- The inbox: one notification per event that names a user.
CREATE TABLE notify.notifications (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT      NOT NULL,
    event_id   UUID        NOT NULL UNIQUE REFERENCES notify.events (event_id),
    type       TEXT        NOT NULL,
    title      TEXT        NOT NULL,
    message    TEXT        NOT NULL,
    data       JSONB       NOT NULL,
    read_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_idx ON notify.notifications (user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notify.notifications (user_id, id DESC) WHERE read_at IS NULL;

-- The webhook queue: kit's outbox, in this schema.
CREATE TABLE notify.outbox_sequences (
    aggregate_type TEXT   NOT NULL,
    aggregate_id   BIGINT NOT NULL,
    last_sequence  BIGINT NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);
CREATE TABLE notify.outbox (
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
CREATE INDEX outbox_pending_idx ON notify.outbox (seq) WHERE delivered_at IS NULL;
CREATE INDEX outbox_delivered_idx ON notify.outbox (delivered_at) WHERE delivered_at IS NOT NULL;

-- Every request made to the webhook, whatever came of it: the status it answered, or
-- why there was no answer (refused, timed out).
CREATE TABLE notify.webhook_attempts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     UUID        NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    status_code  INTEGER,
    error        TEXT,
    duration_ms  BIGINT      NOT NULL CONSTRAINT webhook_attempts_duration_check CHECK (duration_ms >= 0)
);
CREATE INDEX webhook_attempts_event_idx ON notify.webhook_attempts (event_id, id);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA notify TO spinshop_notifications;

-- The connection budget, as 0006 sets it for the other services' roles: the server
-- closes this role's pooled connections once they sit idle for 200 ms, so its pool
-- shrinks to what it uses (see 0006 for why 200 ms). Per role and per database.
DO $$
BEGIN
    EXECUTE format('ALTER ROLE spinshop_notifications IN DATABASE %I SET idle_session_timeout = %L',
                   current_database(), '200ms');
END
$$;
