-- Dashboard and reports: the trips' two date indexes also carry the
-- columns that totals read (purpose, distance, client, driver), so that a
-- member's totals are summed from the index alone instead of reading each
-- trip's row. They keep their names and leading columns (vehicle or
-- account, date, id): the trip lists and their keyset order use them as
-- before.
DROP INDEX trips_vehicle_date;
CREATE INDEX trips_vehicle_date ON trips(vehicle_id, trip_date, id, account_id, driver_member_id, purpose, distance_km, client_id);
DROP INDEX trips_account_date;
CREATE INDEX trips_account_date ON trips(account_id, trip_date, id, vehicle_id, driver_member_id, purpose, distance_km, client_id);
