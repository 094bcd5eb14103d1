package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"fleetgate/db/perm"
)

// Access reviews: a reviewer (users.manage and audit.view) goes through the
// members in their reach — every member but themselves and the Owner
// whose role they hold all permissions of, as CheckReach says — and decides
// for each: keep, change (their editor opens) or revoke (deactivated
// through SetStatus, in the same transaction as the decision). The list is
// written when the review starts, so it can be left and resumed. Finishing
// stores it for good (the schema refuses any later change), sets the date
// of the next review, and is audited.

// Decisions of a review.
const (
	DecisionKeep   = "keep"
	DecisionChange = "change"
	DecisionRevoke = "revoke"
)

// Review is one access review.
type Review struct {
	ID           int64
	ReviewerID   int64
	ReviewerName string
	StartedAt    time.Time
	FinishedAt   *time.Time
	Total        int
	Kept         int
	Changed      int
	Revoked      int
}

// Decided is how many members have a decision.
func (r Review) Decided() int { return r.Kept + r.Changed + r.Revoked }

// Finished reports whether the review is on record for good.
func (r Review) Finished() bool { return r.FinishedAt != nil }

// ReviewItem is one member of a review, as they were when it started.
type ReviewItem struct {
	MemberID  int64
	Name      string
	Email     string
	RoleName  string
	Access    string
	Decision  string // "" while undecided
	DecidedAt *time.Time
}

const reviewColumns = `r.id, COALESCE(r.reviewer_id, 0), r.reviewer_name, r.started_at, r.finished_at,
	(SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id),
	(SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id AND i.decision = 'keep'),
	(SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id AND i.decision = 'change'),
	(SELECT COUNT(*) FROM access_review_items i WHERE i.review_id = r.id AND i.decision = 'revoke')`

func scanReview(row interface{ Scan(...any) error }) (Review, error) {
	var r Review
	err := row.Scan(&r.ID, &r.ReviewerID, &r.ReviewerName, timeCol{&r.StartedAt}, nullTimeCol{&r.FinishedAt}, &r.Total, &r.Kept, &r.Changed, &r.Revoked)
	return r, err
}

