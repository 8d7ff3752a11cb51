-- The same tables as migrations/sqlite/0003_accounts.sql. Own ids are text and flags are
-- integers 0/1 (not uuid and boolean as in 0001), so that the portable SQL of
-- server/src/accounts reads both stores alike; references to users stay uuid, as the key
-- they point to.

-- The TOTP secret is stored sealed (libsodium secretbox, base64url text) rather than raw
-- bytes; enabled once the user proved a first code.
ALTER TABLE users ALTER COLUMN totp_secret TYPE text USING encode(totp_secret, 'base64');
ALTER TABLE users ADD COLUMN totp_enabled integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0;

CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    ip_address text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE refresh_tokens (
    id text PRIMARY KEY,
    family_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    parent_id text,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint,
    revoked_at bigint
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name text NOT NULL,
    prefix text NOT NULL UNIQUE,
    token_hash text NOT NULL,
    scopes text NOT NULL DEFAULT '[]',
    created_at bigint NOT NULL,
    last_used_at bigint,
    expires_at bigint,
    revoked_at bigint
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE recovery_codes (
    id text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    created_at bigint NOT NULL,
    used_at bigint
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

CREATE TABLE sign_in_attempts (
    id text PRIMARY KEY,
    email text NOT NULL,
    ip_address text NOT NULL,
    succeeded integer NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX sign_in_attempts_email ON sign_in_attempts(email, created_at);
CREATE INDEX sign_in_attempts_address ON sign_in_attempts(ip_address, created_at);

CREATE INDEX audit_log_user ON audit_log(user_id, created_at);
