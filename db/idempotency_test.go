package db_test

import (
	"context"
	"testing"
	"time"

	"fleetgate/db"
)

// TestIdempotencyKeys: a first use reserves the key; a second use while
// the first is running is a conflict; a stored answer is replayed; another
// request under the key is refused; a released key is free again; a
// reservation without an answer is taken over after IdempotencyStale; and
// Prune deletes keys older than IdempotencyKeep.
func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	o := account(t, d, "Acme", "owner@acme.test")
	other := member(t, d, o, "other@acme.test", "admin")

	if ans, err := d.ReserveIdempotency(ctx, o.MemberID, "k", "req-1"); ans != nil || err != nil {
		t.Fatalf("first use: %v %v", ans, err)
	}
	if _, err := d.ReserveIdempotency(ctx, o.MemberID, "k", "req-1"); db.ErrorCode(err) != db.EConflict {
		t.Errorf("while running: %v, want a conflict", err)
	}
	if ans, err := d.ReserveIdempotency(ctx, other, "k", "req-1"); ans != nil || err != nil {
		t.Errorf("another member's key: %v %v", ans, err)
	}
	if err := d.StoreIdempotency(ctx, o.MemberID, "k", db.IdempotentAnswer{Status: 201, ContentType: "application/json", Location: "/x/1", Body: []byte(`{"id":1}`)}); err != nil {
		t.Fatal(err)
	}
	ans, err := d.ReserveIdempotency(ctx, o.MemberID, "k", "req-1")
	if err != nil || ans == nil || ans.Status != 201 || string(ans.Body) != `{"id":1}` || ans.Location != "/x/1" {
		t.Errorf("replay: %+v %v", ans, err)
	}
	if _, err := d.ReserveIdempotency(ctx, o.MemberID, "k", "req-2"); db.ErrorCode(err) != db.EInvalid {
		t.Errorf("another request: %v, want invalid", err)
	}
	// Released (refused create): free for the next request.
	if _, err := d.ReserveIdempotency(ctx, o.MemberID, "r", "req-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.ReleaseIdempotency(ctx, o.MemberID, "r"); err != nil {
		t.Fatal(err)
	}
	if ans, err := d.ReserveIdempotency(ctx, o.MemberID, "r", "req-2"); ans != nil || err != nil {
		t.Errorf("after release: %v %v", ans, err)
	}
	// A reservation whose answer never came is taken over.
	now = now.Add(db.IdempotencyStale + time.Second)
	if ans, err := d.ReserveIdempotency(ctx, o.MemberID, "r", "req-2"); ans != nil || err != nil {
		t.Errorf("stale reservation: %v %v", ans, err)
	}
	now = now.Add(db.IdempotencyKeep)
	p, err := d.Prune(ctx, db.Retention{})
	if err != nil || p.IdempotencyKeys != 2 {
		t.Errorf("prune: %+v %v", p, err)
	}
}
