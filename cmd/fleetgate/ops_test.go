package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"fleetgate/db"
	"fleetgate/db/dbtest"
)

// serveWithHooks starts serve like startServe and also reports when the
// server stops accepting connections.
func serveWithHooks(t *testing.T, args ...string) (addr string, out *syncBuffer, cancel context.CancelFunc, stopping <-chan struct{}, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	ready := make(chan net.Addr, 1)
	stop := make(chan struct{})
	c := &cli{out: out, lookup: mapEnv(nil), ready: func(a net.Addr) { ready <- a }, stopping: func() { close(stop) }}
	d := make(chan error, 1)
	go func() { d <- c.run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case a := <-ready:
		addr = a.String()
	case err := <-d:
		cancel()
		t.Fatalf("serve stopped before listening: %v\n%s", err, out)
	}
	t.Cleanup(cancel)
	return addr, out, cancel, stop, d
}

// slowRequest sends the head of a token request and waits until the
// handler reads the body (the server answers "100 Continue" then): the
// request is in progress. send sends the body and reads the answer.
func slowRequest(t *testing.T, addr, body string) (send func() (status int, answer string)) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /api/v1/tokens HTTP/1.1\r\nHost: fleetgate\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", len(body))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	if _, err := r.ReadString('\n'); err != nil { // the empty line after it
		t.Fatal(err)
	}
	return func() (int, string) {
		if _, err := io.WriteString(conn, body); err != nil {
			return 0, err.Error()
		}
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			return 0, err.Error()
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
}

// SIGTERM (here: the context of run ending) while requests are in
// progress: the server stops accepting, lets them finish, stops its
// workers, checkpoints the database and run returns nil (status 0).
func TestShutdownLetsRequestsFinish(t *testing.T) {
	t.Parallel()
	path := demoDB.PathAs(t, "shut.db")
	addr, out, cancel, stopping, done := serveWithHooks(t, "--db", path, "--demo", "--metrics-addr", "127.0.0.1:0")

	const n = 5
	var sends []func() (int, string)
	for range n {
		sends = append(sends, slowRequest(t, addr, `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`))
	}
	cancel()
	<-stopping
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("a new connection was accepted during the shutdown")
	}
	for i, send := range sends {
		if status, body := send(); status != http.StatusCreated || !strings.Contains(body, `"token":"fgt_`) {
			t.Errorf("request %d in progress at shutdown: %d %s", i, status, body)
		}
	}
	if err := <-done; err != nil || exitCode(context.Background(), err) != 0 {
		t.Fatalf("serve returned %v", err)
	}
	log := out.String()
	closed := `msg="database checkpointed and closed"`
	if dbtest.Postgres() != "" {
		closed = `msg="database closed"`
	}
	for _, want := range []string{`msg="shutting down" grace=30s`, closed, `msg=stopped`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, "were cut") {
		t.Error("requests were cut")
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Errorf("write-ahead log of %d bytes left after the checkpoint", st.Size())
	}
	d, err := db.OpenWith(context.Background(), path, db.Options{NoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var tokens int
	d.QueryRowForTest(context.Background(), `SELECT count(*) FROM api_tokens`).Scan(&tokens)
	if tokens != n {
		t.Errorf("%d tokens stored, want %d", tokens, n)
	}
}

// A request still running when the grace ends is cut; the server still
// stops cleanly and says so.
func TestShutdownGraceEnds(t *testing.T) {
	t.Parallel()
	path := migratedDB.PathAs(t, "grace.db")
	addr, out, cancel, _, done := serveWithHooks(t, "--db", path, "--shutdown-grace", "50ms")
	slowRequest(t, addr, `{"email":"x@y.z","password":"never sent"}`)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}
	if !strings.Contains(out.String(), "requests still in progress after the grace were cut") {
		t.Errorf("log:\n%s", out)
	}
}

