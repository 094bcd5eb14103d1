-- Vehicle watchers: a member who sees a vehicle may watch it and receives
-- an e-mail for each of its changes. A watch of a member who no longer
-- sees the vehicle is dropped (when the access ends, and again before any
-- message would go out).
-- (SQLite: WITHOUT ROWID, no meaning here.)
CREATE TABLE vehicle_watches (
    member_id  BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    vehicle_id BIGINT NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (member_id, vehicle_id)
);
CREATE INDEX vehicle_watches_vehicle ON vehicle_watches(vehicle_id, member_id);
