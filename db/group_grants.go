package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// GroupGrant is vehicle access chosen up front, when inviting or adding a
// person: a group (with its sub-groups) at view or manage level.
type GroupGrant struct {
	GroupID int64  `json:"group_id"`
	Level   string `json:"level"`
}

// checkGroupGrants refuses, on the "grants" field, any group grant the
// actor may not give (the no-escalation rule: only within their own access).
func (d *DB) checkGroupGrants(ctx context.Context, q queryer, a *Actor, gs []GroupGrant) error {
	if len(gs) > 200 {
		return FieldError("grants", "Choose at most 200 groups.")
	}
	for _, g := range gs {
		lvl, ok := ParseLevel(g.Level)
		if !ok {
			return FieldError("grants", "Choose view or manage for each group.")
		}
		if _, err := d.checkGivable(ctx, q, a, GrantInput{Kind: "group", TargetID: g.GroupID, Level: lvl}); err != nil {
			var fe *Error
			if errors.As(err, &fe) {
				if fe.Code == ENotFound {
					return FieldError("grants", "Choose among the offered groups.")
				}
				return &Error{Code: fe.Code, Field: "grants", Message: fe.Message}
			}
			return err
		}
	}
	return nil
}

// insertGroupGrants gives a new member the group grants chosen up front;
// groups that no longer exist in the account are skipped.
func insertGroupGrants(ctx context.Context, tx *sql.Tx, accountID, memberID int64, gs []GroupGrant, now string) error {
	for _, g := range gs {
		if _, ok := ParseLevel(g.Level); !ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO member_group_grants (member_id, group_id, level, created_at)
			SELECT ?, id, ?, ? FROM vehicle_groups WHERE id = ? AND account_id = ?
			ON CONFLICT DO NOTHING`, memberID, g.Level, now, g.GroupID, accountID); err != nil {
			return fmt.Errorf("grant group %d: %w", g.GroupID, err)
		}
	}
	return nil
}

func encodeGrants(gs []GroupGrant) string {
	if len(gs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(gs)
	return string(b)
}

func decodeGrants(s string) []GroupGrant {
	var gs []GroupGrant
	_ = json.Unmarshal([]byte(s), &gs)
	return gs
}
