-- Two-factor sign-in (TOTP, RFC 6238) per login.
-- secret is encrypted (AES-256-GCM under a server key, bound to the user
-- id); confirmed_at is NULL while the login is still setting it up.
-- last_step is the last time step whose code was accepted: a code is
-- accepted once, never again (replay).
CREATE TABLE totp_secrets (
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret       BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    confirmed_at TEXT,
    last_step    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Recovery codes: only their SHA-256 is stored; each works once.
CREATE TABLE totp_recovery_codes (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash BLOB NOT NULL UNIQUE,
    used_at   TEXT
);
CREATE INDEX totp_recovery_codes_user ON totp_recovery_codes(user_id);

-- A login whose password was right and which still has to give a code:
-- the browser holds a random token (its SHA-256 is stored), bound to the
-- login and the membership chosen, valid a few minutes, used once.
CREATE TABLE pending_logins (
    id_hash    BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    next       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX pending_logins_user ON pending_logins(user_id);

-- The roles whose members must use two-factor sign-in (account setting).
-- version counts saves of the setting: a stale save is refused.
CREATE TABLE two_factor_policy (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE TABLE two_factor_roles (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, role_id)
) WITHOUT ROWID;

-- Sign-in history learns the outcomes of the second step: a wrong code,
-- and a code refused while locked. The table is rebuilt to widen its check.
CREATE TABLE sign_ins_new (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    member_id  INTEGER REFERENCES members(id) ON DELETE SET NULL,
    at         TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL CHECK (channel IN ('web', 'api')),
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'wrong_password', 'locked', 'refused', 'wrong_code', 'code_locked'))
);
INSERT INTO sign_ins_new SELECT id, user_id, member_id, at, ip, user_agent, channel, outcome FROM sign_ins;
DROP TABLE sign_ins;
ALTER TABLE sign_ins_new RENAME TO sign_ins;
CREATE INDEX sign_ins_user ON sign_ins(user_id, id);
CREATE INDEX sign_ins_member ON sign_ins(member_id, id) WHERE member_id IS NOT NULL;
