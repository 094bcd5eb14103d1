package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"
)

// Timeout bounds one message on the connection (and the connection's
// greeting, TLS and authentication), so a stuck server cannot hold a
// sender, or its lease, for long.
const Timeout = 20 * time.Second

// Message is one e-mail ready to go.
type Message struct {
	To        string
	Subject   string
	Body      string // plain text
	MessageID string // "<…@…>", the same at every attempt
	Date      time.Time
}

// session is one connection to the mail server, for several messages.
type session struct {
	cfg  Config
	from *mail.Address
	conn net.Conn
	c    *smtp.Client
}

// dial connects, upgrades to TLS as the mode says and authenticates.
func dial(ctx context.Context, cfg Config) (*session, error) {
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	mode := cfg.Mode()
	var conn net.Conn
	if mode == TLSImplicit {
		conn, err = (&tls.Dialer{Config: cfg.tlsConfig()}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(Timeout))
	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		conn.Close()
		return nil, said("greeting of "+addr, err)
	}
	s := &session{cfg: cfg, from: from, conn: conn, c: c}
	host, _ := os.Hostname()
	if host == "" || strings.ContainsAny(host, " \r\n") {
		host = "localhost"
	}
	if err := c.Hello(host); err != nil {
		s.close()
		return nil, said("EHLO", err)
	}
	if mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			s.close()
			return nil, errors.New("the mail server does not offer STARTTLS (--smtp-tls=none only for a relay on a trusted network)")
		}
		if err := c.StartTLS(cfg.tlsConfig()); err != nil {
			s.close()
			return nil, said("STARTTLS", err)
		}
	}
	if cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", cfg.User, cfg.Password, cfg.Host)); err != nil {
			s.close()
			return nil, said("AUTH", err)
		}
	}
	return s, nil
}

// deliveryError is a refusal of one message; the connection stays usable.
type deliveryError struct {
	err       error
	permanent bool // a 5xx answer to the recipient or the message: retrying will not help
}

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

// send hands over one message. A *deliveryError refuses this message only;
// any other error leaves the connection unusable.
func (s *session) send(m Message) error {
	_ = s.conn.SetDeadline(time.Now().Add(Timeout))
	rcpt, err := mail.ParseAddress(m.To)
	if err != nil {
		return &deliveryError{err: fmt.Errorf("recipient %q is not an e-mail address", m.To), permanent: true}
	}
	refused := func(stage string, err error, permanentIf5xx bool) error {
		var te *textproto.Error
		if !errors.As(err, &te) {
			return fmt.Errorf("%s: %w", stage, err)
		}
		_ = s.c.Reset()
		return &deliveryError{err: said(stage, err), permanent: permanentIf5xx && te.Code >= 500}
	}
	if err := s.c.Mail(s.from.Address); err != nil {
		return refused("MAIL FROM", err, false)
	}
	if err := s.c.Rcpt(rcpt.Address); err != nil {
		return refused("RCPT TO <"+rcpt.Address+">", err, true)
	}
	w, err := s.c.Data()
	if err != nil {
		return refused("DATA", err, true)
	}
	if _, err := w.Write(compose(s.from, rcpt, m)); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return refused("message", err, true)
	}
	return nil
}

// answerError is the mail server's answer to a command, as it said it:
// "RCPT TO <a@example.com>: 550 5.1.1 mailbox unavailable".
type answerError struct {
	stage string
	te    *textproto.Error
}

func (e *answerError) Error() string {
	return fmt.Sprintf("%s: %03d %s", e.stage, e.te.Code, strings.Join(strings.Fields(e.te.Msg), " "))
}
func (e *answerError) Unwrap() error { return e.te }

// said names the stage of err, with the server's answer when it is one.
func said(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &answerError{stage: stage, te: te}
	}
	return fmt.Errorf("%s: %w", stage, err)
}

func (s *session) close() {
	_ = s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	_ = s.c.Quit()
	_ = s.c.Close()
}

// compose builds the message: headers safe against injection (no line
// breaks get through, non-ASCII is encoded) and a body that is plain
// 7-bit text when it can be, quoted-printable otherwise.
func compose(from, to *mail.Address, m Message) []byte {
	oneLine := strings.NewReplacer("\r", " ", "\n", " ")
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", oneLine.Replace(m.Subject)))
	fmt.Fprintf(&b, "Date: %s\r\n", m.Date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: %s\r\n", oneLine.Replace(m.MessageID))
	b.WriteString("Auto-Submitted: auto-generated\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n")
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if isASCII(body) {
		b.WriteString("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	} else {
		b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		qp := quotedprintable.NewWriter(&b)
		_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
		_ = qp.Close()
	}
	return b.Bytes()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Send delivers one message on a connection of its own (for a check of
// the settings; the sender keeps a connection for a batch).
func Send(ctx context.Context, cfg Config, m Message) error {
	s, err := dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.close()
	return s.send(m)
}
