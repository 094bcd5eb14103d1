package db_test

import (
	"context"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/perm"
)

// The uses still in memory when the database closes (a shutdown) are
// written by Close.
func TestCloseWritesPendingPermissionUses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	owner := account(t, d, "Uses", "o@uses.test")
	d.RecordUse(owner.MemberID, perm.UsersView)
	d.RecordUse(owner.MemberID, perm.UsersView)
	d.RecordUse(owner.MemberID, perm.AuditView)
	if n := d.PendingUses(); n != 2 {
		t.Errorf("pending: %d, want 2 (one per permission and day)", n)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var n int
	if err := d.QueryRowForTest(ctx, `SELECT COUNT(*) FROM permission_uses WHERE member_id = ?`, owner.MemberID).Scan(&n); err != nil || n != 2 {
		t.Errorf("uses written at Close: %d (%v), want 2", n, err)
	}
}

// The Owner is reminded of a due review once per due date.
func TestReviewReminderOncePerDueDate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	owner := account(t, d, "Due", "o@due.test")
	d.Now = func() time.Time { return time.Date(2026, 5, 2, 8, 0, 0, 0, time.UTC) }
	remind := func() int {
		t.Helper()
		n, err := d.RemindReviewsDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := remind(); n != 0 {
		t.Errorf("no review date yet: %d reminders", n)
	}
	if err := d.ExecForTest(ctx, `UPDATE account_settings SET next_review_on = '2026-05-03' WHERE account_id = ?`, owner.AccountID); err != nil {
		t.Fatal(err)
	}
	if n := remind(); n != 0 {
		t.Errorf("not due yet: %d reminders", n)
	}
	if err := d.ExecForTest(ctx, `UPDATE account_settings SET next_review_on = '2026-05-01' WHERE account_id = ?`, owner.AccountID); err != nil {
		t.Fatal(err)
	}
	if a, b := remind(), remind(); a != 1 || b != 0 {
		t.Errorf("due: %d then %d reminders, want 1 then 0", a, b)
	}
	var n int
	if err := d.QueryRowForTest(ctx, `SELECT COUNT(*) FROM outbox WHERE kind = 'access_review.due' AND to_addr = 'o@due.test'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("outbox: %d (%v), want 1", n, err)
	}
}

// BenchmarkRecordUse is what noting a use costs a request: a map lookup
// under a lock once the use of the day is noted.
func BenchmarkRecordUse(b *testing.B) {
	d := open(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int64(0)
		for pb.Next() {
			d.RecordUse(1+i%500, perm.TripsView)
			i++
		}
	})
}
