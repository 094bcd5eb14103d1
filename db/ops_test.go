package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/perm"
)

// A backup taken while writers keep committing opens, passes
// integrity_check and holds every write acknowledged before it began.
func TestBackupUnderWriteLoad(t *testing.T) {
	dbtest.SQLiteOnly(t, "the file backup (PostgreSQL is backed up with pg_dump)")
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	dir := filepath.Dir(path)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	var mu sync.Mutex
	acked := map[string]bool{}
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("w%d-%d@load.test", w, i)
				if _, err := d.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: "x"}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[email] = true
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer halt()
	for n.Load() < 200 && !t.Failed() {
		time.Sleep(time.Millisecond) // waiting for the load to build, not for a result
	}
	mu.Lock()
	before := make([]string, 0, len(acked))
	for e := range acked {
		before = append(before, e)
	}
	mu.Unlock()
	file := filepath.Join(dir, "backup.db")
	if err := d.Backup(ctx, file); err != nil {
		t.Fatal(err)
	}
	after := n.Load()
	halt()
	if after <= int64(len(before)) {
		t.Logf("no write committed during the backup (%d before, %d after)", len(before), after)
	}

	v, err := db.CheckBackup(ctx, file)
	if err != nil {
		t.Fatalf("backup check: %v", err)
	}
	if v != db.KnownVersion() {
		t.Errorf("backup schema version %d, want %d", v, db.KnownVersion())
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("backup mode %v, want owner-only", st.Mode())
	}
	b, err := db.OpenWith(ctx, file, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	missing := 0
	for _, e := range before {
		var found int
		if err := b.QueryRowForTest(ctx, `SELECT count(*) FROM users WHERE email = ?`, e).Scan(&found); err != nil {
			t.Fatal(err)
		}
		if found != 1 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged writes missing from the backup", missing, len(before))
	}
	t.Logf("backup holds all %d writes acknowledged before it; %d writes in total", len(before), n.Load())
}

func TestBackupNeverOverwrites(t *testing.T) {
	dbtest.SQLiteOnly(t, "the file backup (PostgreSQL is backed up with pg_dump)")
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	file := filepath.Join(t.TempDir(), "b.db")
	if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := d.Backup(ctx, file)
	if err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "precious" {
		t.Fatalf("existing file changed to %q", b)
	}
	if err := d.Backup(ctx, filepath.Join(t.TempDir(), "nodir", "b.db")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("backup into a missing directory: %v", err)
	}
}

func TestBackupToKeepsTheNewest(t *testing.T) {
	dbtest.SQLiteOnly(t, "the file backups (PostgreSQL is backed up with pg_dump)")
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return clock }
	dir := t.TempDir()
	other := filepath.Join(dir, "notes.txt")
	os.WriteFile(other, nil, 0o644)
	var files []string
	for range 4 {
		f, err := d.BackupTo(ctx, dir, 2)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.Base(f))
		clock = clock.Add(time.Hour)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{files[2], files[3], "notes.txt"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("backup dir holds %v, want %v", names, want)
	}
	if !strings.HasPrefix(files[0], "fleetgate-20260101T000000.000Z-schema") {
		t.Errorf("backup name %s", files[0])
	}
}

