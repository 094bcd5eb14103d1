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
--
-- SQLite repeats the same statements in each trigger; here they are two
-- plain functions, trip_rollup_add and trip_rollup_sub, that the three
-- triggers call with the new and the old row's values. (SQLite's boolean
-- 0/1 is the comparison cast to an integer; WITHOUT ROWID has no meaning
-- here.)

CREATE TABLE trip_months (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    b_trips    BIGINT NOT NULL,
    b_km       DOUBLE PRECISION NOT NULL,
    p_trips    BIGINT NOT NULL,
    p_km       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, month)
);
CREATE TABLE trip_vehicle_months (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    vehicle_id BIGINT NOT NULL,
    b_trips    BIGINT NOT NULL,
    b_km       DOUBLE PRECISION NOT NULL,
    p_trips    BIGINT NOT NULL,
    p_km       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, month, vehicle_id)
);
-- A month's vehicles by distance: the top of the dashboard without a sort.
CREATE INDEX trip_vehicle_months_top ON trip_vehicle_months(account_id, month, (b_km + p_km) DESC, vehicle_id);
CREATE TABLE trip_client_months (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    client_id  BIGINT NOT NULL,
    b_trips    BIGINT NOT NULL,
    b_km       DOUBLE PRECISION NOT NULL,
    p_trips    BIGINT NOT NULL,
    p_km       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, month, client_id)
);

-- A trip counted in its month, its vehicle's month and (with a client)
-- its client's month.
CREATE OR REPLACE FUNCTION trip_rollup_add(a_account_id bigint, a_trip_date text, a_vehicle_id bigint, a_client_id bigint,
                                a_purpose text, a_distance_km double precision) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b  bigint := (a_purpose = 'business')::int;
    p  bigint := (a_purpose <> 'business')::int;
    bk double precision := CASE WHEN a_purpose = 'business' THEN a_distance_km ELSE 0 END;
    pk double precision := CASE WHEN a_purpose = 'business' THEN 0 ELSE a_distance_km END;
BEGIN
    INSERT INTO trip_months (account_id, month, b_trips, b_km, p_trips, p_km)
    VALUES (a_account_id, substr(a_trip_date, 1, 7), b, bk, p, pk)
    ON CONFLICT (account_id, month) DO UPDATE
       SET b_trips = trip_months.b_trips + excluded.b_trips, b_km = trip_months.b_km + excluded.b_km,
           p_trips = trip_months.p_trips + excluded.p_trips, p_km = trip_months.p_km + excluded.p_km;
    INSERT INTO trip_vehicle_months (account_id, month, vehicle_id, b_trips, b_km, p_trips, p_km)
    VALUES (a_account_id, substr(a_trip_date, 1, 7), a_vehicle_id, b, bk, p, pk)
    ON CONFLICT (account_id, month, vehicle_id) DO UPDATE
       SET b_trips = trip_vehicle_months.b_trips + excluded.b_trips, b_km = trip_vehicle_months.b_km + excluded.b_km,
           p_trips = trip_vehicle_months.p_trips + excluded.p_trips, p_km = trip_vehicle_months.p_km + excluded.p_km;
    IF a_client_id IS NOT NULL THEN
        INSERT INTO trip_client_months (account_id, month, client_id, b_trips, b_km, p_trips, p_km)
        VALUES (a_account_id, substr(a_trip_date, 1, 7), a_client_id, b, bk, p, pk)
        ON CONFLICT (account_id, month, client_id) DO UPDATE
           SET b_trips = trip_client_months.b_trips + excluded.b_trips, b_km = trip_client_months.b_km + excluded.b_km,
               p_trips = trip_client_months.p_trips + excluded.p_trips, p_km = trip_client_months.p_km + excluded.p_km;
    END IF;
END $$;

-- A trip taken out of its months again; a row whose counts reach zero goes.
CREATE OR REPLACE FUNCTION trip_rollup_sub(a_account_id bigint, a_trip_date text, a_vehicle_id bigint, a_client_id bigint,
                                a_purpose text, a_distance_km double precision) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    b bigint := (a_purpose = 'business')::int;
    p bigint := (a_purpose <> 'business')::int;
    m text := substr(a_trip_date, 1, 7);
