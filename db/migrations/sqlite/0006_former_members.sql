-- A deleted member's trips stay, attributed to "former member <name>":
-- driver_member_id goes NULL with the member, driver_name keeps the words.
ALTER TABLE trips ADD COLUMN driver_name TEXT NOT NULL DEFAULT '' CHECK (length(driver_name) <= 220);
