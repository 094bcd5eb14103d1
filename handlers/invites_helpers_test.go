package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/db"
	"fleetgate/db/password"
	"fleetgate/db/perm"
	"fleetgate/handlers"
)

// Helpers of the invitation, add-person, profile and audit tests.

// logBuffer collects the server log; handlers write from their goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newAppWithLog(t testing.TB) (*app, *logBuffer) {
	buf := &logBuffer{}
	return newAppConfigured(t, handlers.Config{Logger: slogTo(buf)}), buf
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// closedPort is a loopback port nobody listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// loginWith logs in with a password of the test's choice.
func (a *app) loginWith(email, pw string) *client {
	a.t.Helper()
	c := a.client()
	res := c.postForm("/login", url.Values{"email": {email}, "password": {pw}})
	if res.status != http.StatusSeeOther {
		a.t.Fatalf("login %s: status %d", email, res.status)
	}
	return c
}

// actorOf loads the first membership of a login as an actor.
func actorByEmail(t testing.TB, a *app, email string) *db.Actor {
	t.Helper()
	ctx := context.Background()
	u, found, err := a.db.UserForLogin(ctx, email)
	if err != nil || !found {
		t.Fatalf("no login %s: %v", email, err)
	}
	ms, err := a.db.Memberships(ctx, u.ID)
	if err != nil || len(ms) == 0 {
		t.Fatalf("no membership of %s: %v", email, err)
	}
	act, err := a.db.ActorByMember(ctx, ms[0].MemberID)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

// memberIn loads the member of a login in the given account.
func memberOfAccount(t testing.TB, a *app, email string, accountID int64) *db.Actor {
	t.Helper()
	ctx := context.Background()
	u, found, err := a.db.UserForLogin(ctx, email)
	if err != nil || !found {
		t.Fatalf("no login %s: %v", email, err)
	}
	ms, _ := a.db.Memberships(ctx, u.ID)
	for _, m := range ms {
		if m.AccountID == accountID {
			act, err := a.db.ActorByMember(ctx, m.MemberID)
			if err != nil {
				t.Fatal(err)
			}
			return act
		}
	}
	t.Fatalf("%s is not a member of account %d", email, accountID)
	return nil
}

// roleID is the id of a built-in role of the actor's account.
func builtinRoleID(t testing.TB, a *app, act *db.Actor, b perm.Builtin) int64 {
	t.Helper()
	opts, err := a.db.RoleOptions(context.Background(), act)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		if o.Builtin == b {
			return o.ID
		}
	}
	t.Fatalf("no role %s", b)
	return 0
}

// otherAccount creates a second account whose owner logs in with pw.
func secondAccount(t testing.TB, a *app, name, email, pw string) *db.Actor {
	t.Helper()
	ctx := context.Background()
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := a.db.CreateUser(ctx, db.NewUser{Email: email, PasswordHash: hash, FirstName: "Bea", LastName: "Other"})
	if err != nil {
		t.Fatal(err)
	}
	_, mid, err := a.db.CreateAccount(ctx, db.NewAccount{Name: name, PaidVehicles: 5, OwnerUserID: uid})
	if err != nil {
		t.Fatal(err)
	}
	act, err := a.db.ActorByMember(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	return act
}

// invite posts the invite form and returns the answer and the link shown.
func (c *client) invite(email string, role int64, access string) (response, string) {
	c.a.t.Helper()
	res := c.postForm("/users/invite", url.Values{"email": {email}, "role_id": {fmt.Sprint(role)}, "channel": {"web"}, "vehicle_access": {access}})
	link, _ := res.doc().Find("[data-testid=invite-link]").Attr("value")
	return res, link
}

// pathOf is the path of an absolute link of the test server.
func linkPath(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path == "" {
		t.Fatalf("not a link: %q", link)
	}
	return u.Path
}

// auditOf returns the account's audit entries whose kind starts with prefix.
func auditEntries(t testing.TB, a *app, act *db.Actor, prefix string) []db.AuditEntry {
	t.Helper()
	es, _, err := a.db.AuditLog(context.Background(), act, db.AuditFilter{Kind: prefix, PerPage: 500})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// fieldError is the message shown next to a form field.
func fieldMsg(r response, field string) string {
	return strings.Join(r.find("[data-testid=error-"+field+"]"), " ")
}

// fakeSMTP is a small SMTP server on 127.0.0.1: enough of the protocol for
// net/smtp (greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT), keeping
// every message it receives.
type fakeSMTP struct {
	addr string
	port int
	mu   sync.Mutex
	msgs []fakeMail
	auth []string // decoded AUTH PLAIN credentials
}

type fakeMail struct {
	From string
	To   []string
	Data string
}

func startFakeSMTP(t testing.TB) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	f := &fakeSMTP{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	say := func(s string) { fmt.Fprintf(conn, "%s\r\n", s) }
	say("220 fake.test ESMTP ready")
	var m fakeMail
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			say("250-fake.test")
			say("250 AUTH PLAIN")
		case "HELO":
			say("250 fake.test")
		case "AUTH":
			_, b64, _ := strings.Cut(arg, " ")
			creds, _ := base64.StdEncoding.DecodeString(b64)
			f.mu.Lock()
			f.auth = append(f.auth, string(creds))
			f.mu.Unlock()
			say("235 2.7.0 Authentication successful")
		case "MAIL":
			m = fakeMail{From: arg}
			say("250 OK")
		case "RCPT":
			m.To = append(m.To, arg)
			say("250 OK")
		case "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = data.String()
			f.mu.Lock()
			f.msgs = append(f.msgs, m)
			f.mu.Unlock()
			say("250 OK queued")
		case "RSET", "NOOP":
			say("250 OK")
		case "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (f *fakeSMTP) messages() []fakeMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeMail(nil), f.msgs...)
}

func (f *fakeSMTP) credentials() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

// parsed reads a received message: its decoded subject and body.
func (m fakeMail) parsed(t testing.TB) (subject, body string, header mail.Header) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("bad message: %v\n%s", err, m.Data)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, _ := io.ReadAll(r)
	return subject, string(b), msg.Header
}