BEGIN
    UPDATE trip_months SET
           b_km = CASE WHEN b_trips - b = 0 THEN 0 ELSE b_km - b * a_distance_km END,
           b_trips = b_trips - b,
           p_km = CASE WHEN p_trips - p = 0 THEN 0 ELSE p_km - p * a_distance_km END,
           p_trips = p_trips - p
     WHERE account_id = a_account_id AND month = m;
    DELETE FROM trip_months WHERE account_id = a_account_id AND month = m AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_vehicle_months SET
           b_km = CASE WHEN b_trips - b = 0 THEN 0 ELSE b_km - b * a_distance_km END,
           b_trips = b_trips - b,
           p_km = CASE WHEN p_trips - p = 0 THEN 0 ELSE p_km - p * a_distance_km END,
           p_trips = p_trips - p
     WHERE account_id = a_account_id AND month = m AND vehicle_id = a_vehicle_id;
    DELETE FROM trip_vehicle_months WHERE account_id = a_account_id AND month = m AND vehicle_id = a_vehicle_id AND b_trips = 0 AND p_trips = 0;
    UPDATE trip_client_months SET
           b_km = CASE WHEN b_trips - b = 0 THEN 0 ELSE b_km - b * a_distance_km END,
           b_trips = b_trips - b,
           p_km = CASE WHEN p_trips - p = 0 THEN 0 ELSE p_km - p * a_distance_km END,
           p_trips = p_trips - p
     WHERE account_id = a_account_id AND month = m AND client_id = a_client_id;
    DELETE FROM trip_client_months WHERE account_id = a_account_id AND month = m AND client_id = a_client_id AND b_trips = 0 AND p_trips = 0;
END $$;

CREATE OR REPLACE FUNCTION trip_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM trip_rollup_add(NEW.account_id, NEW.trip_date, NEW.vehicle_id, NEW.client_id, NEW.purpose, NEW.distance_km);
    RETURN NULL;
END $$;
CREATE TRIGGER trip_rollup_insert AFTER INSERT ON trips
FOR EACH ROW EXECUTE FUNCTION trip_rollup_insert();

CREATE OR REPLACE FUNCTION trip_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM trip_rollup_sub(OLD.account_id, OLD.trip_date, OLD.vehicle_id, OLD.client_id, OLD.purpose, OLD.distance_km);
    RETURN NULL;
END $$;
CREATE TRIGGER trip_rollup_delete AFTER DELETE ON trips
FOR EACH ROW EXECUTE FUNCTION trip_rollup_delete();

CREATE OR REPLACE FUNCTION trip_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM trip_rollup_sub(OLD.account_id, OLD.trip_date, OLD.vehicle_id, OLD.client_id, OLD.purpose, OLD.distance_km);
    PERFORM trip_rollup_add(NEW.account_id, NEW.trip_date, NEW.vehicle_id, NEW.client_id, NEW.purpose, NEW.distance_km);
    RETURN NULL;
END $$;
CREATE TRIGGER trip_rollup_update AFTER UPDATE OF account_id, vehicle_id, client_id, trip_date, purpose, distance_km ON trips
FOR EACH ROW EXECUTE FUNCTION trip_rollup_update();

-- The roll-ups of the trips that exist already (SQLite's TOTAL() is a
-- SUM that is 0.0 over no rows).
INSERT INTO trip_months (account_id, month, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), COUNT(CASE WHEN purpose = 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0)
  FROM trips
 GROUP BY account_id, substr(trip_date, 1, 7);

INSERT INTO trip_vehicle_months (account_id, month, vehicle_id, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), vehicle_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0)
  FROM trips
 GROUP BY account_id, substr(trip_date, 1, 7), vehicle_id;

INSERT INTO trip_client_months (account_id, month, client_id, b_trips, b_km, p_trips, p_km)
SELECT account_id, substr(trip_date, 1, 7), client_id, COUNT(CASE WHEN purpose = 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose = 'business' THEN distance_km END), 0),
       COUNT(CASE WHEN purpose <> 'business' THEN 1 END), COALESCE(SUM(CASE WHEN purpose <> 'business' THEN distance_km END), 0)
  FROM trips WHERE client_id IS NOT NULL
 GROUP BY account_id, substr(trip_date, 1, 7), client_id;
