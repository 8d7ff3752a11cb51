-- Organizations, members and sites as the management API serves them.

-- One membership per user, organization and narrowing: granting the same access twice is a
-- conflict, not a second row. Earlier duplicates keep their oldest row.
DELETE FROM memberships a USING memberships b
WHERE a.user_id = b.user_id AND a.organization_id = b.organization_id
  AND a.site_id IS NOT DISTINCT FROM b.site_id AND a.device_id IS NOT DISTINCT FROM b.device_id
  AND (a.created_at, a.id) > (b.created_at, b.id);
CREATE UNIQUE INDEX memberships_unique
    ON memberships(user_id, organization_id, coalesce(site_id::text, ''),
                   coalesce(device_id::text, ''));
CREATE INDEX memberships_site ON memberships(site_id);

-- Device counts per site, and the audit log read newest first across organizations.
CREATE INDEX IF NOT EXISTS devices_site ON devices(site_id);
CREATE INDEX audit_log_created ON audit_log(created_at);
