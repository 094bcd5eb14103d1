-- What an audit event is about, when it is a vehicle, a group or a client:
-- the log shows such an event only to members who can see that thing.
-- Events written before this migration do not say which one they were
-- about; those of the vehicle kinds are kept for members with access to
-- all vehicles (restricted = 1).
ALTER TABLE audit_events ADD COLUMN vehicle_id BIGINT;
ALTER TABLE audit_events ADD COLUMN group_id BIGINT;
ALTER TABLE audit_events ADD COLUMN client_id BIGINT;
ALTER TABLE audit_events ADD COLUMN restricted BIGINT NOT NULL DEFAULT 0;
-- (ILIKE: SQLite's LIKE ignores case.)
UPDATE audit_events SET restricted = 1
 WHERE kind ILIKE 'vehicle.%' OR kind ILIKE 'group.%' OR kind ILIKE 'client.%' OR kind ILIKE 'pairing.%'
    OR kind ILIKE 'trip.%' OR kind IN ('access.grant', 'access.revoke');
