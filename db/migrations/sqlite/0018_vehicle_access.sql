-- vehicle_access: who sees which vehicle, at which level, until when,
-- maintained by the triggers below in the transaction of every change of
-- grants, groups and vehicles, so that a member's visible vehicles are
-- read off an index instead of being rebuilt from the group tree on every
-- request.
--
-- One row per (member, vehicle, grant that reaches it): via is 0 for a
-- direct grant on the vehicle, else the id of the granted group (the
-- vehicle's group or one of its ancestors). lvl is 1 for view, 2 for
-- manage; until is the grant's ends_at (NULL: no end). A reader keeps the
-- rows with until IS NULL OR until > now and takes the highest lvl per
-- vehicle: an ended grant stops counting at its end without any job.
-- status and name copy the vehicle's, so that a page of the list, ordered
-- by name, is one range of the vehicle_access_list index.
--
-- Members with all-vehicles access (and the Owner) read the vehicles table
-- itself; their grants, if any are kept, have rows here that nobody reads.
CREATE TABLE vehicle_access (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    vehicle_id INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    via        INTEGER NOT NULL,
    lvl        INTEGER NOT NULL CHECK (lvl IN (1, 2)),
    until      TEXT,
    status     TEXT NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (member_id, vehicle_id, via)
) WITHOUT ROWID;
CREATE INDEX vehicle_access_list ON vehicle_access(member_id, status, name, vehicle_id, lvl, until);
CREATE INDEX vehicle_access_vehicle ON vehicle_access(vehicle_id, via);

-- Direct grants: one row each.
CREATE TRIGGER vehicle_access_direct_insert AFTER INSERT ON member_vehicle_grants
BEGIN
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    SELECT NEW.member_id, v.id, 0, CASE NEW.level WHEN 'manage' THEN 2 ELSE 1 END, NEW.ends_at, v.status, v.name
      FROM vehicles v WHERE v.id = NEW.vehicle_id;
END;

CREATE TRIGGER vehicle_access_direct_delete AFTER DELETE ON member_vehicle_grants
BEGIN
    DELETE FROM vehicle_access WHERE member_id = OLD.member_id AND vehicle_id = OLD.vehicle_id AND via = 0;
END;

CREATE TRIGGER vehicle_access_direct_update AFTER UPDATE ON member_vehicle_grants
BEGIN
    DELETE FROM vehicle_access WHERE member_id = OLD.member_id AND vehicle_id = OLD.vehicle_id AND via = 0;
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    SELECT NEW.member_id, v.id, 0, CASE NEW.level WHEN 'manage' THEN 2 ELSE 1 END, NEW.ends_at, v.status, v.name
      FROM vehicles v WHERE v.id = NEW.vehicle_id;
END;

-- Group grants: a row for every vehicle in the group and its sub-groups.
CREATE TRIGGER vehicle_access_group_insert AFTER INSERT ON member_group_grants
BEGIN
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    WITH RECURSIVE sub(id) AS (
        SELECT NEW.group_id
        UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id
    )
    SELECT NEW.member_id, v.id, NEW.group_id, CASE NEW.level WHEN 'manage' THEN 2 ELSE 1 END, NEW.ends_at, v.status, v.name
      FROM sub JOIN vehicles v ON v.group_id = sub.id;
END;

CREATE TRIGGER vehicle_access_group_delete AFTER DELETE ON member_group_grants
BEGIN
    DELETE FROM vehicle_access WHERE member_id = OLD.member_id AND via = OLD.group_id;
END;

CREATE TRIGGER vehicle_access_group_update AFTER UPDATE ON member_group_grants
BEGIN
    DELETE FROM vehicle_access WHERE member_id = OLD.member_id AND via = OLD.group_id;
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    WITH RECURSIVE sub(id) AS (
        SELECT NEW.group_id
        UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id
    )
    SELECT NEW.member_id, v.id, NEW.group_id, CASE NEW.level WHEN 'manage' THEN 2 ELSE 1 END, NEW.ends_at, v.status, v.name
      FROM sub JOIN vehicles v ON v.group_id = sub.id;
END;

-- Vehicles: a new vehicle gets the rows of the group grants above it; a
-- moved one has its group rows recomputed; a rename or status change is
-- copied; a deleted one loses its rows.
CREATE TRIGGER vehicle_access_vehicle_insert AFTER INSERT ON vehicles
WHEN NEW.group_id IS NOT NULL
BEGIN
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    WITH RECURSIVE up(id) AS (
        SELECT NEW.group_id
        UNION SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL
    )
    SELECT gg.member_id, NEW.id, gg.group_id, CASE gg.level WHEN 'manage' THEN 2 ELSE 1 END, gg.ends_at, NEW.status, NEW.name
      FROM up JOIN member_group_grants gg ON gg.group_id = up.id;
END;

CREATE TRIGGER vehicle_access_vehicle_move AFTER UPDATE OF group_id ON vehicles
WHEN NEW.group_id IS NOT OLD.group_id
BEGIN
    DELETE FROM vehicle_access WHERE vehicle_id = NEW.id AND via != 0;
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    WITH RECURSIVE up(id) AS (
        SELECT NEW.group_id WHERE NEW.group_id IS NOT NULL
        UNION SELECT g.parent_id FROM vehicle_groups g JOIN up ON g.id = up.id WHERE g.parent_id IS NOT NULL
    )
    SELECT gg.member_id, NEW.id, gg.group_id, CASE gg.level WHEN 'manage' THEN 2 ELSE 1 END, gg.ends_at, NEW.status, NEW.name
      FROM up JOIN member_group_grants gg ON gg.group_id = up.id;
END;

CREATE TRIGGER vehicle_access_vehicle_rename AFTER UPDATE OF name, status ON vehicles
WHEN NEW.name IS NOT OLD.name OR NEW.status IS NOT OLD.status
BEGIN
    UPDATE vehicle_access SET name = NEW.name, status = NEW.status WHERE vehicle_id = NEW.id;
END;

CREATE TRIGGER vehicle_access_vehicle_delete AFTER DELETE ON vehicles
BEGIN
    DELETE FROM vehicle_access WHERE vehicle_id = OLD.id;
END;

-- Groups: moving a group under another parent recomputes the group rows
-- of every vehicle in it and its sub-groups.
CREATE TRIGGER vehicle_access_group_move AFTER UPDATE OF parent_id ON vehicle_groups
WHEN NEW.parent_id IS NOT OLD.parent_id
BEGIN
    DELETE FROM vehicle_access WHERE via != 0 AND vehicle_id IN (
        WITH RECURSIVE sub(id) AS (
            SELECT NEW.id
            UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id
        )
        SELECT v.id FROM sub JOIN vehicles v ON v.group_id = sub.id);
    INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
    WITH RECURSIVE sub(id) AS (
        SELECT NEW.id
        UNION SELECT g.id FROM vehicle_groups g JOIN sub ON g.parent_id = sub.id
    ),
    up(gid, aid) AS (
        SELECT id, id FROM sub
        UNION SELECT up.gid, g.parent_id FROM up JOIN vehicle_groups g ON g.id = up.aid WHERE g.parent_id IS NOT NULL
    )
    SELECT gg.member_id, v.id, gg.group_id, CASE gg.level WHEN 'manage' THEN 2 ELSE 1 END, gg.ends_at, v.status, v.name
      FROM up JOIN member_group_grants gg ON gg.group_id = up.aid JOIN vehicles v ON v.group_id = up.gid;
END;

-- The rows of the grants that exist already.
INSERT INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
SELECT g.member_id, v.id, 0, CASE g.level WHEN 'manage' THEN 2 ELSE 1 END, g.ends_at, v.status, v.name
  FROM member_vehicle_grants g JOIN vehicles v ON v.id = g.vehicle_id;

INSERT OR REPLACE INTO vehicle_access (member_id, vehicle_id, via, lvl, until, status, name)
WITH RECURSIVE walk(granted, id) AS (
    SELECT DISTINCT group_id, group_id FROM member_group_grants
    UNION SELECT w.granted, g.id FROM walk w JOIN vehicle_groups g ON g.parent_id = w.id
)
SELECT gg.member_id, v.id, gg.group_id, CASE gg.level WHEN 'manage' THEN 2 ELSE 1 END, gg.ends_at, v.status, v.name
  FROM member_group_grants gg JOIN walk w ON w.granted = gg.group_id JOIN vehicles v ON v.group_id = w.id;
