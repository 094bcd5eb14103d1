-- Vehicles, their group tree, clients, vehicle-client pairing, the vehicle
-- access of members (grants on vehicles and on groups), and a minimal trips
-- table (the trips screens come later; clients need it to refuse deletion).
-- Every table carries or reaches account_id; triggers refuse rows that would
-- tie together two accounts, so no query can ever join across accounts.

CREATE TABLE vehicle_groups (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES vehicle_groups(id),
    name       TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 60),
    created_at TEXT NOT NULL
);
-- A name is unique among its siblings (case-insensitive).
CREATE UNIQUE INDEX vehicle_groups_name ON vehicle_groups(account_id, ifnull(parent_id, 0), name);
CREATE INDEX vehicle_groups_parent ON vehicle_groups(parent_id);

CREATE TRIGGER vehicle_groups_parent_insert BEFORE INSERT ON vehicle_groups
WHEN NEW.parent_id IS NOT NULL
 AND (SELECT account_id FROM vehicle_groups WHERE id = NEW.parent_id) IS NOT NEW.account_id
BEGIN
    SELECT RAISE(ABORT, 'account: a group can only sit under a group of its own account');
END;

CREATE TRIGGER vehicle_groups_parent_update BEFORE UPDATE OF parent_id, account_id ON vehicle_groups
WHEN NEW.account_id != OLD.account_id
  OR (NEW.parent_id IS NOT NULL
      AND (SELECT account_id FROM vehicle_groups WHERE id = NEW.parent_id) IS NOT NEW.account_id)
  OR NEW.parent_id = NEW.id
BEGIN
    SELECT RAISE(ABORT, 'account: a group can only sit under another group of its own account');
END;

-- status: archived vehicles keep their history and grants but do not count
-- against the subscription's paid vehicles.
CREATE TABLE vehicles (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id    INTEGER REFERENCES vehicle_groups(id),
    name        TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 80),
    plate       TEXT NOT NULL DEFAULT '' COLLATE NOCASE CHECK (length(plate) <= 20),
    vin         TEXT NOT NULL DEFAULT '' COLLATE NOCASE CHECK (length(vin) <= 17),
    odometer_km INTEGER NOT NULL DEFAULT 0 CHECK (odometer_km BETWEEN 0 AND 9999999),
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','archived')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- The list of all vehicles, by name, per status; the scoped list walks
-- group_id; the subscription counts active vehicles per account.
CREATE INDEX vehicles_account_list ON vehicles(account_id, status, name, id);
CREATE INDEX vehicles_group ON vehicles(group_id, status, name);
CREATE UNIQUE INDEX vehicles_vin ON vehicles(account_id, vin) WHERE vin != '';

-- Substring search over name, plate and VIN without reading every row: a
-- trigram full-text index kept in step with the table by triggers. The
-- list uses it for search words of three characters or more.
CREATE VIRTUAL TABLE vehicles_search USING fts5(name, plate, vin, content='vehicles', content_rowid='id', tokenize='trigram');

CREATE TRIGGER vehicles_search_insert AFTER INSERT ON vehicles
BEGIN
    INSERT INTO vehicles_search (rowid, name, plate, vin) VALUES (NEW.id, NEW.name, NEW.plate, NEW.vin);
END;

CREATE TRIGGER vehicles_search_delete AFTER DELETE ON vehicles
BEGIN
    INSERT INTO vehicles_search (vehicles_search, rowid, name, plate, vin) VALUES ('delete', OLD.id, OLD.name, OLD.plate, OLD.vin);
END;

CREATE TRIGGER vehicles_search_update AFTER UPDATE OF name, plate, vin ON vehicles
BEGIN
    INSERT INTO vehicles_search (vehicles_search, rowid, name, plate, vin) VALUES ('delete', OLD.id, OLD.name, OLD.plate, OLD.vin);
    INSERT INTO vehicles_search (rowid, name, plate, vin) VALUES (NEW.id, NEW.name, NEW.plate, NEW.vin);
END;

CREATE TRIGGER vehicles_group_insert BEFORE INSERT ON vehicles
WHEN NEW.group_id IS NOT NULL
 AND (SELECT account_id FROM vehicle_groups WHERE id = NEW.group_id) IS NOT NEW.account_id
BEGIN
    SELECT RAISE(ABORT, 'account: a vehicle can only be in a group of its own account');
END;

CREATE TRIGGER vehicles_group_update BEFORE UPDATE OF group_id, account_id ON vehicles
WHEN NEW.account_id != OLD.account_id
  OR (NEW.group_id IS NOT NULL
      AND (SELECT account_id FROM vehicle_groups WHERE id = NEW.group_id) IS NOT NEW.account_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a vehicle can only be in a group of its own account');
END;

CREATE TABLE clients (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 100),
    email      TEXT NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    phone      TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    address    TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 200),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX clients_name ON clients(account_id, name);

