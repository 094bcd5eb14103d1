package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/mailer/mailtest"
)

// asFleetgate, set in a child's environment, makes the test binary run as
// the fleetgate command (TestMain).
const asFleetgate = "FLEETGATE_TEST_AS_COMMAND"

// startChild runs "fleetgate serve" as a process of its own (this test
// binary, see TestMain) on a free loopback port, and returns it with its
// address once it listens.
func startChild(t *testing.T, args ...string) (*exec.Cmd, string, *syncBuffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, append([]string{"serve", "--addr", "127.0.0.1:0", "--access-log=false"}, args...)...)
	cmd.Env = append(os.Environ(), asFleetgate+"=1")
	out := &syncBuffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	listening := regexp.MustCompile(`Fleetgate is listening.* url=http://(127\.0\.0\.1:\d+)`)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(out, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a, out
	case <-time.After(60 * time.Second):
		t.Fatalf("fleetgate serve did not listen:\n%s", out)
	}
	return nil, "", nil
}

// forgot asks for a password reset link for email on the console at addr:
// a change (a reset link is made) that queues an e-mail.
func forgot(t *testing.T, addr, email string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	res, err := c.Get("http://" + addr + "/forgot")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	u, _ := url.Parse("http://" + addr)
	token := ""
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "fleetgate_csrf" {
			token = ck.Value
		}
	}
	res, err = c.PostForm("http://"+addr+"/forgot", url.Values{"email": {email}, "_csrf": {token}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("forgot %s: %d", email, res.StatusCode)
	}
}

// A server killed (SIGKILL) while the mail server holds its answer to a
// message, with more messages queued behind it, delivers every one of
// them once after it starts again; the message whose answer it never got
// goes again with the same Message-ID.
func TestKilledServerDeliversItsOutboxAfterRestartOnce(t *testing.T) {
	dbtest.SQLiteOnly(t, "a restart takes back the claims of the server that held the file; on PostgreSQL they wait for their lease")
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Plain)
	file := demoDB.PathAs(t, "fleet.db")
	args := []string{"--db", file, "--demo", "--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(srv.Port), "--smtp-tls", "none",
		"--smtp-from", "Fleetgate <fleet@example.com>", "--base-url", "http://fleet.example.com",
		"--notify-every", "0"} // no scheduled e-mails (the demo's weekly digest): the resets alone
	emails := []string{"owner@demo.test", "admin@demo.test", "manager@demo.test", "accountant@demo.test", "driver@demo.test"}

	srv.Hold(true)
	first, addr, out := startChild(t, args...)
	for _, e := range emails {
		forgot(t, addr, e)
	}
	srv.WaitFor(t, 30*time.Second, "the first message read", func(s *mailtest.Server) bool { return len(s.Received()) >= 1 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	held := srv.Received()[0]
	if len(srv.Messages()) != 0 {
		t.Fatal("a message was answered while held")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	var queued int
	if err := d.QueryRowForTest(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'queued'`).Scan(&queued); err != nil || queued != len(emails) {
		t.Fatalf("%d queued after the kill (%v), want %d", queued, err, len(emails))
	}
	d.Close()

	srv.Hold(false)
	second, _, out2 := startChild(t, args...)
	srv.WaitFor(t, 30*time.Second, "every message delivered", func(s *mailtest.Server) bool { return len(s.Messages()) >= len(emails) })
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("second server: %v\n%s", err, out2)
	}
	var to, ids []string
	for _, m := range srv.Messages() {
		to = append(to, m.To)
		ids = append(ids, m.MessageID)
	}
	sort.Strings(to)
	if len(to) != len(emails) || len(slices.Compact(slices.Clone(to))) != len(emails) {
		t.Fatalf("delivered to %q\nfirst server:\n%s\nsecond server:\n%s", to, out, out2)
	}
	distinct := map[string]bool{}
	for _, id := range ids {
		distinct[id] = true
	}
	if len(distinct) != len(emails) || !distinct[held] {
		t.Fatalf("Message-IDs %q; the held one %q must be among them, each once", ids, held)
	}
	if !strings.Contains(out2.String(), "tried again now") {
		t.Fatalf("the restart does not say it took back the dead server's claim:\n%s", out2)
	}
	d, err = db.Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var sent int
	if err := d.QueryRowForTest(ctx, `SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND via = 'smtp'`).Scan(&sent); err != nil || sent != len(emails) {
		t.Fatalf("%d marked sent (%v)", sent, err)
	}
}

// The time from a change (a reset link made through the console) to its
// e-mail reaching a local mail server, through serve's own sender.
func TestMailLeavesWithinASecondOfTheChange(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Plain)
	addr, _, stop := startServe(t, nil, "--db", demoDB.PathAs(t, "fleet.db"), "--demo", "--access-log=false",
		"--smtp-host", "127.0.0.1", "--smtp-port", fmt.Sprint(srv.Port), "--smtp-tls", "none",
		"--smtp-from", "fleet@example.com", "--base-url", "http://fleet.example.com", "--mail-poll", "1h", "--notify-every", "0")
	defer stop()
	emails := []string{"owner@demo.test", "admin@demo.test", "manager@demo.test", "accountant@demo.test", "driver@demo.test"}
	var took []time.Duration
	for i, e := range emails {
		start := time.Now()
		forgot(t, addr, e)
		srv.WaitFor(t, 5*time.Second, "the e-mail delivered", func(s *mailtest.Server) bool { return len(s.Messages()) == i+1 })
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	t.Logf("request to e-mail received: median %v, max %v (%d changes)", took[len(took)/2], took[len(took)-1], len(took))
	if took[len(took)-1] > 2*time.Second {
		t.Fatalf("an e-mail took %v", took[len(took)-1])
	}
}
