-- The management resources: assets and their maintenance, the event log, device claiming,
-- device-computed telemetry windows and dashboards.

ALTER TABLE devices ADD COLUMN claim_token_hash TEXT;
ALTER TABLE organizations ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE assets (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id TEXT REFERENCES sites(id) ON DELETE SET NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT 'other'
        CHECK (type IN ('door', 'cnc', 'robot', 'pump', 'motor', 'conveyor', 'other')),
    make TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    serial TEXT NOT NULL DEFAULT '',
    installed_on TEXT,
    location TEXT NOT NULL DEFAULT '',
    specifications TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, external_id)
);
CREATE INDEX assets_site ON assets(site_id);

CREATE INDEX asset_cycles_asset ON asset_cycles(asset_ref, started_at);

CREATE TABLE maintenance_plans (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    asset_id TEXT NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    every_cycles INTEGER,
    every_days INTEGER,
    last_done_at INTEGER,
    last_done_cycles INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX maintenance_plans_asset ON maintenance_plans(asset_id);

CREATE TABLE maintenance_tickets (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    asset_id TEXT REFERENCES assets(id) ON DELETE CASCADE,
    plan_id TEXT REFERENCES maintenance_plans(id) ON DELETE SET NULL,
    event_id TEXT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'done')),
    assignee_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE INDEX maintenance_tickets_organization ON maintenance_tickets(organization_id, created_at);

CREATE TABLE event_log (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id TEXT,
    action TEXT NOT NULL,
    from_status TEXT NOT NULL DEFAULT '',
    to_status TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX event_log_event ON event_log(event_id, id);
CREATE INDEX events_device_ts ON events(device_id, ts);

CREATE TABLE telemetry_windows (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER NOT NULL,
    stats TEXT NOT NULL DEFAULT '{}',
    received_at INTEGER NOT NULL,
    UNIQUE (device_id, name, start_ts)
);

CREATE TABLE dashboards (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    owner_id TEXT REFERENCES users(id) ON DELETE SET NULL,
    site_id TEXT REFERENCES sites(id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    layout TEXT NOT NULL DEFAULT '{}',
    widgets TEXT NOT NULL DEFAULT '[]',
    is_default INTEGER NOT NULL DEFAULT 0,
    shared INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX dashboards_organization ON dashboards(organization_id);
