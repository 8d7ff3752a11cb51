-- Work that must run once across server instances (retention, rollups, offline detection) is
-- claimed here: an instance owns a job until locked_until, then any instance may claim it.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    locked_until INTEGER NOT NULL,
    last_run_at INTEGER NOT NULL,
    owner TEXT NOT NULL DEFAULT ''
);
