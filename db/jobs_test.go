package db_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"fleetgate/db"
)

// TestExclusiveJobs: a job's run is exclusive across the instances of one
// database: while one runs it, another's run of the same job is skipped
// (ran false), a run of another job goes ahead, and once it ended the
// job runs again. SQLite has one server per file: every run goes ahead.
func TestExclusiveJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	one, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	two, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer two.Close()

	running, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := one.Exclusive(ctx, "prune", func(context.Context) error {
			close(running)
			<-release
			return nil
		})
		done <- err
	}()
	select {
	case <-running:
	case err := <-done:
		t.Fatalf("the first run did not start: %v", err)
	}
	ranSame, err := two.Exclusive(ctx, "prune", func(context.Context) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	ranOther, err := two.Exclusive(ctx, "scheduled-mail", func(context.Context) error { return nil })
	if err != nil || !ranOther {
		t.Fatalf("another job beside it: ran %v, %v", ranOther, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ranAfter, err := two.Exclusive(ctx, "prune", func(context.Context) error { return fmt.Errorf("failed") })
	if !ranAfter || err == nil || err.Error() != "failed" {
		t.Fatalf("after the first run ended: ran %v, %v (the job's error must come back)", ranAfter, err)
	}
	if want := one.Store() == "sqlite"; ranSame != want {
		t.Fatalf("the same job while it runs elsewhere on %s: ran %v, want %v", one.Store(), ranSame, want)
	}
}

// TestPruneTwiceAtOnce: two instances pruning one database at the same
// moment delete each row once and count it once between them.
func TestPruneTwiceAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	var ds []*db.DB
	for range 2 {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Now = func() time.Time { return now }
		ds = append(ds, d)
	}
	const rows = 1234 // more than two batches
	old := now.Add(-24 * time.Hour).Format(time.RFC3339Nano)
	for i := 0; i < rows; i += 200 {
		q := `INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES `
		var args []any
		for j := i; j < min(i+200, rows); j++ {
			if j > i {
				q += ", "
			}
			q += "(?, 1, ?, NULL)"
			args = append(args, fmt.Sprintf("ip:192.0.2.%d", j), old)
		}
		if err := ds[0].ExecForTest(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	got := make([]db.Pruned, 2)
	errs := make([]error, 2)
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = d.Prune(ctx, db.Retention{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := got[0].Throttles + got[1].Throttles; n != rows {
		t.Errorf("pruned %d + %d throttle rows, want %d in all", got[0].Throttles, got[1].Throttles, rows)
	}
	var left int
	if err := ds[0].QueryRowForTest(ctx, `SELECT count(*) FROM login_failures`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d throttle rows left (%v)", left, err)
	}
}

// TestScheduledMailTwiceAtOnce: two instances writing the scheduled
// e-mails at the same moment (without the job's exclusive run) queue each
// one once: the claim of each is in its serialized write transaction.
func TestScheduledMailTwiceAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := db.DemoCopyForTest(t)
	now := time.Now().UTC()
	var ds []*db.DB
	for range 2 {
		d, err := db.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		d.Now = func() time.Time { return now }
		ds = append(ds, d)
	}
	var wg sync.WaitGroup
	got := make([]db.Scheduled, 2)
	errs := make([]error, 2)
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = d.SendScheduled(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := got[0].Digests + got[1].Digests; n != 1 {
		t.Errorf("%d + %d digests written, want 1 in all", got[0].Digests, got[1].Digests)
	}
	var queued int
	if err := ds[0].QueryRowForTest(ctx, `SELECT count(*) FROM outbox WHERE kind = ?`, db.KindDigest).Scan(&queued); err != nil || queued != 1 {
		t.Errorf("%d digests in the outbox (%v), want 1", queued, err)
	}
}
