-- Idempotency-Key of API creates (every POST that creates something but
-- trips, which keep theirs in trip_idempotency): the first request under a
-- key reserves it (status 0), its answer is stored once it succeeded, and a
-- replay answers that stored result. request is a hash of the method, the
-- path and the body: the same key with another request is refused.
CREATE TABLE api_idempotency (
    id           INTEGER PRIMARY KEY,
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    key          TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request      TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,   -- 0: the first request is still being answered
    content_type TEXT NOT NULL DEFAULT '',
    location     TEXT NOT NULL DEFAULT '',
    body         BLOB NOT NULL DEFAULT x'',
    created_at   TEXT NOT NULL,
    UNIQUE (member_id, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency(created_at);
