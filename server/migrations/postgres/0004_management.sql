-- The management resources: assets and their maintenance, the event log, device claiming,
-- device-computed telemetry windows and dashboards.

ALTER TABLE devices ADD COLUMN claim_token_hash text;
ALTER TABLE organizations ADD COLUMN updated_at bigint NOT NULL DEFAULT 0;

CREATE TABLE assets (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
    external_id text NOT NULL,
    name text NOT NULL DEFAULT '',
    type text NOT NULL DEFAULT 'other'
        CHECK (type IN ('door', 'cnc', 'robot', 'pump', 'motor', 'conveyor', 'other')),
    make text NOT NULL DEFAULT '',
    model text NOT NULL DEFAULT '',
    serial text NOT NULL DEFAULT '',
    installed_on text,
    location text NOT NULL DEFAULT '',
    specifications jsonb NOT NULL DEFAULT '{}',
    tags jsonb NOT NULL DEFAULT '[]',
    active boolean NOT NULL DEFAULT true,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (organization_id, external_id)
);
CREATE INDEX assets_site ON assets(site_id);

CREATE INDEX asset_cycles_asset ON asset_cycles(asset_ref, started_at);

CREATE TABLE maintenance_plans (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    asset_id uuid NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    name text NOT NULL,
    every_cycles bigint,
    every_days bigint,
    last_done_at bigint,
    last_done_cycles bigint NOT NULL DEFAULT 0,
    active boolean NOT NULL DEFAULT true,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX maintenance_plans_asset ON maintenance_plans(asset_id);

CREATE TABLE maintenance_tickets (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    asset_id uuid REFERENCES assets(id) ON DELETE CASCADE,
    plan_id uuid REFERENCES maintenance_plans(id) ON DELETE SET NULL,
    event_id uuid,
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'done')),
    assignee_id uuid REFERENCES users(id) ON DELETE SET NULL,
    created_by uuid,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    done_at bigint
);
CREATE INDEX maintenance_tickets_organization ON maintenance_tickets(organization_id, created_at);

CREATE TABLE event_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
    user_id uuid,
    action text NOT NULL,
    from_status text NOT NULL DEFAULT '',
    to_status text NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',
    created_at bigint NOT NULL
);
CREATE INDEX event_log_event ON event_log(event_id, id);
CREATE INDEX events_device_ts ON events(device_id, ts);

CREATE TABLE telemetry_windows (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name text NOT NULL,
    start_ts bigint NOT NULL,
    end_ts bigint NOT NULL,
    stats jsonb NOT NULL DEFAULT '{}',
    received_at bigint NOT NULL,
    UNIQUE (device_id, name, start_ts)
);

CREATE TABLE dashboards (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
    site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
    name text NOT NULL,
    layout jsonb NOT NULL DEFAULT '{}',
    widgets jsonb NOT NULL DEFAULT '[]',
    is_default boolean NOT NULL DEFAULT false,
    shared boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX dashboards_organization ON dashboards(organization_id);
