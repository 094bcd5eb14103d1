package db

import (
	"context"
	"fmt"
)

// Mail is one e-mail for the outbox.
type Mail struct {
	AccountID int64  // the account it is about; 0 for none
	MemberID  int64  // the recipient when a member of that account; 0 otherwise
	To        string // the address it goes to
	Kind      string // what it is about, e.g. "invitation", "role.changed"
	Subject   string
	Body      string // plain text
}

// enqueueMail writes m to the outbox on q, which is the transaction of the
// change that causes it: the message exists exactly when the change does.
// The background sender delivers it.
func (d *DB) enqueueMail(ctx context.Context, q queryer, m Mail) error {
	now := d.nowKey()
	_, err := q.ExecContext(ctx, `INSERT INTO outbox (account_id, member_id, to_addr, kind, subject, body, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nullID(m.AccountID), nullID(m.MemberID), m.To, m.Kind, m.Subject, m.Body, now, now)
	if err != nil {
		return fmt.Errorf("queue mail %s: %w", m.Kind, err)
	}
	return nil
}
