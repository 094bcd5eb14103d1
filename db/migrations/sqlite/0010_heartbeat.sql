-- One row that the readiness check (/readyz) rewrites to prove that the
-- database still accepts writes (not a read-only file, not a full disk).
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at TEXT NOT NULL
);
