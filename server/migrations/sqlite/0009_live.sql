-- Single-use tickets that open one live-update WebSocket (/ws?ticket=...), for browsers that
-- cannot set headers on a WebSocket. Stored as the SHA-256 of the ticket. A ticket stands for
-- the credential that asked for it, so that the connection ends (4401) when that credential
-- does.
CREATE TABLE live_tickets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential TEXT NOT NULL CHECK (credential IN ('session', 'access_token', 'api_token')),
    session_id TEXT,
    api_token_id TEXT,
    credential_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX live_tickets_expires ON live_tickets(expires_at);
