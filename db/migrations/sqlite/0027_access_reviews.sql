-- Access reviews: a reviewer goes through the members in their reach and
-- decides for each: keep, change (their role or access was edited) or
-- revoke (deactivated). A review can be left and resumed; once finished
-- it is a record: neither it nor its decisions change again (the triggers
-- below refuse it, whatever the code does).
CREATE TABLE access_reviews (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    reviewer_id   INTEGER REFERENCES members(id) ON DELETE SET NULL,
    reviewer_name TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500)
);
CREATE INDEX access_reviews_account ON access_reviews(account_id, id);
-- One open review per reviewer and account: starting again resumes it.
CREATE UNIQUE INDEX access_reviews_open ON access_reviews(account_id, reviewer_id) WHERE finished_at IS NULL;

-- One line per member under review, written when the review starts (who
-- they were then: name, e-mail, role, vehicle access), with the decision.
CREATE TABLE access_review_items (
    review_id  INTEGER NOT NULL REFERENCES access_reviews(id) ON DELETE CASCADE,
    member_id  INTEGER NOT NULL, -- no foreign key: the record outlives the member
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role_name  TEXT NOT NULL,
    access     TEXT NOT NULL,
    decision   TEXT CHECK (decision IN ('keep', 'change', 'revoke')),
    decided_at TEXT,
    PRIMARY KEY (review_id, member_id)
) WITHOUT ROWID;
CREATE INDEX access_review_items_position ON access_review_items(review_id, position);

CREATE TRIGGER access_reviews_finished_update BEFORE UPDATE ON access_reviews
WHEN OLD.finished_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'review: a finished review cannot be changed');
END;

CREATE TRIGGER access_reviews_finished_delete BEFORE DELETE ON access_reviews
WHEN OLD.finished_at IS NOT NULL AND EXISTS (SELECT 1 FROM accounts WHERE id = OLD.account_id)
BEGIN
    SELECT RAISE(ABORT, 'review: a finished review cannot be deleted');
END;

CREATE TRIGGER access_review_items_finished_update BEFORE UPDATE ON access_review_items
WHEN (SELECT finished_at FROM access_reviews WHERE id = OLD.review_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'review: a finished review cannot be changed');
END;

CREATE TRIGGER access_review_items_finished_insert BEFORE INSERT ON access_review_items
WHEN (SELECT finished_at FROM access_reviews WHERE id = NEW.review_id) IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'review: a finished review cannot be changed');
END;

CREATE TRIGGER access_review_items_finished_delete BEFORE DELETE ON access_review_items
WHEN (SELECT finished_at FROM access_reviews WHERE id = OLD.review_id) IS NOT NULL
 AND EXISTS (SELECT 1 FROM access_reviews r JOIN accounts a ON a.id = r.account_id WHERE r.id = OLD.review_id)
BEGIN
    SELECT RAISE(ABORT, 'review: a finished review cannot be changed');
END;
