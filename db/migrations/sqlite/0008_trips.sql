-- Trips, the mileage log: the columns the log shows, a version per trip,
-- finalized months, recurring daily trips and the idempotency keys of
-- trips recorded through the API.
--
-- A trip's purpose is 'business' or 'private' (the app refuses others; the
-- earlier free-text column is kept and holds exactly that word). Odometers
-- are optional: a trip has a distance, and when both odometers are given
-- the distance is their difference.
-- Recurring daily trips: a template that fills the chosen weekdays of a
-- month. weekdays is a bit set, bit 0 = Monday … bit 6 = Sunday.
CREATE TABLE trip_templates (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    vehicle_id       INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    driver_member_id INTEGER REFERENCES members(id) ON DELETE CASCADE,
    client_id        INTEGER REFERENCES clients(id) ON DELETE CASCADE,
    weekdays         INTEGER NOT NULL CHECK (weekdays BETWEEN 1 AND 127),
    distance_km      REAL NOT NULL CHECK (distance_km > 0 AND distance_km <= 5000),
    start_place      TEXT NOT NULL DEFAULT '' CHECK (length(start_place) <= 120),
    end_place        TEXT NOT NULL DEFAULT '' CHECK (length(end_place) <= 120),
    purpose          TEXT NOT NULL CHECK (purpose IN ('business','private')),
    note             TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    created_at       TEXT NOT NULL
);
CREATE INDEX trip_templates_vehicle ON trip_templates(vehicle_id);

ALTER TABLE trips ADD COLUMN odo_start INTEGER CHECK (odo_start BETWEEN 0 AND 9999999);
ALTER TABLE trips ADD COLUMN odo_end INTEGER CHECK (odo_end BETWEEN 0 AND 9999999);
ALTER TABLE trips ADD COLUMN start_place TEXT NOT NULL DEFAULT '' CHECK (length(start_place) <= 120);
ALTER TABLE trips ADD COLUMN end_place TEXT NOT NULL DEFAULT '' CHECK (length(end_place) <= 120);
ALTER TABLE trips ADD COLUMN note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500);
ALTER TABLE trips ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE trips ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
ALTER TABLE trips ADD COLUMN template_id INTEGER REFERENCES trip_templates(id) ON DELETE SET NULL;

-- The lists read pages in (date, id) order: per vehicle, per account, per
-- driver. The odometer index answers "does this range overlap another?".
DROP INDEX trips_vehicle_date;
CREATE INDEX trips_vehicle_date ON trips(vehicle_id, trip_date, id);
DROP INDEX trips_driver;
CREATE INDEX trips_driver ON trips(driver_member_id, trip_date, id);
CREATE INDEX trips_vehicle_odo ON trips(vehicle_id, odo_start) WHERE odo_start IS NOT NULL;
-- A recurring template adds at most one trip per day.
CREATE UNIQUE INDEX trips_template_day ON trips(template_id, trip_date) WHERE template_id IS NOT NULL;

-- A finalized month of one vehicle: read-only for everyone until reopened.
CREATE TABLE trip_months_final (
    vehicle_id   INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    month        TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    finalized_by INTEGER REFERENCES members(id) ON DELETE SET NULL,
    finalized_at TEXT NOT NULL,
    PRIMARY KEY (vehicle_id, month)
) WITHOUT ROWID;

-- The database itself refuses changes to a finalized month, whatever the
-- code path ("finalized: " marks the message for the app).
CREATE TRIGGER trips_final_insert BEFORE INSERT ON trips
WHEN EXISTS (SELECT 1 FROM trip_months_final WHERE vehicle_id = NEW.vehicle_id AND month = substr(NEW.trip_date, 1, 7))
BEGIN
    SELECT RAISE(ABORT, 'finalized: this month of the vehicle is finalized');
END;

-- (A driver leaving the account, which rewrites only driver columns, is
-- not a change of the log.)
CREATE TRIGGER trips_final_update BEFORE UPDATE OF vehicle_id, client_id, trip_date, distance_km, purpose,
    odo_start, odo_end, start_place, end_place, note, version ON trips
WHEN EXISTS (SELECT 1 FROM trip_months_final WHERE vehicle_id = OLD.vehicle_id AND month = substr(OLD.trip_date, 1, 7))
  OR EXISTS (SELECT 1 FROM trip_months_final WHERE vehicle_id = NEW.vehicle_id AND month = substr(NEW.trip_date, 1, 7))
BEGIN
    SELECT RAISE(ABORT, 'finalized: this month of the vehicle is finalized');
END;

CREATE TRIGGER trips_final_delete BEFORE DELETE ON trips
WHEN EXISTS (SELECT 1 FROM trip_months_final WHERE vehicle_id = OLD.vehicle_id AND month = substr(OLD.trip_date, 1, 7))
BEGIN
    SELECT RAISE(ABORT, 'finalized: this month of the vehicle is finalized');
END;


-- Idempotency-Key of API trip creation: a replay answers the first result.
CREATE TABLE trip_idempotency (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    key        TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request    TEXT NOT NULL,  -- hash of the body, to refuse a different request under the same key
    trip_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (member_id, key)
) WITHOUT ROWID;
