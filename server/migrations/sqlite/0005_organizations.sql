-- Organizations, members and sites as the management API serves them.

-- One membership per user, organization and narrowing: granting the same access twice is a
-- conflict, not a second row. Earlier duplicates keep their oldest row.
DELETE FROM memberships WHERE rowid NOT IN (
    SELECT min(rowid) FROM memberships
    GROUP BY user_id, organization_id, coalesce(site_id, ''), coalesce(device_id, ''));
CREATE UNIQUE INDEX memberships_unique
    ON memberships(user_id, organization_id, coalesce(site_id, ''), coalesce(device_id, ''));
CREATE INDEX memberships_site ON memberships(site_id);

-- Device counts per site, and the audit log read newest first across organizations.
CREATE INDEX IF NOT EXISTS devices_site ON devices(site_id);
CREATE INDEX audit_log_created ON audit_log(created_at);
