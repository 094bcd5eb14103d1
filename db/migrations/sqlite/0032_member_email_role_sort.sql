-- The users list sorted by e-mail or by role reads its page through an
-- index in that order (from a cursor), like the other sorts, instead of
-- ordering all the account's members on every view. Those keys are
-- columns of the login and of the role, so each member carries a copy:
-- sort_email is the login's e-mail, sort_role the role's name (both
-- compared without case, as the list orders them). Triggers keep the
-- copies exact in the transaction of every change that moves them: a new
-- member, a member's new role (or login), a login's new e-mail, a role's
-- new name.
ALTER TABLE members ADD COLUMN sort_email TEXT NOT NULL DEFAULT '' COLLATE NOCASE;
ALTER TABLE members ADD COLUMN sort_role TEXT NOT NULL DEFAULT '' COLLATE NOCASE;

UPDATE members SET sort_email = (SELECT email FROM users WHERE id = members.user_id),
                   sort_role = (SELECT name FROM roles WHERE id = members.role_id);

CREATE INDEX members_account_email ON members(account_id, sort_email, id);
CREATE INDEX members_account_role ON members(account_id, sort_role, id);

CREATE TRIGGER members_sort_email_role_insert AFTER INSERT ON members
BEGIN
    UPDATE members SET sort_email = (SELECT email FROM users WHERE id = NEW.user_id),
                       sort_role = (SELECT name FROM roles WHERE id = NEW.role_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER members_sort_email_role_update AFTER UPDATE OF user_id, role_id ON members
BEGIN
    UPDATE members SET sort_email = (SELECT email FROM users WHERE id = NEW.user_id),
                       sort_role = (SELECT name FROM roles WHERE id = NEW.role_id)
     WHERE id = NEW.id;
END;

CREATE TRIGGER users_sort_email AFTER UPDATE OF email ON users
BEGIN
    UPDATE members SET sort_email = NEW.email WHERE user_id = NEW.id;
END;

CREATE TRIGGER roles_sort_role AFTER UPDATE OF name ON roles
BEGIN
    UPDATE members SET sort_role = NEW.name WHERE role_id = NEW.id;
END;
