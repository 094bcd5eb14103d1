-- Role history: every saved state of a role's permissions, with who saved
-- it and when, so a version can be compared with the current one and
-- restored. roles.version is the number of the current row here.
--
-- permissions is a JSON object of permission key to its scopes, e.g.
-- {"trips.view":{"own_only":1},"vehicles.view":{}}.
-- saved_by_name keeps the name as it was, so history reads right after the
-- member is gone (saved_by_member_id is then NULL).
CREATE TABLE role_versions (
    role_id            INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    version            INTEGER NOT NULL CHECK (version >= 1),
    permissions        TEXT NOT NULL DEFAULT '{}',
    saved_by_member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    saved_by_name      TEXT NOT NULL DEFAULT '',
    saved_at           TEXT NOT NULL,
    note               TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    PRIMARY KEY (role_id, version)
) WITHOUT ROWID;

-- Roles that exist already get their current state as their first known
-- version. Roles created later without a version row (the built-in roles
-- of new accounts) get one lazily, at their first save (db/roles.go).
INSERT INTO role_versions (role_id, version, permissions, saved_by_name, saved_at, note)
SELECT r.id, r.version,
       COALESCE((SELECT json_group_object(rp.permission, json(rp.scopes))
                   FROM role_permissions rp WHERE rp.role_id = r.id), '{}'),
       'system', r.updated_at, 'State before role history was kept'
  FROM roles r;
