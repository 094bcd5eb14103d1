-- Invitations: a single-use link that makes a person a member of an account
-- with a role and a vehicle access chosen up front. Pending invitations are
-- not members; the member row is created when the link is accepted.
--
-- Only the SHA-256 of the link's token is stored, so the link cannot be
-- shown again: "copy link" and "resend" replace token_hash with a new one.
-- grants holds the vehicle grants chosen up front as JSON ('[]' for none);
-- they are applied to the new member on acceptance.
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    email           TEXT NOT NULL COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    -- Deleting a role withdraws the invitations to it with it.
    role_id         INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web','mobile','both')),
    vehicle_access  TEXT NOT NULL DEFAULT 'selected' CHECK (vehicle_access IN ('all','selected')),
    grants          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(grants)),
    token_hash      BLOB NOT NULL UNIQUE,
    invited_by      INTEGER REFERENCES members(id) ON DELETE SET NULL,
    invited_by_name TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    sent_at         TEXT NOT NULL,  -- when the current link was issued
    expires_at      TEXT NOT NULL,
    accepted_at     TEXT,
    member_id       INTEGER REFERENCES members(id) ON DELETE SET NULL,
    revoked_at      TEXT,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX invitations_account ON invitations(account_id, id);
CREATE INDEX invitations_role ON invitations(role_id);

-- At most one open invitation per e-mail and account: a second one would
-- leave two valid links with possibly different roles.
CREATE UNIQUE INDEX invitations_open_email ON invitations(account_id, email)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;
