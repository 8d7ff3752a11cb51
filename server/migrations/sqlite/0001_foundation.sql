-- Organizations, users and memberships.
CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    totp_secret BLOB,
    is_staff INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    preferences TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'technician', 'viewer')),
    site_id TEXT,
    device_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX memberships_user ON memberships(user_id);
CREATE INDEX memberships_organization ON memberships(organization_id);

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    code TEXT,
    address TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    operating_hours TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, name)
);

-- Devices and their keys. A key is stored as the SHA-256 of its secret part.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    organization_id TEXT REFERENCES organizations(id) ON DELETE SET NULL,
    serial TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT 'esocore-edge',
    firmware_version TEXT NOT NULL DEFAULT '',
    firmware_channel TEXT NOT NULL DEFAULT 'stable'
        CHECK (firmware_channel IN ('stable', 'beta', 'dev')),
    site_id TEXT REFERENCES sites(id) ON DELETE SET NULL,
    asset_id TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('unclaimed', 'active', 'maintenance', 'inactive', 'decommissioned')),
    config_overrides TEXT NOT NULL DEFAULT '{}',
    health TEXT NOT NULL DEFAULT '{}',
    last_seen INTEGER,
    first_seen INTEGER,
    claimed_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX devices_organization ON devices(organization_id);

CREATE TABLE device_keys (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX device_keys_device ON device_keys(device_id);
CREATE INDEX device_keys_prefix ON device_keys(prefix);

CREATE TABLE config_profiles (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, model)
);

-- The ingest ledger: one row per accepted Idempotency-Key, kept for replays.
CREATE TABLE packets (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    points INTEGER NOT NULL,
    events INTEGER NOT NULL,
    errors TEXT NOT NULL DEFAULT '[]',
    UNIQUE (device_id, idempotency_key)
);
CREATE INDEX packets_received ON packets(received_at);

-- Telemetry: a series is device x metric name; a point is (series, ts), one row each.
CREATE TABLE series (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    UNIQUE (device_id, name)
);

CREATE TABLE points (
    series_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL NOT NULL,
    meta TEXT,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organization_id TEXT,
    device_id TEXT REFERENCES devices(id) ON DELETE CASCADE,
    asset_ref TEXT NOT NULL DEFAULT '',
    site_ref TEXT NOT NULL DEFAULT '',
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    type TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    description TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'acknowledged', 'resolved', 'suppressed')),
    acknowledged_by TEXT,
    acknowledged_at INTEGER,
    resolved_by TEXT,
    resolved_at INTEGER,
    UNIQUE (device_id, type, ts)
);
CREATE INDEX events_organization_ts ON events(organization_id, ts);

CREATE TABLE asset_cycles (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    asset_ref TEXT NOT NULL,
    cycle_id INTEGER NOT NULL,
    cycle_type TEXT NOT NULL DEFAULT 'cycle',
    started_at INTEGER,
    ended_at INTEGER,
    duration_ms INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    UNIQUE (device_id, asset_ref, cycle_id)
);

-- Firmware bundles and each device's update progress.
CREATE TABLE firmware_bundles (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('stable', 'beta', 'dev')),
    models TEXT NOT NULL DEFAULT '[]',
    release_notes TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    signature TEXT NOT NULL,
    path TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (version, channel)
);

CREATE TABLE device_updates (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    bundle_id TEXT NOT NULL REFERENCES firmware_bundles(id) ON DELETE CASCADE,
    from_version TEXT NOT NULL DEFAULT '',
    to_version TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('offered', 'downloading', 'installing', 'completed',
                                           'failed', 'rolled_back')),
    error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX device_updates_device ON device_updates(device_id, updated_at);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    user_id TEXT,
    organization_id TEXT,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    ip_address TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_organization ON audit_log(organization_id, created_at);
