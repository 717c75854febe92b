-- users: accounts, refresh-token sessions, login failures.
-- The service's role may read and write these tables and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spinshop_users') THEN
        CREATE ROLE spinshop_users LOGIN;
    END IF;
END
$$;

CREATE SCHEMA users;
REVOKE ALL ON SCHEMA users FROM PUBLIC;
GRANT USAGE ON SCHEMA users TO spinshop_users;

CREATE TABLE users.users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- stored lower-cased, so the unique constraint is case-insensitive
    email         TEXT NOT NULL CONSTRAINT users_email_key UNIQUE
                  CONSTRAINT users_email_lower CHECK (email = lower(email)),
    name          TEXT,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'customer'
                  CONSTRAINT users_role_check CHECK (role IN ('customer', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per issued refresh token. A login starts a family (a session); each
-- refresh rotates within it. Presenting a rotated token again revokes the family.
CREATE TABLE users.refresh_tokens (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users.users (id) ON DELETE CASCADE,
    family_id   UUID NOT NULL,
    -- SHA-256 of the token; the token itself is never stored
    token_hash  TEXT NOT NULL CONSTRAINT refresh_tokens_hash_key UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    rotated_at  TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON users.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON users.refresh_tokens (user_id);

-- Failed logins, keyed by 'email:<address>' or 'addr:<client ip>', for rate limiting.
CREATE TABLE users.login_failures (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key       TEXT NOT NULL,
    failed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON users.login_failures (key, failed_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA users TO spinshop_users;
