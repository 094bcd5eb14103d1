package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/mailer"
)

// lines hands each log line to a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// The workers prune at start and then on schedule, write scheduled
// backups keeping the newest, and stop when their context ends.
func TestWorkersPruneAndBackUp(t *testing.T) {
	dbtest.SQLiteOnly(t, "scheduled backups of the file")
	t.Parallel()
	ctx := context.Background()
	path := migratedDB.PathAs(t, "w.db")
	dir := filepath.Dir(path)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	old := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339Nano)
	if err := d.ExecForTest(ctx, `INSERT INTO login_failures (key, failures, first_at) VALUES ('ip:10.0.0.1', 3, ?)`, old); err != nil {
		t.Fatal(err)
	}
	backups := filepath.Join(dir, "backups")
	os.Mkdir(backups, 0o700)
	o := opsOptions{pruneEvery: time.Hour, notifyEvery: time.Hour, inviteKeep: db.DefaultInvitationRetention, signInKeep: db.DefaultSignInRetention,
		backupDir: backups, backupEvery: 5 * time.Millisecond, backupKeep: 2}
	log := make(lines, 100)
	jobs, stop := context.WithCancel(ctx)
	w := o.startWorkers(jobs, d, slog.New(slog.NewTextHandler(log, nil)), mailer.Config{})
	pruned, written := false, 0
	deadline := time.After(20 * time.Second)
	for !pruned || written < 3 {
		select {
		case l := <-log:
			switch {
			case strings.Contains(l, `msg=pruned sessions=0 api_tokens=0 throttle_rows=1 invitations=0 sign_ins=0 audit_events=0`):
				pruned = true
			case strings.Contains(l, `msg="scheduled backup written"`):
				written++
			case strings.Contains(l, "level=ERROR"):
				t.Fatal(l)
			}
		case <-deadline:
			t.Fatalf("pruned %v, %d backups written", pruned, written)
		}
	}
	go func() {
		for range log { // keep the workers from blocking on a full log until they stop
		}
	}()
	stop()
	w.wait()
	entries, _ := os.ReadDir(backups)
	if len(entries) != 2 {
		t.Fatalf("%d backups kept, want 2", len(entries))
	}
	for _, e := range entries {
		if _, err := db.CheckBackup(ctx, filepath.Join(backups, e.Name())); err != nil {
			t.Error(err)
		}
	}
}
