-- Work that must run once across server instances (retention, rollups, offline detection) is
-- claimed here: an instance owns a job until locked_until, then any instance may claim it.
CREATE TABLE jobs (
    name text PRIMARY KEY,
    locked_until bigint NOT NULL,
    last_run_at bigint NOT NULL,
    owner text NOT NULL DEFAULT ''
);