// The metrics listener counts the console's requests by route pattern.
func TestServeMetricsAddress(t *testing.T) {
	t.Parallel()
	addr, out, stop := startServe(t, nil, "--db", migratedDB.PathAs(t, "m.db"), "--metrics-addr", "127.0.0.1:0")
	for range 2 {
		res, err := http.Get("http://" + addr + "/livez")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	m := regexp.MustCompile(`msg="metrics are served" url=(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no metrics address in the log:\n%s", out)
	}
	res, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), `fleetgate_http_requests_total{method="GET",route="/livez",status="200"} 2`) {
		t.Errorf("metrics:\n%s", b)
	}
	// The console's address does not serve them.
	res, err = http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the console's address: %d", res.StatusCode)
	}
	stop()
}

// backup works beside a running server; restore and a second server are
// refused while it holds the database, and restore works once it stopped.
func TestBackupAndRestoreCommands(t *testing.T) {
	dbtest.SQLiteOnly(t, "backs up and restores the file (PostgreSQL: pg_dump, refused by TestBadCommandLines)")
	t.Parallel()
	path := demoDB.PathAs(t, "fleet.db")
	dir := filepath.Dir(path)
	addr, _, stop := startServe(t, nil, "--db", path, "--demo")
	backup := filepath.Join(dir, "backup.db")
	code, out, err := runCLI(t, nil, "backup", backup, "--db", path)
	if code != 0 || !strings.Contains(out, "Backed up "+path+" to "+backup) || !strings.Contains(out, "integrity_check ok") {
		t.Fatalf("backup: %d %v %s", code, err, out)
	}
	code, _, err = runCLI(t, nil, "backup", "--db", path, backup)
	if code != 2 || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("backup over an existing file: %d %v", code, err)
	}
	if code, _, err = runCLI(t, nil, "backup"); code != 2 || !strings.Contains(err.Error(), "missing FILE") {
		t.Fatalf("backup without a file: %d %v", code, err)
	}
	// A token created after the backup: the restore takes it away.
	if st := postJSON(t, "http://"+addr+"/api/v1/tokens", `{"email":"driver@demo.test","password":"`+db.DemoPassword+`"}`); st != http.StatusCreated {
		t.Fatalf("token: %d", st)
	}

	code, _, err = runCLI(t, nil, "restore", backup, "--db", path)
	var locked *db.LockedError
	if code != 1 || !errors.As(err, &locked) || !strings.Contains(err.Error(), "in use by fleetgate serve (pid") {
		t.Fatalf("restore under a running server: %d %v", code, err)
	}
	code, _, err = runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", path)
	if code != 1 || !errors.As(err, &locked) {
		t.Fatalf("a second server on the same database: %d %v", code, err)
	}
	code, _, err = runCLI(t, nil, "migrate", "--db", path)
	if code != 1 || !errors.As(err, &locked) {
		t.Fatalf("migrate under a running server: %d %v", code, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	code, out, err = runCLI(t, nil, "restore", backup, "--db", path)
	if code != 0 || !strings.Contains(out, "Restored "+path+" from "+backup) || !strings.Contains(out, ".before-restore-") {
		t.Fatalf("restore: %d %v %s", code, err, out)
	}
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var tokens int
	d.QueryRowForTest(context.Background(), `SELECT count(*) FROM api_tokens`).Scan(&tokens)
	if tokens != 0 {
		t.Errorf("restored database holds %d tokens made after the backup", tokens)
	}
}

func TestMigrateDryRunAndNewerSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "m.db")
	code, out, _ := runCLI(t, nil, "migrate", "--dry-run", "--db", path)
	last := db.Migrations()[len(db.Migrations())-1].Name
	if code != 0 || !strings.Contains(out, "would be created") || !strings.Contains(out, "  0001_foundation.sql\n") || !strings.Contains(out, last) {
		t.Fatalf("dry run on a new file: %d %s", code, out)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the dry run created the database")
	}
	if code, out, err := runCLI(t, nil, "migrate", "--db", path); code != 0 {
		t.Fatalf("migrate: %v %s", err, out)
	}
	_, out, _ = runCLI(t, nil, "migrate", "--dry-run", "--db", path)
	if !strings.Contains(out, "nothing to migrate") {
		t.Fatalf("dry run on a current database: %s", out)
	}

	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	d.ExecForTest(context.Background(), `INSERT INTO schema_version (version) VALUES (9999)`)
	d.Close()
	want := fmt.Sprintf("has schema version 9999, but this fleetgate knows versions up to %d", db.KnownVersion())
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0", "--db", path}, {"migrate", "--db", path}, {"migrate", "--dry-run", "--db", path}} {
		code, _, err := runCLI(t, nil, args...)
		if code != 1 || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v on a newer schema: %d %v", args, code, err)
		}
	}
}

func TestServeStartUpErrors(t *testing.T) {
	dbtest.SQLiteOnly(t, "errors of the database file")
	t.Parallel()
	dir := t.TempDir()
	code, _, err := runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "nope", "x.db"))
	if code != 2 || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %d %v", code, err)
	}
	code, _, err = runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db"), "--backup-every", "1h")
	if code != 2 || !strings.Contains(err.Error(), "--backup-dir and --backup-every go together") {
		t.Errorf("backup-every without a dir: %d %v", code, err)
	}
	code, _, err = runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "x.db"), "--durability", "fast")
	if code != 2 || !strings.Contains(err.Error(), "--durability") {
		t.Errorf("bad durability: %d %v", code, err)
	}
}
