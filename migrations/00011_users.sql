-- +goose Up
-- People who sign in to the web interface. A user belongs to one tenant and
-- has one of the roles API keys have (bots are keys only). Passwords are
-- bcrypt hashes; e-mail addresses are stored lower-case and are unique
-- across tenants, so signing in needs only the address.
-- Operators are users of no tenant (they see the tenants and the queue
-- dashboard, as operator keys do).
CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    tenant_id     bigint REFERENCES tenants(id) ON DELETE CASCADE,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer', 'operator')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz,
    CHECK ((role = 'operator') = (tenant_id IS NULL))
);
CREATE INDEX users_tenant ON users (tenant_id);

-- A session is a cookie: only the SHA-256 of its 32 random bytes is stored,
-- with the CSRF token the session's forms and API calls must send.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- An invitation is a one-time link an owner or admin gives a person: only
-- the SHA-256 of its token is stored. Accepting it creates the user.
CREATE TABLE invitations (
    token_hash  bytea PRIMARY KEY,
    tenant_id   bigint NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email)),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
    invited_by  bigint REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX invitations_tenant ON invitations (tenant_id);

-- +goose Down
DROP TABLE invitations;
DROP TABLE sessions;
DROP TABLE users;