CREATE TRIGGER clients_account_update BEFORE UPDATE OF account_id ON clients
BEGIN
    SELECT RAISE(ABORT, 'account: a client cannot move to another account');
END;

-- Pairing: a vehicle with pairings may be used only with its paired
-- clients; one without, with any client (rule 4).
CREATE TABLE vehicle_clients (
    vehicle_id INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    client_id  INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, client_id)
) WITHOUT ROWID;
CREATE INDEX vehicle_clients_client ON vehicle_clients(client_id, vehicle_id);

CREATE TRIGGER vehicle_clients_same_account BEFORE INSERT ON vehicle_clients
WHEN (SELECT account_id FROM vehicles WHERE id = NEW.vehicle_id)
     IS NOT (SELECT account_id FROM clients WHERE id = NEW.client_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a vehicle can only be paired with a client of its own account');
END;

-- Vehicle access of members whose vehicle_access is 'selected': grants on
-- single vehicles and on groups (covering their sub-groups). ends_at (UTC,
-- RFC 3339, whole seconds) is the moment the grant stops applying.
CREATE TABLE member_vehicle_grants (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    vehicle_id INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('view','manage')),
    ends_at    TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (member_id, vehicle_id)
) WITHOUT ROWID;
CREATE INDEX member_vehicle_grants_vehicle ON member_vehicle_grants(vehicle_id);

CREATE TABLE member_group_grants (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL REFERENCES vehicle_groups(id) ON DELETE CASCADE,
    level      TEXT NOT NULL CHECK (level IN ('view','manage')),
    ends_at    TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (member_id, group_id)
) WITHOUT ROWID;
CREATE INDEX member_group_grants_group ON member_group_grants(group_id);

CREATE TRIGGER member_vehicle_grants_same_account BEFORE INSERT ON member_vehicle_grants
WHEN (SELECT account_id FROM members WHERE id = NEW.member_id)
     IS NOT (SELECT account_id FROM vehicles WHERE id = NEW.vehicle_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a grant can only name a vehicle of the member''s account');
END;

CREATE TRIGGER member_group_grants_same_account BEFORE INSERT ON member_group_grants
WHEN (SELECT account_id FROM members WHERE id = NEW.member_id)
     IS NOT (SELECT account_id FROM vehicle_groups WHERE id = NEW.group_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a grant can only name a group of the member''s account');
END;

-- Trips: only what this feature needs (a client in use cannot be deleted).
-- The trips feature adds its screens and, if needed, columns.
CREATE TABLE trips (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vehicle_id       INTEGER NOT NULL REFERENCES vehicles(id),
    driver_member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    client_id        INTEGER REFERENCES clients(id),
    trip_date        TEXT NOT NULL,
    distance_km      REAL NOT NULL DEFAULT 0 CHECK (distance_km >= 0),
    purpose          TEXT NOT NULL DEFAULT '' CHECK (length(purpose) <= 200),
    created_at       TEXT NOT NULL
);
CREATE INDEX trips_vehicle_date ON trips(vehicle_id, trip_date);
CREATE INDEX trips_account_date ON trips(account_id, trip_date);
CREATE INDEX trips_client ON trips(client_id);
CREATE INDEX trips_driver ON trips(driver_member_id);

CREATE TRIGGER trips_same_account BEFORE INSERT ON trips
WHEN (SELECT account_id FROM vehicles WHERE id = NEW.vehicle_id) IS NOT NEW.account_id
  OR (NEW.client_id IS NOT NULL AND (SELECT account_id FROM clients WHERE id = NEW.client_id) IS NOT NEW.account_id)
  OR (NEW.driver_member_id IS NOT NULL AND (SELECT account_id FROM members WHERE id = NEW.driver_member_id) IS NOT NEW.account_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a trip can only name a vehicle, client and driver of its own account');
END;

CREATE TRIGGER trips_same_account_update BEFORE UPDATE OF account_id, vehicle_id, client_id, driver_member_id ON trips
WHEN (SELECT account_id FROM vehicles WHERE id = NEW.vehicle_id) IS NOT NEW.account_id
  OR (NEW.client_id IS NOT NULL AND (SELECT account_id FROM clients WHERE id = NEW.client_id) IS NOT NEW.account_id)
  OR (NEW.driver_member_id IS NOT NULL AND (SELECT account_id FROM members WHERE id = NEW.driver_member_id) IS NOT NEW.account_id)
BEGIN
    SELECT RAISE(ABORT, 'account: a trip can only name a vehicle, client and driver of its own account');
END;
