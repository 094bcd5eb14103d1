// Package mailer delivers the outbox (see db/outbox.go): a background
// sender claims due messages, hands them to the mail server over SMTP and
// marks each sent, retries failures with exponential backoff and jitter,
// and marks a message failed, with the server's answer, after its last
// attempt or at once when the server refuses it for good (a 5xx answer to
// the recipient or the message). Without a mail server set up, messages
// are written to the server log and marked sent "via log".
//
// Exactly once, as far as SMTP allows: a message is claimed by one sender
// at a time (a conditional UPDATE with a lease), marked sent right after
// the server's "250" for it, and carries a Message-ID derived from its
// outbox id, the same at every attempt. The window that remains is a crash
// (or a lost connection) between the server accepting the message and the
// mark being written: after the lease the message is sent again, with the
// same Message-ID, so that a receiving system can tell it is a resend.
package mailer

import (
	"crypto/tls"
	"fmt"
	"net/mail"
)

// TLS modes of the connection to the mail server.
const (
	TLSAuto     = "auto"     // TLS from the first byte on port 465, else STARTTLS
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a relay on this machine or network
)

// Config says how to reach the mail server. With an empty Host no e-mail
// is sent: messages are written to the server log instead.
type Config struct {
	Host     string
	Port     int    // 587 by default
	TLS      string // auto (the default), starttls, tls or none
	User     string // PLAIN authentication when set
	Password string
	From     string // "Fleetgate <fleet@example.com>" or a bare address

	// TLSConfig, when set, is the base of the TLS configuration (tests
	// trust their own certificate with it); ServerName is filled in.
	TLSConfig *tls.Config
}

// Enabled reports whether e-mail can be sent.
func (c Config) Enabled() bool { return c.Host != "" }

// Mode is the TLS mode in force: auto resolved by the port.
func (c Config) Mode() string {
	switch c.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
		return c.TLS
	}
	if c.Port == 465 {
		return TLSImplicit
	}
	return TLSStartTLS
}

// Check reports a configuration that cannot work, for the command line.
func (c Config) Check() error {
	if !c.Enabled() {
		return nil
	}
	if c.Port <= 0 || c.Port > 65535 {
		return fmt.Errorf("smtp port %d is not a port", c.Port)
	}
	switch c.TLS {
	case "", TLSAuto, TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return fmt.Errorf("smtp tls %q: choose auto, starttls, tls or none", c.TLS)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("smtp from %q is not an e-mail address (set --smtp-from)", c.From)
	}
	return nil
}

func (c Config) tlsConfig() *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		t = c.TLSConfig.Clone()
	}
	t.ServerName = c.Host
	return t
}
