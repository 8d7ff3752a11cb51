-- Sign-in and credentials: portal sessions, rotating refresh tokens, personal API tokens,
-- TOTP with recovery codes, and the sign-in attempts that throttling counts. The same tables
-- as migrations/postgres/0003_accounts.sql; ids are text, flags 0/1, JSON text, so that the
-- portable SQL of server/src/accounts reads both alike.

-- The TOTP secret is stored sealed (libsodium secretbox, base64url text); enabled once the
-- user proved a first code.
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0;
-- The last TOTP time step accepted, so that one code signs in once.
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;

-- A portal session. The cookie holds a random token; the row keeps its SHA-256 only.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Refresh tokens rotate: each use makes a child in the same family. Presenting a token that
-- was already used revokes the whole family.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    parent_id TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Personal API tokens: shown once, found by their prefix, checked against the hash.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Single-use recovery codes for a user with TOTP, stored hashed.
CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- Every sign-in attempt, for throttling per account (lowercased email) and per address.
CREATE TABLE sign_in_attempts (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sign_in_attempts_email ON sign_in_attempts(email, created_at);
CREATE INDEX sign_in_attempts_address ON sign_in_attempts(ip_address, created_at);

CREATE INDEX audit_log_user ON audit_log(user_id, created_at);
