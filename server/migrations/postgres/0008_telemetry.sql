-- Indexes for the telemetry and dashboard queries of the management API: a device's ingest
-- ledger and windows in time order, and a user's own dashboards.

CREATE INDEX packets_device_received ON packets(device_id, received_at);
CREATE INDEX telemetry_windows_device_start ON telemetry_windows(device_id, start_ts);
CREATE INDEX dashboards_owner ON dashboards(owner_id);
