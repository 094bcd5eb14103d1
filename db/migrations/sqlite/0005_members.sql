-- Bearer tokens of the mobile channel (the JSON API). Only a hash is
-- stored; deactivating a member deletes their tokens at once.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '' CHECK (length(name) <= 60),
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_member ON api_tokens(member_id);
