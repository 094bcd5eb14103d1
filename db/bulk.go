package db

import (
	"context"
	"errors"
)

// BulkPlan is what a bulk action would do, shown for confirmation before
// anything changes: the members it changes, those who leave something
// behind that needs a decision (deactivation sends them through their own
// page, with the handover), and those it skips with the reason. Applying
// checks everything again, each member in their own write transaction.
type BulkPlan struct {
	Change []BulkMember
	Decide []BulkMember // deactivation: leftovers to hand over first
	Skip   []string     // "<name>: <reason>"
}

// BulkMember is one member named in a bulk plan.
type BulkMember struct {
	ID     int64
	Name   string
	Detail string // e.g. what they leave behind
}

// PlanBulk works out a bulk action without changing anything.
func (d *DB) PlanBulk(ctx context.Context, a *Actor, action string, roleID int64, memberIDs []int64) (BulkPlan, error) {
	var p BulkPlan
	switch action {
	case "deactivate", "reactivate":
	case "role":
		if err := d.CheckGrantRole(ctx, a, roleID); err != nil {
			return p, err
		}
	default:
		return p, FieldError("action", "Choose an action.")
	}
	for _, id := range memberIDs {
		m, err := d.Member(ctx, a, id)
		if err != nil {
			continue // not in this account: nothing to say about it
		}
		var fe *Error
		if err := d.CheckReach(ctx, a, id); errors.As(err, &fe) {
			p.Skip = append(p.Skip, m.Name()+": "+fe.Message)
			continue
		} else if err != nil {
			return p, err
		}
		switch {
		case action == "deactivate" && m.Status == "deactivated":
			p.Skip = append(p.Skip, m.Name()+": already deactivated")
			continue
		case action == "reactivate" && m.Status != "deactivated":
			p.Skip = append(p.Skip, m.Name()+": not deactivated")
			continue
		case action == "role" && m.RoleID == roleID:
			p.Skip = append(p.Skip, m.Name()+": already has this role")
			continue
		}
		if action == "deactivate" {
			left, err := d.Leftovers(ctx, a, id)
			if err != nil {
				return p, err
			}
			detail := ""
			for _, l := range left {
				if l.Kind == "api_tokens" { // ended in any case, nothing to decide
					continue
				}
				if detail != "" {
					detail += "; "
				}
				detail += l.Label
			}
			if detail != "" {
				p.Decide = append(p.Decide, BulkMember{ID: id, Name: m.Name(), Detail: detail})
				continue
			}
		}
		p.Change = append(p.Change, BulkMember{ID: id, Name: m.Name()})
	}
	return p, nil
}
