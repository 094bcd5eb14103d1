-- What each member wants to receive by e-mail, per kind of message. Only
-- choices a member (or, for a Notifications-only member, someone with
-- users.manage) made are stored; a kind without a row has its default
-- (see the kinds in db/notify.go).
-- (SQLite: WITHOUT ROWID, here and below, no meaning here.)
CREATE TABLE mail_preferences (
    member_id  BIGINT NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    enabled    BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (member_id, kind)
);

-- What the scheduled messages have already sent, for which subject and
-- period: a restart (or a second run) finds the row and sends nothing twice.
CREATE TABLE mail_schedule (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,  -- e.g. "grants.ending", "digest.weekly"
    subject    TEXT NOT NULL,  -- what it was about, e.g. "vehicle:12:member:4"
    period     TEXT NOT NULL,  -- e.g. the grant's end, the week "2026-W48"
    sent_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, subject, period)
);

-- The key that signs the one-click unsubscribe links of e-mails, made once.
-- SQLite's randomblob(32): 32 bytes from two gen_random_uuid() (the
-- server's strong random source, no extension needed; 244 random bits,
-- the rest are the UUIDs' fixed version bits).
INSERT INTO app_secrets (name, value)
VALUES ('unsubscribe-key', decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'))
ON CONFLICT (name) DO NOTHING;
