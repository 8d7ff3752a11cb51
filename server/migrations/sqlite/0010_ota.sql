-- Firmware rollouts (DESIGN §8). Firmware bundles are platform-wide; a rollout is one
-- organization's plan to offer one bundle to its devices: all of them (immediate), a stable
-- share of them (staged: a device is admitted when its bucket, from the SHA-256 of its id, is
-- below percentage_bp, in hundredths of a percent), or chosen ones (manual: device_ids and/or
-- a tag). A rollout pauses itself when failed and rolled-back updates reach failure_minimum
-- and failure_threshold_bp of the updates that finished.
CREATE TABLE rollouts (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    bundle_id TEXT NOT NULL REFERENCES firmware_bundles(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL CHECK (kind IN ('immediate', 'staged', 'manual')),
    percentage_bp INTEGER NOT NULL CHECK (percentage_bp BETWEEN 0 AND 10000),
    device_ids TEXT NOT NULL DEFAULT '[]',
    tag TEXT,
    failure_threshold_bp INTEGER NOT NULL CHECK (failure_threshold_bp BETWEEN 1 AND 10000),
    failure_minimum INTEGER NOT NULL CHECK (failure_minimum >= 1),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'completed', 'cancelled')),
    paused_reason TEXT,
    paused_at INTEGER,
    created_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX rollouts_organization ON rollouts(organization_id, status);
CREATE INDEX rollouts_bundle ON rollouts(bundle_id);

-- The update a rollout offered to a device; one per device and rollout.
ALTER TABLE device_updates ADD COLUMN rollout_id TEXT REFERENCES rollouts(id) ON DELETE SET NULL;
CREATE UNIQUE INDEX device_updates_device_rollout ON device_updates(device_id, rollout_id);
CREATE INDEX device_updates_rollout ON device_updates(rollout_id, status);

-- Release notes, models and channel can be edited after the upload.
ALTER TABLE firmware_bundles ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
UPDATE firmware_bundles SET updated_at = created_at;
