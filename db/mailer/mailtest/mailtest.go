// Package mailtest is an SMTP server for tests, on 127.0.0.1 only: plain,
// with STARTTLS, or TLS from the first byte, with a certificate made for
// the run. It keeps every message it accepted, can refuse recipients with
// an answer of the test's choice, and can hold its answer to a message (as
// a server that dies before it says "250").
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"net/mail"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/db/mailer"
)

// Modes of the server.
const (
	Plain    = "none"     // no TLS
	StartTLS = "starttls" // offers STARTTLS (and requires it before MAIL)
	TLS      = "tls"      // TLS from the first byte
)

// Message is one message the server accepted.
type Message struct {
	From, To  string
	Data      string
	MessageID string
	Subject   string
	TLS       bool // came over TLS
}

// Server is a running test server.
type Server struct {
	Addr string
	Port int
	mode string
	cert tls.Certificate
	pool *x509.CertPool
	ln   net.Listener

	mu       sync.Mutex
	msgs     []Message
	received []string // Message-IDs of every message read, answered or not
	auth     []string
	rcpt     string // answer to RCPT ("" : 250)
	hold     bool
	changed  chan struct{}
	conns    map[net.Conn]bool
}

// Start runs a server in mode until the test ends.
func Start(t testing.TB, mode string) *Server {
	t.Helper()
	s, err := start(mode, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func start(mode, addr string) (*Server, error) {
	s := &Server{mode: mode, changed: make(chan struct{}), conns: map[net.Conn]bool{}}
	if err := s.makeCert(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if mode == TLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{s.cert}})
	}
	s.ln, s.Addr, s.Port = ln, ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[conn] = true
			s.mu.Unlock()
			go s.serve(conn)
		}
	}()
	return s, nil
}

// Close stops the server and drops its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Config is the sender's configuration for this server.
func (s *Server) Config() mailer.Config {
	return mailer.Config{Host: "127.0.0.1", Port: s.Port, TLS: s.mode, From: "Fleetgate <fleet@example.com>",
		TLSConfig: &tls.Config{RootCAs: s.pool}}
}

// CertPool trusts the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// RefuseRecipients makes RCPT answer with answer (e.g. "550 5.1.1 mailbox
// unavailable"); "" accepts again.
func (s *Server) RefuseRecipients(answer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rcpt = answer
}

// Hold makes the server read messages without answering them (true), or
// answer again (false).
func (s *Server) Hold(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hold = on
}

// Messages are the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Received are the Message-IDs of every message read, answered or not.
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

// Credentials are the decoded AUTH PLAIN credentials received.
func (s *Server) Credentials() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

// WaitFor waits until cond holds of the server (checked at each message
// read or accepted), or fails the test after timeout.
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, what string, cond func(*Server) bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("mail server: %s: not within %s (%d accepted, %d read)", what, timeout, len(s.Messages()), len(s.Received()))
		}
	}
}

// notify wakes WaitFor; called with s.mu held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(conn net.Conn) {
	defer func() {
		conn.Close()
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
	}()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	_, isTLS := conn.(*tls.Conn)
	tp := textproto.NewConn(conn)
	say := func(line string) { _ = tp.PrintfLine("%s", line) }
	say("220 mailtest ESMTP ready")
	var m Message
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			lines := []string{"mailtest", "PIPELINING", "8BITMIME", "AUTH PLAIN"}
			if s.mode == StartTLS && !isTLS {
				lines = append(lines, "STARTTLS")
			}
			for i, l := range lines {
				sep := "-"
				if i == len(lines)-1 {
					sep = " "
				}
				say("250" + sep + l)
			}
		case "STARTTLS":
			if s.mode != StartTLS || isTLS {
				say("503 5.5.1 TLS not available")
				continue
			}
			say("220 2.0.0 ready to start TLS")
			tc := tls.Server(conn, &tls.Config{Certificates: []tls.Certificate{s.cert}})
			if err := tc.Handshake(); err != nil {
				return
			}
			s.mu.Lock()
			delete(s.conns, conn)
			s.conns[tc] = true
			s.mu.Unlock()
			conn, isTLS = tc, true
			tp = textproto.NewConn(conn)
		case "AUTH":
			_, b64, _ := strings.Cut(arg, " ")
			creds, _ := base64.StdEncoding.DecodeString(b64)
			s.mu.Lock()
			s.auth = append(s.auth, string(creds))
			s.mu.Unlock()
			say("235 2.7.0 Authentication successful")
		case "MAIL":
			if s.mode == StartTLS && !isTLS {
				say("530 5.7.0 Must issue a STARTTLS command first")
				continue
			}
			m = Message{From: arg, TLS: isTLS}
			say("250 2.1.0 OK")
		case "RCPT":
			s.mu.Lock()
			answer := s.rcpt
			s.mu.Unlock()
			if answer != "" {
				say(answer)
				continue
			}
			m.To = arg
			say("250 2.1.5 OK")
		case "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.Data = string(data)
			if msg, err := mail.ReadMessage(strings.NewReader(m.Data)); err == nil {
				m.MessageID = msg.Header.Get("Message-ID")
				m.Subject = msg.Header.Get("Subject")
			}
			s.mu.Lock()
			s.received = append(s.received, m.MessageID)
			hold := s.hold
			if !hold {
				s.msgs = append(s.msgs, m)
			}
			s.notify()
			s.mu.Unlock()
			if hold {
				// Never answered: the client waits until it gives up or dies.
				_, _ = tp.ReadLine()
				return
			}
			say("250 2.0.0 OK queued")
		case "RSET", "NOOP":
			m = Message{TLS: isTLS}
			say("250 2.0.0 OK")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("502 5.5.2 not implemented")
		}
	}
}

// makeCert makes a self-signed certificate for 127.0.0.1 and localhost.
func (s *Server) makeCert() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	s.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	s.pool = x509.NewCertPool()
	s.pool.AddCert(leaf)
	return nil
}
