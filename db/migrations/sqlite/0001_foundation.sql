-- Foundation: subscriptions, accounts, logins, members, roles, sessions,
-- audit events and login throttling. Times are UTC RFC 3339 text.

CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    paid_vehicles INTEGER NOT NULL DEFAULT 0 CHECK (paid_vehicles >= 0)
);

-- owner_member_id makes "exactly one Owner per account" structural: the
-- column is NOT NULL and holds one member. The foreign key is deferred so an
-- account and its first member can be created in one transaction.
CREATE TABLE accounts (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    owner_member_id INTEGER NOT NULL REFERENCES members(id) DEFERRABLE INITIALLY DEFERRED,
    created_at      TEXT NOT NULL
);
CREATE INDEX accounts_subscription ON accounts(subscription_id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL DEFAULT '' CHECK (length(first_name) <= 100),
    last_name     TEXT NOT NULL DEFAULT '' CHECK (length(last_name) <= 100),
    phone         TEXT NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    created_at    TEXT NOT NULL
);

CREATE TABLE roles (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 60),
    builtin    TEXT CHECK (builtin IN ('owner','admin','manager','accountant','driver','notifications')),
    version    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (account_id, name),
    UNIQUE (account_id, builtin)
);

-- scopes is a JSON object of scope key to integer, e.g. {"own_only":1}.
CREATE TABLE role_permissions (
    role_id    INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    scopes     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (role_id, permission)
) WITHOUT ROWID;

CREATE TABLE members (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users(id),
    role_id        INTEGER NOT NULL REFERENCES roles(id),
    status         TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('invited','active','deactivated')),
    channel        TEXT NOT NULL DEFAULT 'web' CHECK (channel IN ('web','mobile','both')),
    vehicle_access TEXT NOT NULL DEFAULT 'selected' CHECK (vehicle_access IN ('all','selected')),
    -- sort_name keeps the users list ordered by an index at any size.
    sort_name      TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    last_login_at  TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (account_id, user_id)
);
CREATE INDEX members_account_sort ON members(account_id, sort_name, id);
CREATE INDEX members_role ON members(role_id);
CREATE INDEX members_user ON members(user_id);

CREATE TRIGGER members_sort_name AFTER INSERT ON members
BEGIN
    UPDATE members SET sort_name = (SELECT trim(last_name || ' ' || first_name || ' ' || email) FROM users WHERE id = NEW.user_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER users_sort_name AFTER UPDATE OF first_name, last_name, email ON users
BEGIN
    UPDATE members SET sort_name = trim(NEW.last_name || ' ' || NEW.first_name || ' ' || NEW.email) WHERE user_id = NEW.id;
END;

-- The Owner role is held by the account's owner and nobody else.
CREATE TRIGGER members_owner_role_insert AFTER INSERT ON members
WHEN (NEW.role_id = (SELECT id FROM roles WHERE account_id = NEW.account_id AND builtin = 'owner'))
  != (NEW.id = (SELECT owner_member_id FROM accounts WHERE id = NEW.account_id))
BEGIN
    SELECT RAISE(ABORT, 'owner: the Owner role belongs to the account owner only');
END;

CREATE TRIGGER members_owner_role_update BEFORE UPDATE OF role_id ON members
WHEN (NEW.role_id = (SELECT id FROM roles WHERE account_id = NEW.account_id AND builtin = 'owner'))
  != (NEW.id = (SELECT owner_member_id FROM accounts WHERE id = NEW.account_id))
BEGIN
    SELECT RAISE(ABORT, 'owner: the Owner role belongs to the account owner only');
END;

CREATE TRIGGER members_owner_status BEFORE UPDATE OF status ON members
WHEN NEW.status != 'active'
 AND NEW.id = (SELECT owner_member_id FROM accounts WHERE id = NEW.account_id)
BEGIN
    SELECT RAISE(ABORT, 'owner: the account owner cannot be deactivated');
END;

CREATE TRIGGER members_owner_delete BEFORE DELETE ON members
WHEN OLD.id = (SELECT owner_member_id FROM accounts WHERE id = OLD.account_id)
BEGIN
    SELECT RAISE(ABORT, 'owner: the account owner cannot be deleted');
END;

-- Handing over ownership is one UPDATE of accounts.owner_member_id; the
-- database checks the new owner and swaps the roles itself, so no
-- transaction can leave zero or two Owners behind.
CREATE TRIGGER accounts_owner_check BEFORE UPDATE OF owner_member_id ON accounts
WHEN NOT EXISTS (SELECT 1 FROM members WHERE id = NEW.owner_member_id
                 AND account_id = NEW.id AND status = 'active')
BEGIN
    SELECT RAISE(ABORT, 'owner: the new owner must be an active member of the account');
END;

CREATE TRIGGER accounts_owner_swap AFTER UPDATE OF owner_member_id ON accounts
WHEN NEW.owner_member_id != OLD.owner_member_id
BEGIN
    UPDATE members SET role_id = (SELECT id FROM roles WHERE account_id = NEW.id AND builtin = 'admin')
     WHERE id = OLD.owner_member_id;
    UPDATE members SET role_id = (SELECT id FROM roles WHERE account_id = NEW.id AND builtin = 'owner')
     WHERE id = NEW.owner_member_id;
END;

-- Built-in roles are never deleted or renamed.
CREATE TRIGGER roles_builtin_delete BEFORE DELETE ON roles
WHEN OLD.builtin IS NOT NULL AND EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id)
BEGIN
    SELECT RAISE(ABORT, 'builtin: built-in roles cannot be deleted');
END;

CREATE TRIGGER roles_builtin_rename BEFORE UPDATE OF name, builtin ON roles
WHEN OLD.builtin IS NOT NULL AND (NEW.name != OLD.name OR NEW.builtin IS NOT OLD.builtin)
BEGIN
    SELECT RAISE(ABORT, 'builtin: built-in roles cannot be renamed');
END;

-- A session row is the truth; the cookie only carries a random id whose
-- SHA-256 is stored here. member_id is the account the session works in.
CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    member_id    INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    preview_member_id INTEGER REFERENCES members(id) ON DELETE SET NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    user_agent   TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_member ON sessions(member_id);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    actor_member_id INTEGER,
    actor_name TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    before     TEXT NOT NULL DEFAULT '',
    after      TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX audit_account ON audit_events(account_id, id);

-- Failed logins, per e-mail and per client address, for throttling.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    first_at     TEXT NOT NULL,
    locked_until TEXT
) WITHOUT ROWID;

-- Secrets the server generates once, e.g. the cookie signing key.
CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
