-- notifications' mail: every mail the shop sends (a reset or verification link, an
-- order's confirmation), stored once by id. The table is both the queue the mail API
-- is fed from (the delivery columns of kit's outbox, flushed by the same code) and,
-- when no mail API is configured, the local mailbox an admin reads: such mails are
-- written already delivered, kept_locally, and never sent.
CREATE TABLE notify.mail (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mail_id         UUID        NOT NULL CONSTRAINT mail_mail_id_key UNIQUE,
    -- the service that wrote it
    source          TEXT        NOT NULL,
    to_address      TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    text_body       TEXT        NOT NULL,
    html_body       TEXT        NOT NULL,
    kept_locally    BOOLEAN     NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    leased_until    TIMESTAMPTZ,
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ
);
CREATE INDEX mail_to_idx ON notify.mail (to_address, seq DESC);
CREATE INDEX mail_pending_idx ON notify.mail (seq) WHERE delivered_at IS NULL;
CREATE INDEX mail_delivered_idx ON notify.mail (delivered_at) WHERE delivered_at IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON notify.mail TO spinshop_notifications;
