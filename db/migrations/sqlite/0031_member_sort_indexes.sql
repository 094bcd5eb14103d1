-- The users list sorted by status or by last sign-in reads its page
-- through an index in that order (from a cursor), instead of sorting all
-- the account's members on every view. The expressions are those of the
-- list's ORDER BY (never signed in last, either way).
CREATE INDEX members_account_status ON members(account_id, status, id);
CREATE INDEX members_account_login ON members(account_id, last_login_at IS NULL, last_login_at, id);
CREATE INDEX members_account_login_desc ON members(account_id, last_login_at IS NULL, last_login_at DESC, id DESC);
