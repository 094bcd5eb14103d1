package db

import (
	"context"
	"database/sql"
	"fmt"
)

// What a member leaves behind when deactivated, besides sessions and API
// tokens: the invitations they sent that are still open. Handing them over
// makes another member their sender; revoking withdraws them.
func init() {
	leftoverHandlers = append(leftoverHandlers, leftoverKind{
		list: func(ctx context.Context, _ *DB, q queryer, a *Actor, memberID int64, now string) (Leftover, error) {
			l := Leftover{Kind: "invitations", Label: "Pending invitations they sent"}
			rows, err := q.QueryContext(ctx, `SELECT email, expires_at FROM invitations
				WHERE account_id = ? AND invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?
				ORDER BY id`, a.AccountID, memberID, now)
			if err != nil {
				return l, err
			}
			defer rows.Close()
			for rows.Next() {
				var email, exp string
				if err := rows.Scan(&email, &exp); err != nil {
					return l, err
				}
				l.Items = append(l.Items, fmt.Sprintf("%s (expires %s)", email, exp[:10]))
			}
			return l, rows.Err()
		},
		settle: func(ctx context.Context, _ *DB, tx *sql.Tx, a *Actor, memberID int64, h Handover, now string) (string, error) {
			open := `account_id = ? AND invited_by = ? AND accepted_at IS NULL AND revoked_at IS NULL`
			var res sql.Result
			var err error
			if h.ToMemberID != 0 || h.RefuseLeftovers {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM invitations WHERE `+open, a.AccountID, memberID).Scan(&n); err != nil || n == 0 {
					return "", err
				}
				if h.ToMemberID == 0 {
					return "", needsDecision(fmt.Sprintf("%d pending invitation(s)", n))
				}
				if err := checkHandover(ctx, tx, a, memberID, h.ToMemberID, "invitations"); err != nil {
					return "", err
				}
			}
			if h.ToMemberID != 0 {
				res, err = tx.ExecContext(ctx, `UPDATE invitations SET invited_by = ?,
					invited_by_name = (SELECT trim(u.first_name || ' ' || u.last_name) FROM members m JOIN users u ON u.id = m.user_id WHERE m.id = ?)
					WHERE `+open, h.ToMemberID, h.ToMemberID, a.AccountID, memberID)
			} else {
				res, err = tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE `+open, now, a.AccountID, memberID)
			}
			if err != nil {
				return "", err
			}
			n, _ := res.RowsAffected()
			switch {
			case n == 0:
				return "", nil
			case h.ToMemberID != 0:
				to, err := member(ctx, tx, a.AccountID, h.ToMemberID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("%d pending invitation(s) handed to %s", n, to.Name()), nil
			default:
				return fmt.Sprintf("%d pending invitation(s) revoked", n), nil
			}
		},
	})
}
