-- users: verified addresses, one-time links (password reset, email verification) and
-- the record of the mails asked for, which rate-limits them.
--
-- An address is verified once its owner followed a link mailed to it. Accounts that
-- exist now have never been mailed one, so they start unverified; admins (created by
-- `spinshop migrate`, which also marks the first admin verified) are trusted.
-- A new address waits in pending_email until verified; the account keeps its email.
ALTER TABLE users.users
    ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN pending_email  TEXT
        CONSTRAINT users_pending_email_lower CHECK (pending_email = lower(pending_email));
UPDATE users.users SET email_verified = true WHERE role = 'admin';

-- A one-time link's token: only its SHA-256 is stored. A newer token of the same
-- purpose supersedes the account's older ones; a token is used once.
CREATE TABLE users.account_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT      NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    purpose       TEXT        NOT NULL
                  CONSTRAINT account_tokens_purpose_check
                  CHECK (purpose IN ('password_reset', 'verify_email')),
    token_hash    TEXT        NOT NULL CONSTRAINT account_tokens_hash_key UNIQUE,
    -- the address a verify_email token verifies
    email         TEXT,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    superseded_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX account_tokens_user_idx ON users.account_tokens (user_id, purpose);

-- Every reset or verification mail asked for, keyed by what it is counted against
-- ('reset:email:<address>', 'addr:<client ip>', 'verify:user:<id>').
CREATE TABLE users.mail_requests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key          TEXT        NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX mail_requests_key_idx ON users.mail_requests (key, requested_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON users.account_tokens, users.mail_requests TO spinshop_users;