func TestRestore(t *testing.T) {
	dbtest.SQLiteOnly(t, "restoring a file backup (PostgreSQL is restored with pg_restore)")
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	dir := filepath.Dir(path)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, db.NewUser{Email: "before@x.test", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := d.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if _, err := d.CreateUser(ctx, db.NewUser{Email: "after@x.test", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}

	// A running server holds the lock: restore refuses and changes nothing.
	lock, err := db.TryLock(path, "fleetgate serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Restore(ctx, backup, path)
	var locked *db.LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "fleetgate serve (pid") {
		t.Fatalf("restore over a held database: %v", err)
	}
	if _, err := db.TryLock(path, "second"); !errors.As(err, &locked) {
		t.Fatalf("a second lock was given: %v", err)
	}
	if n := count(t, d, `SELECT count(*) FROM users WHERE email = 'after@x.test'`); n != 1 {
		t.Fatal("refused restore changed the database")
	}
	d.Close()
	lock.Release()

	// A damaged backup is refused.
	bad := filepath.Join(dir, "bad.db")
	raw, _ := os.ReadFile(backup)
	os.WriteFile(bad, raw[:len(raw)/2], 0o644)
	if _, err := db.Restore(ctx, bad, path); err == nil {
		t.Fatal("half a backup was restored")
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 300)), 0o644)
	if _, err := db.Restore(ctx, junk, path); err == nil {
		t.Fatal("a junk file was restored")
	}

	os.Chmod(path, 0o640)
	res, err := db.Restore(ctx, backup, path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("restored file mode %v, want the replaced file's 0640", st.Mode())
	}
	if res.Version != db.KnownVersion() || res.Aside == "" {
		t.Fatalf("restore result %+v", res)
	}
	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n := count(t, d, `SELECT count(*) FROM users WHERE email IN ('before@x.test', 'after@x.test')`); n != 1 {
		t.Fatalf("restored database holds %d of the two users, want only the one before the backup", n)
	}
	old, err := db.OpenWith(ctx, res.Aside, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if n := count(t, old, `SELECT count(*) FROM users WHERE email = 'after@x.test'`); n != 1 {
		t.Fatal("the replaced database was not kept aside whole")
	}
}

func count(t *testing.T, d *db.DB, q string) int {
	t.Helper()
	var n int
	if err := d.QueryRowForTest(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A database migrated by a newer binary is refused, naming both versions;
// so is a backup of it.
func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.ExecForTest(ctx, `INSERT INTO schema_version (version) VALUES (9998), (9999)`); err != nil {
		t.Fatal(err)
	}
	// A file backup of it too (SQLite; PostgreSQL is backed up with pg_dump).
	backup := ""
	if dbtest.Postgres() == "" {
		backup = filepath.Join(t.TempDir(), "b.db")
		if err := d.Backup(ctx, backup); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	_, err = db.Open(ctx, path)
	var tooNew *db.SchemaTooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("open of a newer schema: %v", err)
	}
	want := fmt.Sprintf("has schema version 9999, but this fleetgate knows versions up to %d (unknown migrations: 9998, 9999)", db.KnownVersion())
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if backup == "" {
		return
	}
	if _, err := db.CheckBackup(ctx, backup); !errors.As(err, &tooNew) {
		t.Fatalf("check of a newer backup: %v", err)
	}
}

// Before migrations run on a database with a schema, a backup named with
// the schema version is written beside it; the dry run lists what would run.
// (A fresh database is migrated without a backup: TestMigrateFromEmptyAndTwice.)
func TestBackupBeforeMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := migrated.Path(t)
	dir := filepath.Dir(path)
	d, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	last := db.KnownVersion()
	// Undo one migration: 0010 only creates the heartbeat table.
	const heartbeat = 10
	if err := d.ExecForTest(ctx, `DROP TABLE heartbeat`); err != nil {
		t.Fatal(err)
	}
	if err := d.ExecForTest(ctx, `DELETE FROM schema_version WHERE version = ?`, heartbeat); err != nil {
		t.Fatal(err)
	}
	prev, _ := d.SchemaVersion(ctx)
	d.Close()

	d, err = db.OpenWith(ctx, path, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Schema(ctx)
	d.Close()
	if err != nil || len(s.Pending) != 1 || s.Pending[0].Version != heartbeat || s.Version != prev {
		t.Fatalf("dry run: %+v, %v", s, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.bak")); len(m) != 0 {
		t.Fatalf("a look at the schema wrote backups: %v", m)
	}

	d, err = db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v, _ := d.SchemaVersion(ctx); v != last {
		t.Fatalf("version %d after migrating, want %d", v, last)
	}
	if dbtest.Postgres() != "" {
		return // PostgreSQL is backed up with pg_dump, before the upgrade
	}
	m, _ := filepath.Glob(path + fmt.Sprintf(".schema%d-*.bak", prev))
	if len(m) != 1 {
		t.Fatalf("backups before migrating: %v", m)
	}
	if v, err := db.CheckBackup(ctx, m[0]); err != nil || v != prev {
		t.Fatalf("backup before migrating: version %d, %v", v, err)
	}
	// That a fresh database is migrated without a backup is checked by
	// TestMigrateFromEmptyAndTwice (a migration from empty is costly).
}

// readOnly makes path read-only even for root (chattr +i), or skips.
func readOnly(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only as root: %v %s", path, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
}

func TestOpenErrorsNameTheCause(t *testing.T) {
	dbtest.SQLiteOnly(t, "errors of database files and their directories")
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	_, err := db.Open(ctx, filepath.Join(dir, "missing", "x.db"))
	want := "cannot open database " + filepath.Join(dir, "missing", "x.db") + ": directory " + filepath.Join(dir, "missing") +
		" does not exist (create it or choose another --db)"
	if err == nil || err.Error() != want {
		t.Fatalf("missing directory:\n got %v\nwant %s", err, want)
	}

	roFile := migrated.Path(t)
	d, err := db.Open(ctx, roFile)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	readOnly(t, roFile)
	_, err = db.Open(ctx, roFile)
	if err == nil || !strings.Contains(err.Error(), "cannot open database "+roFile+": the file is read-only") {
		t.Fatalf("read-only file: %v", err)
	}

	roDir := filepath.Join(dir, "rodir")
	os.Mkdir(roDir, 0o755)
	readOnly(t, roDir)
	_, err = db.Open(ctx, filepath.Join(roDir, "x.db"))
	if err == nil || !strings.Contains(err.Error(), "directory "+roDir+" is read-only") {
		t.Fatalf("read-only directory: %v", err)
	}
	if _, err := db.OpenWith(ctx, filepath.Join(dir, "x.db"), db.Options{Durability: "fast"}); err == nil {
		t.Fatal("unknown durability accepted")
	}
}

// Prune deletes exactly what has expired, and My profile lists only live
// sessions.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	o := account(t, d, "Acme", "owner@acme.test")
	driver := member(t, d, o, "driver@acme.test", perm.Driver)
	ts := func(dt time.Duration) string { return now.Add(dt).Format(time.RFC3339Nano) }
	exec := func(q string, args ...any) {
		t.Helper()
		if err := d.ExecForTest(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`DELETE FROM sessions`)
	session := func(name string, created, seen, expires time.Duration) {
		exec(`INSERT INTO sessions (id_hash, user_id, member_id, created_at, last_seen_at, expires_at, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, []byte(fmt.Sprintf("%-32s", name)), o.UserID, o.MemberID, ts(created), ts(seen), ts(expires), name)
	}
	session("live", -time.Hour, -time.Minute, 6*24*time.Hour)
	session("live-idle-almost", -20*time.Hour, -db.IdleTimeout+time.Minute, 5*24*time.Hour)
	session("ended", -8*24*time.Hour, -time.Minute, -time.Second)
	session("idle", -20*time.Hour, -db.IdleTimeout-time.Minute, 5*24*time.Hour)

	_, _, _ = d.CreateToken(ctx, o.MemberID, "phone")
	_, _, _ = d.CreateToken(ctx, o.MemberID, "expired")
	exec(`UPDATE api_tokens SET expires_at = ? WHERE name = 'expired'`, now.Add(-time.Second).Format(time.RFC3339))
	_, _, _ = d.CreateToken(ctx, driver, "old phone")
	exec(`UPDATE members SET status = 'deactivated' WHERE id = ?`, driver)

	exec(`INSERT INTO sign_ins (user_id, at, channel, outcome) VALUES (?, ?, 'web', 'ok'), (?, ?, 'web', 'ok')`,
		o.UserID, ts(-91*24*time.Hour), o.UserID, ts(-89*24*time.Hour))

	exec(`INSERT INTO login_failures (key, failures, first_at, locked_until) VALUES
		('window-open', 2, ?, NULL), ('window-passed', 2, ?, NULL),
		('still-locked', 9, ?, ?), ('lock-ended', 9, ?, ?)`,
		ts(-time.Minute), ts(-16*time.Minute), ts(-time.Hour), ts(time.Minute), ts(-time.Hour), ts(-time.Second))

	role := roleID(t, d, o, perm.Driver)
	inv := func(email string, expires time.Duration, accepted, revoked any) {
		exec(`INSERT INTO invitations (account_id, email, role_id, token_hash, created_at, sent_at, expires_at, accepted_at, revoked_at)
			VALUES (?, ?, ?, randomblob(32), ?, ?, ?, ?, ?)`, o.AccountID, email, role, ts(-40*24*time.Hour), ts(-40*24*time.Hour), ts(expires), accepted, revoked)
	}
	inv("pending@x.test", 24*time.Hour, nil, nil)
	inv("expired-recently@x.test", -24*time.Hour, nil, nil)
	inv("expired-long-ago@x.test", -31*24*time.Hour, nil, nil)
	inv("accepted-long-ago@x.test", -30*24*time.Hour, ts(-35*24*time.Hour), nil)
	inv("accepted-recently@x.test", 24*time.Hour, ts(-2*24*time.Hour), nil)
	inv("revoked-long-ago@x.test", 24*time.Hour, nil, ts(-31*24*time.Hour))

	exec(`DELETE FROM audit_events`)
	exec(`INSERT INTO audit_events (account_id, kind, created_at) VALUES (?, 'old', ?), (?, 'new', ?)`,
		o.AccountID, ts(-400*24*time.Hour), o.AccountID, ts(-24*time.Hour))

	list, err := d.Sessions(ctx, o.UserID, "")
	if err != nil {
		t.Fatal(err)
	}
	var agents []string
	for _, s := range list {
		agents = append(agents, s.UserAgent)
	}
	if strings.Join(agents, ",") != "live,live-idle-almost" {
		t.Fatalf("My profile lists sessions %v, want only the live ones", agents)
	}

	p, err := d.Prune(ctx, db.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if p != (db.Pruned{Sessions: 2, Tokens: 2, Throttles: 2, Invitations: 3, SignIns: 1}) {
		t.Fatalf("pruned %+v", p)
	}
	col := func(q string) string {
		t.Helper()
		var s string
		if err := d.QueryRowForTest(ctx, q).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := col(`SELECT string_agg(user_agent, ',' ORDER BY user_agent) FROM sessions`); got != "live,live-idle-almost" {
		t.Errorf("sessions left: %s", got)
	}
	if got := col(`SELECT string_agg(key, ',' ORDER BY key) FROM login_failures`); got != "still-locked,window-open" {
		t.Errorf("throttle rows left: %s", got)
	}
	if got := col(`SELECT string_agg(email, ',' ORDER BY email) FROM invitations`); got != "accepted-recently@x.test,expired-recently@x.test,pending@x.test" {
		t.Errorf("invitations left: %s", got)
	}
	if got := col(`SELECT string_agg(name, ',') FROM api_tokens`); got != "phone" {
		t.Errorf("tokens left: %s", got)
	}
	if got := col(`SELECT count(*) FROM audit_events`); got != "2" {
		t.Errorf("audit events without a retention: %s left", got)
	}
	p, err = d.Prune(ctx, db.Retention{Audit: 365 * 24 * time.Hour})
	if err != nil || p != (db.Pruned{AuditEvents: 1}) {
		t.Fatalf("second prune with audit retention: %+v, %v", p, err)
	}
	if got := col(`SELECT string_agg(kind, ',') FROM audit_events`); got != "new" {
		t.Errorf("audit events left: %s", got)
	}
}

func TestReadyOnReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := open(t)
	if r, errs := d.Ready(ctx); !r.OK() || len(errs) != 0 {
		t.Fatalf("ready: %+v %v", r, errs)
	}
	// SQLite answers a write to a read-only file with SQLITE_READONLY;
	// query_only gives the writer that very answer. PostgreSQL answers a
	// read-only server (a standby) as a read-only transaction.
	readOnly := `PRAGMA query_only = 1`
	if dbtest.Postgres() != "" {
		readOnly = `SET default_transaction_read_only = on`
	}
	if err := d.ExecForTest(ctx, readOnly); err != nil {
		t.Fatal(err)
	}
	r, _ := d.Ready(ctx)
	if r.OK() || r.Write != "the database is read-only" || r.Read != "ok" || r.Migrations != "ok" {
		t.Fatalf("ready on a read-only database: %+v", r)
	}
}

// --durability full makes every connection flush each commit
// (synchronous=FULL, 2); the default is NORMAL (1). The writer's DSN is
// built by the same function as the readers'.
func TestDurability(t *testing.T) {
	dbtest.SQLiteOnly(t, "the synchronous pragma of --durability")
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		durability string
		want       int
	}{{"", 1}, {"normal", 1}, {"full", 2}} {
		d, err := db.OpenWith(ctx, migrated.Path(t), db.Options{Durability: c.durability})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `PRAGMA synchronous`); n != c.want {
			t.Errorf("durability %q: readers synchronous=%d, want %d", c.durability, n, c.want)
		}
		d.Close()
	}
}
