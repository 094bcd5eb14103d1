-- Access review, part one: which permissions each member actually uses,
-- and the account's review settings.
--
-- permission_uses holds at most one row per member, permission and day
-- (UTC, YYYY-MM-DD): a request that passes the route table's check for a
-- permission is remembered in memory and written in batches with INSERT
-- OR IGNORE, so the primary key is the whole de-duplication.
CREATE TABLE permission_uses (
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    day        TEXT NOT NULL,
    PRIMARY KEY (member_id, permission, day)
) WITHOUT ROWID;

-- stale_after_days: a member who has not signed in for this many days is
-- a finding of the access overview. review_every_days: when a review is
-- finished, the next one is due this many days later (next_review_on, a
-- date in the account's time zone; NULL: no review finished yet).
ALTER TABLE account_settings ADD COLUMN stale_after_days INTEGER NOT NULL DEFAULT 60 CHECK (stale_after_days BETWEEN 7 AND 365);
ALTER TABLE account_settings ADD COLUMN review_every_days INTEGER NOT NULL DEFAULT 90 CHECK (review_every_days BETWEEN 7 AND 730);
ALTER TABLE account_settings ADD COLUMN next_review_on TEXT;
ALTER TABLE account_settings ADD COLUMN review_reminded_on TEXT; -- the due date the Owner was last reminded of
