package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/dbtest"
	"fleetgate/db/mailer"
	"fleetgate/db/mailer/mailtest"
)

var empty = dbtest.NewTemplate("outbox", nil)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func queue(t testing.TB, d *db.DB, n int, secret bool) {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := d.EnqueueMailForTest(context.Background(), db.Mail{To: fmt.Sprintf("p%d@example.com", i), Kind: "test",
			Subject: fmt.Sprintf("Message %d", i), Body: "Open https://fleet.example.com/reset/abc\n", Secret: secret}); err != nil {
			t.Fatal(err)
		}
	}
}

type row struct {
	State, Via, LastError, Body string
	Attempts                    int
}

func rowsOf(t testing.TB, d *db.DB) []row {
	t.Helper()
	rs, err := d.QueryForTest(context.Background(), `SELECT state, via, last_error, body, attempts FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.State, &r.Via, &r.LastError, &r.Body, &r.Attempts); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// Each TLS mode delivers to a server of that kind, with authentication;
// every message carries a Message-ID made of its outbox id; a secret body
// is erased once sent.
func TestDeliveryInEachTLSMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{mailtest.Plain, mailtest.StartTLS, mailtest.TLS} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := mailtest.Start(t, mode)
			d := empty.Open(t)
			queue(t, d, 3, true)
			cfg := srv.Config()
			cfg.User, cfg.Password = "fleet", "mail secret"
			s := &mailer.Sender{DB: d, SMTP: cfg, Log: quiet()}
			r, err := s.Drain(context.Background())
			if err != nil || r.Sent != 3 || r.Failed+r.Retried != 0 {
				t.Fatalf("drain: %+v %v", r, err)
			}
			msgs := srv.Messages()
			if len(msgs) != 3 {
				t.Fatalf("%d messages", len(msgs))
			}
			for i, m := range msgs {
				if m.TLS != (mode != mailtest.Plain) {
					t.Errorf("message %d over TLS: %v", i, m.TLS)
				}
				want, _ := s.MessageID(context.Background(), int64(i+1), time.Time{})
				prefix := want[:strings.Index(want, ".")+1] + fmt.Sprint(i+1) + "."
				if !strings.HasPrefix(m.MessageID, prefix) || !strings.HasSuffix(m.MessageID, "@example.com>") || m.To != fmt.Sprintf("TO:<p%d@example.com>", i) {
					t.Errorf("message %d: id %q to %q", i, m.MessageID, m.To)
				}
				if !strings.Contains(m.Data, "https://fleet.example.com/reset/abc") || m.Subject != fmt.Sprintf("Message %d", i) {
					t.Errorf("message %d: %q\n%s", i, m.Subject, m.Data)
				}
			}
			if c := srv.Credentials(); len(c) != 1 || c[0] != "\x00fleet\x00mail secret" {
				t.Errorf("credentials: %q", c)
			}
			for i, r := range rowsOf(t, d) {
				if r.State != "sent" || r.Via != "smtp" || r.Attempts != 1 || r.Body != "" {
					t.Errorf("row %d: %+v", i, r)
				}
			}
		})
	}
}

// STARTTLS is required in its mode: a server without it is refused (not
// spoken to in the clear), and an untrusted certificate fails the attempt.
func TestTLSIsRequired(t *testing.T) {
	t.Parallel()
	plain := mailtest.Start(t, mailtest.Plain)
	cfg := plain.Config()
	cfg.TLS = mailer.TLSStartTLS
	err := mailer.Send(context.Background(), cfg, mailer.Message{To: "a@example.com", Subject: "x", Body: "y", MessageID: "<1@example.com>"})
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("starttls against a plain server: %v", err)
	}
	tlsSrv := mailtest.Start(t, mailtest.StartTLS)
	cfg = tlsSrv.Config()
	cfg.TLSConfig = nil // the system's roots do not know the test certificate
	err = mailer.Send(context.Background(), cfg, mailer.Message{To: "a@example.com", Subject: "x", Body: "y", MessageID: "<1@example.com>"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if len(plain.Messages())+len(tlsSrv.Messages()) != 0 {
		t.Fatal("a message went out")
	}
}

// A temporary refusal is retried with backoff, then the message is failed
// with the server's answer; a permanent one fails it at once.
func TestFailureIsRetriedThenFailed(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Plain)
	d := empty.Open(t)
	queue(t, d, 1, true)
	srv.RefuseRecipients("451 4.3.0 mailbox busy, try again later")
	s := &mailer.Sender{DB: d, SMTP: srv.Config(), Log: quiet(), MaxAttempts: 3, Backoff: time.Millisecond}
	r, err := s.Drain(context.Background())
	if err != nil || r.Retried != 2 || r.Failed != 1 || r.Sent != 0 {
		t.Fatalf("drain: %+v %v", r, err)
	}
	got := rowsOf(t, d)[0]
	if got.State != "failed" || got.Attempts != 3 || got.LastError != "RCPT TO <p0@example.com>: 451 4.3.0 mailbox busy, try again later" || got.Body == "" {
		t.Fatalf("row: %+v", got)
	}

	queue(t, d, 1, false)
	srv.RefuseRecipients("550 5.1.1 mailbox unavailable")
	r, err = s.Drain(context.Background())
	if err != nil || r.Failed != 1 || r.Retried != 0 {
		t.Fatalf("permanent: %+v %v", r, err)
	}
	if got := rowsOf(t, d)[1]; got.State != "failed" || got.Attempts != 1 || !strings.HasSuffix(got.LastError, ": 550 5.1.1 mailbox unavailable") {
		t.Fatalf("row: %+v", got)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a refused message counted as sent")
	}
}

// A server that cannot be reached: the attempt is counted and retried
// later, not at once.
func TestUnreachableServerRetriesLater(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Plain)
	cfg := srv.Config()
	srv.Close()
	d := empty.Open(t)
	queue(t, d, 2, false)
	s := &mailer.Sender{DB: d, SMTP: cfg, Log: quiet()}
	r, err := s.Drain(context.Background())
	if err != nil || r.Retried != 2 {
		t.Fatalf("drain: %+v %v", r, err)
	}
	due, ok, err := d.NextMailDue(context.Background())
	if err != nil || !ok || time.Until(due) < 15*time.Second {
		t.Fatalf("next attempt %v (%v, %v): want about 30 s away", due, ok, err)
	}
	for _, r := range rowsOf(t, d) {
		if r.State != "queued" || r.Attempts != 1 || !strings.Contains(r.LastError, "connection refused") {
			t.Fatalf("row: %+v", r)
		}
	}
}

// Two senders on one database file (two processes' worth of connections)
// send every message exactly once.
func TestTwoSendersSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.Plain)
	d1 := empty.Open(t)
	d2, err := db.Open(context.Background(), d1.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	const n = 300
	queue(t, d1, n, false)
	var wg sync.WaitGroup
	results := make([]mailer.Result, 4)
	for i := range results {
		d := d1
		if i%2 == 1 {
			d = d2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &mailer.Sender{DB: d, SMTP: srv.Config(), Log: quiet(), Batch: 5}
			r, err := s.Drain(context.Background())
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	sent := 0
	for _, r := range results {
		sent += r.Sent
	}
	ids := map[string]int{}
	for _, m := range srv.Messages() {
		ids[m.MessageID]++
	}
	if sent != n || len(srv.Messages()) != n || len(ids) != n {
		t.Fatalf("senders report %d sent (%+v); server got %d messages, %d distinct", sent, results, len(srv.Messages()), len(ids))
	}
	for _, r := range rowsOf(t, d1) {
		if r.State != "sent" || r.Attempts != 1 {
			t.Fatalf("row: %+v", r)
		}
	}
}

// A claim holds until its lease ends: another sender leaves the message
// alone, and the claim's owner, once its message is taken back, changes
// nothing. Taking claims back (serve at start) sends such messages again,
// with the same Message-ID.
func TestClaimsAndTheirLease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := mailtest.Start(t, mailtest.Plain)
	d := empty.Open(t)
	queue(t, d, 1, false)
	dead, err := d.ClaimMail(ctx, 10, time.Now().Add(time.Hour))
	if err != nil || len(dead) != 1 || dead[0].Attempt != 1 {
		t.Fatalf("claim: %+v %v", dead, err)
	}
	s := &mailer.Sender{DB: d, SMTP: srv.Config(), Log: quiet()}
	if r, err := s.Drain(ctx); err != nil || r.Sent != 0 {
		t.Fatalf("a claimed message was sent: %+v %v", r, err)
	}
	if n, err := d.ReclaimMail(ctx); err != nil || n != 1 {
		t.Fatalf("reclaim: %d %v", n, err)
	}
	if r, err := s.Drain(ctx); err != nil || r.Sent != 1 {
		t.Fatalf("after reclaim: %+v %v", r, err)
	}
	if err := d.MailSent(ctx, dead[0], "smtp"); !errors.Is(err, db.ErrLeaseLost) {
		t.Fatalf("the dead claim marked the message: %v", err)
	}
	if got := rowsOf(t, d)[0]; got.State != "sent" || got.Attempts != 2 {
		t.Fatalf("row: %+v", got)
	}
}

// Without a mail server the messages go to the log, links included.
func TestWithoutSMTPMessagesGoToTheLog(t *testing.T) {
	t.Parallel()
	d := empty.Open(t)
	queue(t, d, 2, true)
	var b strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return b.Write(p)
	}), nil))
	r, err := (&mailer.Sender{DB: d, Log: log}).Drain(context.Background())
	if err != nil || r.Sent != 2 {
		t.Fatalf("drain: %+v %v", r, err)
	}
	if n := strings.Count(b.String(), "link=https://fleet.example.com/reset/abc"); n != 2 {
		t.Fatalf("%d links in the log:\n%s", n, b.String())
	}
	for _, r := range rowsOf(t, d) {
		if r.State != "sent" || r.Via != "log" {
			t.Fatalf("row: %+v", r)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Run wakes when a message is queued in this process: it leaves at once,
// not at the next poll (an hour away here).
func TestRunWakesWhenMailIsQueued(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, mailtest.StartTLS)
	d := empty.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&mailer.Sender{DB: d, SMTP: srv.Config(), Log: quiet(), Poll: time.Hour}).Run(ctx) }()
	for i := 1; i <= 3; i++ {
		start := time.Now()
		queue(t, d, 1, false)
		srv.WaitFor(t, 5*time.Second, "message delivered", func(s *mailtest.Server) bool { return len(s.Messages()) == i })
		t.Logf("queued to received: %v", time.Since(start))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// BenchmarkOutboxThroughput: messages per second from the outbox to a
// local test server (STARTTLS), claims and marks included.
func BenchmarkOutboxThroughput(b *testing.B) {
	srv := mailtest.Start(b, mailtest.StartTLS)
	d, err := db.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	queue(b, d, b.N, false)
	s := &mailer.Sender{DB: d, SMTP: srv.Config(), Log: quiet()}
	b.ResetTimer()
	start := time.Now()
	r, err := s.Drain(context.Background())
	if err != nil || r.Sent != b.N {
		b.Fatalf("%+v %v", r, err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
