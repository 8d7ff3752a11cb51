-- The same tables as migrations/sqlite/0001_foundation.sql, in PostgreSQL's own types:
-- ids are uuid, times are bigint microseconds since the epoch, JSON is jsonb.

-- Organizations, users and memberships.
CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_at bigint NOT NULL
);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    totp_secret bytea,
    is_staff boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    time_zone text NOT NULL DEFAULT 'UTC',
    preferences jsonb NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
-- Emails compare without case, as SQLite's COLLATE NOCASE does.
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sites (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name text NOT NULL,
    code text,
    address text NOT NULL DEFAULT '',
    time_zone text NOT NULL DEFAULT 'UTC',
    operating_hours jsonb NOT NULL DEFAULT '{}',
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE memberships (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'operator', 'technician', 'viewer')),
    site_id uuid,
    device_id uuid,
    created_at bigint NOT NULL
);
CREATE INDEX memberships_user ON memberships(user_id);
CREATE INDEX memberships_organization ON memberships(organization_id);

-- Devices and their keys. A key is stored as the SHA-256 of its secret part.
CREATE TABLE devices (
    id uuid PRIMARY KEY,
    organization_id uuid REFERENCES organizations(id) ON DELETE SET NULL,
    serial text NOT NULL UNIQUE,
    name text NOT NULL DEFAULT '',
    model text NOT NULL DEFAULT 'esocore-edge',
    firmware_version text NOT NULL DEFAULT '',
    firmware_channel text NOT NULL DEFAULT 'stable'
        CHECK (firmware_channel IN ('stable', 'beta', 'dev')),
    site_id uuid REFERENCES sites(id) ON DELETE SET NULL,
    asset_id text,
    tags jsonb NOT NULL DEFAULT '[]',
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('unclaimed', 'active', 'maintenance', 'inactive', 'decommissioned')),
    config_overrides jsonb NOT NULL DEFAULT '{}',
    health jsonb NOT NULL DEFAULT '{}',
    last_seen bigint,
    first_seen bigint,
    claimed_at bigint,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX devices_organization ON devices(organization_id);

CREATE TABLE device_keys (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    prefix text NOT NULL,
    secret_hash text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint
);
CREATE INDEX device_keys_device ON device_keys(device_id);
CREATE INDEX device_keys_prefix ON device_keys(prefix);

CREATE TABLE config_profiles (
    id uuid PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    model text NOT NULL,
    settings jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 1,
    updated_at bigint NOT NULL,
    UNIQUE (organization_id, model)
);

-- The ingest ledger: one row per accepted Idempotency-Key, kept for replays.
CREATE TABLE packets (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    idempotency_key text NOT NULL,
    body_sha256 text NOT NULL,
    received_at bigint NOT NULL,
    accepted bigint NOT NULL,
    duplicates bigint NOT NULL,
    rejected bigint NOT NULL,
    points bigint NOT NULL,
    events bigint NOT NULL,
    errors jsonb NOT NULL DEFAULT '[]',
    UNIQUE (device_id, idempotency_key)
);
CREATE INDEX packets_received ON packets(received_at);

-- Telemetry: a series is device x metric name; a point is (series, ts), one row each.
CREATE TABLE series (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    name text NOT NULL,
    unit text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    UNIQUE (device_id, name)
);

-- Points are partitioned by calendar month (UTC) of ts, so that retention drops whole
-- partitions instead of deleting rows. The server creates the partitions ahead of time
-- (esocore_ensure_month_partition below); a point outside every partition is refused.
CREATE TABLE points (
    series_id bigint NOT NULL,
    ts bigint NOT NULL,
    value double precision NOT NULL,
    meta jsonb,
    PRIMARY KEY (series_id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE events (
    id uuid PRIMARY KEY,
    organization_id uuid,
    device_id uuid REFERENCES devices(id) ON DELETE CASCADE,
    asset_ref text NOT NULL DEFAULT '',
    site_ref text NOT NULL DEFAULT '',
    ts bigint NOT NULL,
    received_at bigint NOT NULL,
    type text NOT NULL,
    category text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    description text NOT NULL DEFAULT '',
    duration_ms bigint,
    metadata jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'acknowledged', 'resolved', 'suppressed')),
    acknowledged_by uuid,
    acknowledged_at bigint,
    resolved_by uuid,
    resolved_at bigint,
    UNIQUE (device_id, type, ts)
);
CREATE INDEX events_organization_ts ON events(organization_id, ts);

CREATE TABLE asset_cycles (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    asset_ref text NOT NULL,
    cycle_id bigint NOT NULL,
    cycle_type text NOT NULL DEFAULT 'cycle',
    started_at bigint,
    ended_at bigint,
    duration_ms bigint,
    metadata jsonb NOT NULL DEFAULT '{}',
    UNIQUE (device_id, asset_ref, cycle_id)
);

-- Firmware bundles and each device's update progress.
CREATE TABLE firmware_bundles (
    id uuid PRIMARY KEY,
    version text NOT NULL,
    channel text NOT NULL CHECK (channel IN ('stable', 'beta', 'dev')),
    models jsonb NOT NULL DEFAULT '[]',
    release_notes text NOT NULL DEFAULT '',
    size bigint NOT NULL,
    sha256 text NOT NULL,
    signature text NOT NULL,
    path text NOT NULL,
    created_at bigint NOT NULL,
    UNIQUE (version, channel)
);

-- seq orders updates saved within one microsecond, as SQLite's rowid does.
CREATE TABLE device_updates (
    id uuid PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    device_id uuid NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    bundle_id uuid NOT NULL REFERENCES firmware_bundles(id) ON DELETE CASCADE,
    from_version text NOT NULL DEFAULT '',
    to_version text NOT NULL,
    status text NOT NULL CHECK (status IN ('offered', 'downloading', 'installing', 'completed',
                                           'failed', 'rolled_back')),
    error text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
);
CREATE INDEX device_updates_device ON device_updates(device_id, updated_at);

CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id uuid,
    organization_id uuid,
    action text NOT NULL,
    target_type text NOT NULL DEFAULT '',
    target_id text NOT NULL DEFAULT '',
    summary text NOT NULL DEFAULT '',
    ip_address text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    created_at bigint NOT NULL
);
CREATE INDEX audit_log_organization ON audit_log(organization_id, created_at);

-- Creates the partition of `parent` for the UTC calendar month that starts at
-- `month_start` (microseconds), named <parent>_pYYYYMM, unless it exists. Callers hold the
-- partition advisory lock: concurrent CREATE TABLE of one name fails instead of waiting.
CREATE FUNCTION esocore_ensure_month_partition(parent text, month_start bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    first_day timestamptz := to_timestamp(month_start / 1000000.0);
    next_start bigint :=
        (extract(epoch FROM (first_day AT TIME ZONE 'UTC' + interval '1 month')
                 AT TIME ZONE 'UTC') * 1000000)::bigint;
    partition_name text := parent || '_p' || to_char(first_day AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
                   partition_name, parent, month_start, next_start);
    RETURN true;
END
$$;
