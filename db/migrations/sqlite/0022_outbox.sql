-- The outbox: every e-mail is written here in the same transaction as the
-- change that causes it, then delivered by the background sender, which
-- retries with backoff. A crash or an SMTP outage loses nothing; a message
-- is marked sent once, when the server accepted it.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER REFERENCES accounts(id) ON DELETE CASCADE, -- NULL: not about one account (e.g. a password reset of a login)
    member_id       INTEGER REFERENCES members(id) ON DELETE SET NULL, -- the recipient, when a member
    to_addr         TEXT NOT NULL,
    kind            TEXT NOT NULL,              -- what it is about: "invitation", "role.changed", …
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,              -- plain text
    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,              -- RFC 3339 UTC; when the sender may try it
    last_error      TEXT NOT NULL DEFAULT '',   -- the server's answer to the last failed attempt
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbox_account ON outbox(account_id, id);
