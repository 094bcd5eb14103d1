package db

import "context"

// RoleMemberNames names the first few members (up to n) holding a role of
// the actor's account, by name: the people a change of the role reaches.
func (d *DB) RoleMemberNames(ctx context.Context, a *Actor, roleID int64, n int) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT u.first_name, u.last_name, u.email FROM members m JOIN users u ON u.id = m.user_id
		 WHERE m.account_id = ? AND m.role_id = ? ORDER BY m.sort_name, m.id LIMIT ?`, a.AccountID, roleID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var first, last, email string
		if err := rows.Scan(&first, &last, &email); err != nil {
			return nil, err
		}
		out = append(out, displayName(first, last, email))
	}
	return out, rows.Err()
}