// StartReview starts a review by the actor, or resumes the one they left
// open. It returns the review's id.
func (d *DB) StartReview(ctx context.Context, a *Actor) (int64, bool, error) {
	var id int64
	resumed := false
	err := d.update(ctx, func(tx *sql.Tx) error {
		a, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if !a.Can(perm.AuditView) {
			return Errorf(EForbidden, "You need '%s' to review access.", perm.Label(perm.AuditView))
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM access_reviews WHERE account_id = ? AND reviewer_id = ? AND finished_at IS NULL`,
			a.AccountID, a.MemberID).Scan(&id)
		if err == nil {
			resumed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		roles, err := reachableRoles(ctx, tx, a)
		if err != nil {
			return err
		}
		if id, err = insertID(ctx, tx, `INSERT INTO access_reviews (account_id, reviewer_id, reviewer_name, started_at) VALUES (?, ?, ?, ?)`,
			a.AccountID, a.MemberID, a.Name(), d.stamp()); err != nil {
			return err
		}
		rj, _ := json.Marshal(roles)
		now := d.nowKey()
		// Who each member is now, and their vehicle access in words.
		res, err := tx.ExecContext(ctx, `INSERT INTO access_review_items (review_id, member_id, position, name, email, role_name, access)
			SELECT ?, m.id, ROW_NUMBER() OVER (ORDER BY ro.name, m.sort_name, m.id),
			       trim(u.first_name || ' ' || u.last_name), u.email, ro.name,
			       CASE WHEN m.vehicle_access = 'all' THEN 'all vehicles' ELSE
			         (SELECT COUNT(*) FROM member_group_grants g WHERE g.member_id = m.id AND (g.ends_at IS NULL OR g.ends_at > ?)) || ' group(s), ' ||
			         (SELECT COUNT(*) FROM member_vehicle_grants g WHERE g.member_id = m.id AND (g.ends_at IS NULL OR g.ends_at > ?)) || ' vehicle(s)' END
			  FROM members m JOIN users u ON u.id = m.user_id JOIN roles ro ON ro.id = m.role_id JOIN accounts ac ON ac.id = m.account_id
			 WHERE m.account_id = ? AND m.status != 'deactivated' AND m.id != ac.owner_member_id AND m.id != ?
			   AND m.role_id IN (`+d.dia.jsonEach("?", true)+`)`, id, now, now, a.AccountID, a.MemberID, string(rj))
		if err != nil {
			return fmt.Errorf("list members to review: %w", err)
		}
		n, _ := res.RowsAffected()
		return d.audit(ctx, tx, a, Event{Kind: "access_review.start", Target: a.AccountName,
			Summary: fmt.Sprintf("Started an access review of %d member(s)", n), After: map[string]any{"review": id, "members": n}})
	})
	return id, resumed, err
}

// reachableRoles are the roles of the account whose members the actor may
// act on: those whose permissions the actor holds, the Owner role aside.
func reachableRoles(ctx context.Context, q queryer, a *Actor) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM roles WHERE account_id = ? AND COALESCE(builtin, '') != 'owner'`, a.AccountID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []int64{}
	for _, id := range ids {
		set, _, err := roleSet(ctx, q, a.AccountID, id)
		if err != nil {
			return nil, err
		}
		if a.Perms.Covers(set) {
			out = append(out, id)
		}
	}
	return out, nil
}

// Reviews lists the account's reviews, newest first, one page.
func (d *DB) Reviews(ctx context.Context, a *Actor, page, per int) ([]Review, int, error) {
	var out []Review
	total, err := readPage(ctx, d.r, `SELECT `+reviewColumns+`, COUNT(*) OVER () FROM access_reviews r
		WHERE r.account_id = ? ORDER BY r.id DESC LIMIT ? OFFSET ?`, []any{a.AccountID}, pageOf(page, per, 25),
		func(rows *sql.Rows, total *int) error {
			var r Review
			err := rows.Scan(&r.ID, &r.ReviewerID, &r.ReviewerName, timeCol{&r.StartedAt}, nullTimeCol{&r.FinishedAt},
				&r.Total, &r.Kept, &r.Changed, &r.Revoked, total)
			out = append(out, r)
			return err
		})
	return out, total, err
}

// ReviewByID reads a review of the actor's account (ENotFound otherwise).
func (d *DB) ReviewByID(ctx context.Context, a *Actor, id int64) (Review, error) {
	return reviewByID(ctx, d.r, a.AccountID, id)
}

func reviewByID(ctx context.Context, q queryer, accountID, id int64) (Review, error) {
	r, err := scanReview(q.QueryRowContext(ctx, `SELECT `+reviewColumns+` FROM access_reviews r WHERE r.id = ? AND r.account_id = ?`, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, notFound("Review")
	}
	return r, err
}

// ReviewItems reads one page of a review's members, in review order.
func (d *DB) ReviewItems(ctx context.Context, a *Actor, id int64, page, per int) ([]ReviewItem, int, error) {
	if _, err := d.ReviewByID(ctx, a, id); err != nil {
		return nil, 0, err
	}
	var out []ReviewItem
	total, err := readPage(ctx, d.r, `SELECT member_id, name, email, role_name, access, COALESCE(decision, ''), decided_at, COUNT(*) OVER ()
		FROM access_review_items WHERE review_id = ? ORDER BY position LIMIT ? OFFSET ?`, []any{id}, pageOf(page, per, 50),
		func(rows *sql.Rows, total *int) error {
			var it ReviewItem
			err := rows.Scan(&it.MemberID, &it.Name, &it.Email, &it.RoleName, &it.Access, &it.Decision, nullTimeCol{&it.DecidedAt}, total)
			if it.Name == "" {
				it.Name = it.Email
			}
			out = append(out, it)
			return err
		})
	return out, total, err
}

// openReview reads a review the actor may decide in: their own, not finished.
func openReview(ctx context.Context, q queryer, a *Actor, id int64) (Review, error) {
	r, err := reviewByID(ctx, q, a.AccountID, id)
	if err != nil {
		return r, err
	}
	if r.Finished() {
		return r, Errorf(EConflict, "This review was finished on %s and is on record as it was: it cannot change. Start a new review.", r.FinishedAt.Format(time.DateOnly))
	}
	if r.ReviewerID != a.MemberID {
		return r, Errorf(EForbidden, "This review is %s's: only they can decide in it. Start your own review.", r.ReviewerName)
	}
	return r, nil
}

// Decide records the reviewer's decision on one member of their open
// review. "revoke" deactivates the member through the ordinary rule
// (reach, no escalation, leftovers to settle, audited), in the same
// transaction: the decision exists exactly when the deactivation does.
func (d *DB) Decide(ctx context.Context, a *Actor, reviewID, memberID int64, decision string) error {
	switch decision {
	case DecisionKeep, DecisionChange, DecisionRevoke:
	default:
		return FieldError("decision", "Choose keep, change or revoke.")
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		fresh, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if _, err := openReview(ctx, tx, fresh, reviewID); err != nil {
			return err
		}
		var name string
		err = tx.QueryRowContext(ctx, `SELECT name FROM access_review_items WHERE review_id = ? AND member_id = ?`, reviewID, memberID).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("Member")
		}
		if err != nil {
			return err
		}
		if decision == DecisionRevoke {
			if err := d.setStatus(ctx, tx, a, memberID, "deactivated", Handover{RefuseLeftovers: true}); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE access_review_items SET decision = ?, decided_at = ? WHERE review_id = ? AND member_id = ?`,
			decision, d.stamp(), reviewID, memberID)
		return err
	})
}

// FinishReview puts the actor's open review on record for good, once every
// member has a decision, and sets the date of the next review (the
// account's interval from today, in its time zone).
func (d *DB) FinishReview(ctx context.Context, a *Actor, reviewID int64) (Review, error) {
	var r Review
	err := d.update(ctx, func(tx *sql.Tx) error {
		fresh, err := actorIn(ctx, tx, a, perm.UsersManage)
		if err != nil {
			return err
		}
		if r, err = openReview(ctx, tx, fresh, reviewID); err != nil {
			return err
		}
		if left := r.Total - r.Decided(); left > 0 {
			return FieldError("decision", "%d member(s) have no decision yet: decide keep, change or revoke for each before finishing.", left)
		}
		now := d.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE access_reviews SET finished_at = ? WHERE id = ?`, d.stamp(), reviewID); err != nil {
			return err
		}
		s, err := reviewSettings(ctx, tx, fresh.AccountID)
		if err != nil {
			return err
		}
		next := now.In(fresh.Location()).AddDate(0, 0, s.EveryDays).Format(time.DateOnly)
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_settings (account_id) VALUES (?) ON CONFLICT (account_id) DO NOTHING`, fresh.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE account_settings SET next_review_on = ? WHERE account_id = ?`, next, fresh.AccountID); err != nil {
			return err
		}
		if r, err = reviewByID(ctx, tx, fresh.AccountID, reviewID); err != nil {
			return err
		}
		return d.audit(ctx, tx, fresh, Event{Kind: "access_review.finish", Target: fresh.AccountName,
			Summary: fmt.Sprintf("Finished an access review: %d kept, %d changed, %d revoked; next review due %s", r.Kept, r.Changed, r.Revoked, next),
			After:   map[string]any{"review": reviewID, "kept": r.Kept, "changed": r.Changed, "revoked": r.Revoked, "next_review_on": next}})
	})
	return r, err
}

// ReviewReminder is a review due in an account, for the Owner's reminder.
type ReviewReminder struct {
	AccountID int64
	Due       string
}

// RemindReviewsDue writes, for every account whose next review date has
// come, one reminder e-mail to its Owner: once per due date (the date
// reminded of is stored with the e-mail, in one transaction).
func (d *DB) RemindReviewsDue(ctx context.Context) (int, error) {
	today := d.Now().UTC().Format(time.DateOnly)
	rows, err := d.r.QueryContext(ctx, `SELECT st.account_id, st.next_review_on FROM account_settings st
		WHERE st.next_review_on IS NOT NULL AND st.next_review_on <= ? AND st.review_reminded_on IS DISTINCT FROM st.next_review_on`, today)
	if err != nil {
		return 0, err
	}
	var due []ReviewReminder
	for rows.Next() {
		var r ReviewReminder
		if err := rows.Scan(&r.AccountID, &r.Due); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	sent := 0
	for _, r := range due {
		err := d.update(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE account_settings SET review_reminded_on = next_review_on
				WHERE account_id = ? AND next_review_on = ? AND review_reminded_on IS DISTINCT FROM next_review_on`, r.AccountID, r.Due)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // reminded meanwhile
			}
			var name, email string
			var owner int64
			if err := tx.QueryRowContext(ctx, `SELECT ac.name, u.email, m.id FROM accounts ac JOIN members m ON m.id = ac.owner_member_id
				JOIN users u ON u.id = m.user_id WHERE ac.id = ?`, r.AccountID).Scan(&name, &email, &owner); err != nil {
				return err
			}
			sent++
			return d.enqueueMail(ctx, tx, Mail{AccountID: r.AccountID, MemberID: owner, To: email, Kind: "access_review.due",
				Subject: "Access review of " + name + " is due",
				Body: "The next access review of " + name + " was due on " + r.Due + ".\n\n" +
					"Open Access review in Fleetgate and start a review: go through the members, keep, change or revoke each, and finish it.\n"})
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// ReachableRoles are the roles whose members the actor may change (for
// pages that offer changes only where the rules allow them).
func (d *DB) ReachableRoles(ctx context.Context, a *Actor) (map[int64]bool, error) {
	ids, err := reachableRoles(ctx, d.r, a)
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, err
}

// OpenReviewOf is the id of the actor's review in progress (0: none).
func (d *DB) OpenReviewOf(ctx context.Context, a *Actor) (int64, error) {
	var id int64
	err := d.r.QueryRowContext(ctx, `SELECT id FROM access_reviews WHERE account_id = ? AND reviewer_id = ? AND finished_at IS NULL`,
		a.AccountID, a.MemberID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
