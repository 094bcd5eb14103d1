-- Accounts from the first start: account settings, password reset links
-- (also the "set your password" link of a new account's Owner) and a
-- version on subscriptions so that two renewals cannot overwrite each other.

-- One row per account. Lifetimes are minutes. version counts saves: a save
-- that started from an older version is refused.
CREATE TABLE account_settings (
    account_id            INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    time_zone             TEXT NOT NULL DEFAULT 'UTC' CHECK (length(time_zone) BETWEEN 1 AND 64),
    distance_unit         TEXT NOT NULL DEFAULT 'km' CHECK (distance_unit IN ('km','mi')),
    -- NULL: the server's default (its --invite-ttl).
    invite_ttl_minutes    INTEGER CHECK (invite_ttl_minutes IS NULL OR invite_ttl_minutes BETWEEN 60 AND 43200),
    session_max_minutes   INTEGER NOT NULL DEFAULT 10080 CHECK (session_max_minutes BETWEEN 15 AND 43200),
    session_idle_minutes  INTEGER NOT NULL DEFAULT 720 CHECK (session_idle_minutes BETWEEN 5 AND 43200),
    version               INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
INSERT INTO account_settings (account_id) SELECT id FROM accounts;

ALTER TABLE subscriptions ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- A single-use link to choose a new password. Only the SHA-256 of its token
-- is stored. purpose 'reset' is "forgot password" or a reset sent by an
-- admin; 'setup' is the first password of an Owner created on the command line.
CREATE TABLE password_resets (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    purpose      TEXT NOT NULL DEFAULT 'reset' CHECK (purpose IN ('reset','setup')),
    requested_by TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX password_resets_user ON password_resets(user_id);
