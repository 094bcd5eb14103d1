-- Monthly roll-ups of trips, kept by the triggers below in the
-- transaction of every insert, update and delete of a trip, so that the
-- dashboard of a member who sees every trip of the account (all vehicles,
-- not "own trips only", no history limit inside the months shown) reads a
-- few rows per month instead of every trip of the months.
--
-- month is the trip's date's month ('YYYY-MM' of trip_date, a date of the
-- account's calendar). Each row counts the trips and sums their distance
-- by purpose: b_* the trips whose purpose is 'business', p_* all others.
-- A row whose counts reach zero is deleted, so that a row of
-- trip_vehicle_months exists exactly when the vehicle has a trip that
-- month. trip_client_months counts only trips with a client.
--
-- The distance of a purpose whose count reaches zero is reset to 0, so
-- that adding and subtracting distances leaves no rounding residue.

CREATE TABLE trip_months (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    b_trips    INTEGER NOT NULL,
    b_km       REAL NOT NULL,
    p_trips    INTEGER NOT NULL,
    p_km       REAL NOT NULL,
    PRIMARY KEY (account_id, month)
) WITHOUT ROWID;
CREATE TABLE trip_vehicle_months (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    vehicle_id INTEGER NOT NULL,
    b_trips    INTEGER NOT NULL,
    b_km       REAL NOT NULL,
    p_trips    INTEGER NOT NULL,
    p_km       REAL NOT NULL,
    PRIMARY KEY (account_id, month, vehicle_id)
) WITHOUT ROWID;
-- A month's vehicles by distance: the top of the dashboard without a sort.
CREATE INDEX trip_vehicle_months_top ON trip_vehicle_months(account_id, month, (b_km + p_km) DESC, vehicle_id);
CREATE TABLE trip_client_months (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    client_id  INTEGER NOT NULL,
    b_trips    INTEGER NOT NULL,
    b_km       REAL NOT NULL,
    p_trips    INTEGER NOT NULL,
    p_km       REAL NOT NULL,
    PRIMARY KEY (account_id, month, client_id)
) WITHOUT ROWID;
CREATE TRIGGER trip_rollup_insert AFTER INSERT ON trips
BEGIN
    INSERT INTO trip_months (account_id, month, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7),
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE true
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
    INSERT INTO trip_vehicle_months (account_id, month, vehicle_id, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7), NEW.vehicle_id,
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE true
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
    INSERT INTO trip_client_months (account_id, month, client_id, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7), NEW.client_id,
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE NEW.client_id IS NOT NULL
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
END;
CREATE TRIGGER trip_rollup_delete AFTER DELETE ON trips
BEGIN
    UPDATE trip_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7);
    DELETE FROM trip_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_vehicle_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND vehicle_id = OLD.vehicle_id;
    DELETE FROM trip_vehicle_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND vehicle_id = OLD.vehicle_id AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_client_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND client_id = OLD.client_id;
    DELETE FROM trip_client_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND client_id = OLD.client_id AND b_trips = 0 AND p_trips = 0;
END;
CREATE TRIGGER trip_rollup_update AFTER UPDATE OF account_id, vehicle_id, client_id, trip_date, purpose, distance_km ON trips
BEGIN
    UPDATE trip_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7);
    DELETE FROM trip_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_vehicle_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND vehicle_id = OLD.vehicle_id;
    DELETE FROM trip_vehicle_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND vehicle_id = OLD.vehicle_id AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_client_months SET
           b_km = CASE WHEN b_trips - (OLD.purpose = 'business') = 0 THEN 0 ELSE b_km - (OLD.purpose = 'business') * OLD.distance_km END,
           b_trips = b_trips - (OLD.purpose = 'business'),
           p_km = CASE WHEN p_trips - (OLD.purpose <> 'business') = 0 THEN 0 ELSE p_km - (OLD.purpose <> 'business') * OLD.distance_km END,
           p_trips = p_trips - (OLD.purpose <> 'business')
     WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND client_id = OLD.client_id;
    DELETE FROM trip_client_months WHERE account_id = OLD.account_id AND month = substr(OLD.trip_date, 1, 7) AND client_id = OLD.client_id AND b_trips = 0 AND p_trips = 0;
    INSERT INTO trip_months (account_id, month, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7),
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE true
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
    INSERT INTO trip_vehicle_months (account_id, month, vehicle_id, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7), NEW.vehicle_id,
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE true
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
    INSERT INTO trip_client_months (account_id, month, client_id, b_trips, b_km, p_trips, p_km)
    SELECT NEW.account_id, substr(NEW.trip_date, 1, 7), NEW.client_id,
           NEW.purpose = 'business', CASE WHEN NEW.purpose = 'business' THEN NEW.distance_km ELSE 0 END,
           NEW.purpose <> 'business', CASE WHEN NEW.purpose = 'business' THEN 0 ELSE NEW.distance_km END
     WHERE NEW.client_id IS NOT NULL
    ON CONFLICT DO UPDATE SET b_trips = b_trips + excluded.b_trips, b_km = b_km + excluded.b_km,
                              p_trips = p_trips + excluded.p_trips, p_km = p_km + excluded.p_km;
END;

INSERT INTO trip_months (account_id, month, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), COUNT(CASE WHEN purpose = 'business' THEN 1 END), TOTAL(CASE WHEN purpose = 'business' THEN distance_km END),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), TOTAL(CASE WHEN purpose <> 'business' THEN distance_km END)
  FROM trips
 GROUP BY account_id, substr(trip_date, 1, 7);

INSERT INTO trip_vehicle_months (account_id, month, vehicle_id, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), vehicle_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), TOTAL(CASE WHEN purpose = 'business' THEN distance_km END),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), TOTAL(CASE WHEN purpose <> 'business' THEN distance_km END)
  FROM trips
 GROUP BY account_id, substr(trip_date, 1, 7), vehicle_id;

INSERT INTO trip_client_months (account_id, month, client_id, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), client_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), TOTAL(CASE WHEN purpose = 'business' THEN distance_km END),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), TOTAL(CASE WHEN purpose <> 'business' THEN distance_km END)
  FROM trips WHERE client_id IS NOT NULL
 GROUP BY account_id, substr(trip_date, 1, 7), client_id;
