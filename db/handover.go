package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"fleetgate/db/perm"
)

// Handing over what a deactivated member leaves behind. A recipient must
// be able to use what they receive: an active member, other than the one
// leaving, whom the acting member may change (rule 5: giving access or
// invitations changes a member); for vehicle access, one whose role can
// manage vehicles (Edit vehicles) and who does not already manage every
// vehicle (the Owner, all-vehicles access); for pending invitations, one
// whose role can manage users. Each check runs again inside the
// deactivation's transaction.

// HandoverOption is a member who can receive a handover.
type HandoverOption struct {
	ID       int64
	Name     string
	RoleName string
}

// HandoverLeftOut is the members who cannot receive a handover for one reason.
type HandoverLeftOut struct {
	Reason string
	Names  []string
}

// HandoverCandidates lists the active members who can receive what
// memberID leaves behind (the kinds of leftovers given), and the others
// grouped by why they cannot.
func (d *DB) HandoverCandidates(ctx context.Context, a *Actor, memberID int64, kinds []string) ([]HandoverOption, []HandoverLeftOut, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT m.id, u.first_name, u.last_name, u.email, r.name FROM members m
		  JOIN users u ON u.id = m.user_id JOIN roles r ON r.id = m.role_id
		 WHERE m.account_id = ? AND m.status = 'active' AND m.id != ?
		 ORDER BY u.first_name, u.last_name, m.id LIMIT 1000`, a.AccountID, memberID)
	if err != nil {
		return nil, nil, err
	}
	type row struct {
		id         int64
		name, role string
	}
	var all []row
	for rows.Next() {
		var r row
		var first, last, email string
		if err := rows.Scan(&r.id, &first, &last, &email, &r.role); err != nil {
			rows.Close()
			return nil, nil, err
		}
		r.name = displayName(first, last, email)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var ok []HandoverOption
	var out []HandoverLeftOut
	index := map[string]int{}
	for _, r := range all {
		why := ""
		for _, k := range kinds {
			if why == "" {
				if why, err = handoverRefusal(ctx, d.r, a, memberID, r.id, k); err != nil {
					return nil, nil, err
				}
			}
		}
		if why == "" {
			ok = append(ok, HandoverOption{ID: r.id, Name: r.name, RoleName: r.role})
			continue
		}
		i, seen := index[why]
		if !seen {
			i = len(out)
			index[why] = i
			out = append(out, HandoverLeftOut{Reason: why})
		}
		out[i].Names = append(out[i].Names, r.name)
	}
	return ok, out, nil
}

// handoverRefusal says why member to cannot receive memberID's leftovers
// of a kind ("vehicles", "invitations"); "" when they can.
func handoverRefusal(ctx context.Context, q queryer, a *Actor, memberID, to int64, kind string) (string, error) {
	var status, access string
	var roleID int64
	var owner bool
	err := q.QueryRowContext(ctx, `SELECT m.status, m.vehicle_access, m.role_id, m.id = ac.owner_member_id
		  FROM members m JOIN accounts ac ON ac.id = m.account_id WHERE m.id = ? AND m.account_id = ?`, to, a.AccountID).
		Scan(&status, &access, &roleID, &owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (status != "active" || to == memberID)) {
		return "Choose an active member to hand over to.", nil
	}
	if err != nil {
		return "", err
	}
	set, _, err := roleSet(ctx, q, a.AccountID, roleID)
	if err != nil {
		return "", err
	}
	switch kind {
	case "vehicles":
		if owner || access == "all" {
			return "They already manage every vehicle.", nil
		}
		if !set.Has(perm.VehiclesEdit) {
			return "Their role cannot manage vehicles (it lacks " + perm.Label(perm.VehiclesEdit) + ").", nil
		}
	case "invitations":
		if !owner && !set.Has(perm.UsersManage) {
			return "Their role cannot manage invitations (it lacks " + perm.Label(perm.UsersManage) + ").", nil
		}
	}
	if owner {
		return "", nil // nobody changes the Owner, but the Owner may take invitations over
	}
	if err := checkReach(ctx, q, a, to); err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			return "You cannot change them: " + fe.Message, nil
		}
		return "", err
	}
	return "", nil
}

// checkHandover refuses a recipient who cannot receive a handover.
func checkHandover(ctx context.Context, tx *sql.Tx, a *Actor, memberID, to int64, kind string) error {
	why, err := handoverRefusal(ctx, tx, a, memberID, to, kind)
	if err != nil {
		return err
	}
	if why != "" {
		return &Error{Code: EInvalid, Field: "handover_to", Message: why}
	}
	return nil
}

// report adds a line to the handover's report, when one is asked for.
func (h Handover) report(line string) {
	if h.Report != nil && line != "" {
		*h.Report = append(*h.Report, line)
	}
}

// needsDecision is the error of a bulk deactivation that would leave
// something behind without anyone choosing what becomes of it.
func needsDecision(what string) error {
	return &Error{Code: EInvalid, Field: "handover", Message: fmt.Sprintf("leaves %s behind: deactivate them from their own page to hand it over", what)}
}
