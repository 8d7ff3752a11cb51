-- Single-use tickets that open one live-update WebSocket (/ws?ticket=...), for browsers that
-- cannot set headers on a WebSocket. Stored as the SHA-256 of the ticket. A ticket stands for
-- the credential that asked for it, so that the connection ends (4401) when that credential
-- does.
CREATE TABLE live_tickets (
    id text PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential text NOT NULL CHECK (credential IN ('session', 'access_token', 'api_token')),
    session_id text,
    api_token_id text,
    credential_expires_at bigint,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at bigint
);
CREATE INDEX live_tickets_expires ON live_tickets(expires_at);
