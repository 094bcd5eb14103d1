-- Every editable record carries a version: an edit names the version it
-- started from, and a save from an older version is refused instead of
-- silently overwriting what someone else saved meanwhile. changed_by and
-- changed_at say who saved the current version and when, for the message.
ALTER TABLE members ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE members ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN changed_at TEXT;

ALTER TABLE vehicles ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vehicles ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE vehicles ADD COLUMN changed_at TEXT;

ALTER TABLE clients ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE clients ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN changed_at TEXT;

ALTER TABLE vehicle_groups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE vehicle_groups ADD COLUMN changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE vehicle_groups ADD COLUMN changed_at TEXT;
