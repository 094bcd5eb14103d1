-- Sign-in history: every password sign-in of a known login, on the web or
-- for an API token, with its outcome. Failed attempts for unknown e-mails
-- are not stored (they only reach the server log).
CREATE TABLE sign_ins (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    member_id  INTEGER REFERENCES members(id) ON DELETE SET NULL,  -- the account signed in to (success only)
    at         TEXT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL CHECK (channel IN ('web', 'api')),
    outcome    TEXT NOT NULL CHECK (outcome IN ('ok', 'wrong_password', 'locked', 'refused'))
);
CREATE INDEX sign_ins_user ON sign_ins(user_id, id);
CREATE INDEX sign_ins_member ON sign_ins(member_id, id) WHERE member_id IS NOT NULL;
