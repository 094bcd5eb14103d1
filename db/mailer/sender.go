package mailer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"fleetgate/db"
)

// Defaults of a Sender.
const (
	DefaultPoll        = 5 * time.Second
	DefaultMaxAttempts = 8
	DefaultBackoff     = 30 * time.Second // before the second attempt; doubles each time
	DefaultMaxBackoff  = time.Hour
	DefaultBatch       = 20
)

// Sender drains the outbox. Several may run on one database (in one
// process or several): each message is claimed by one of them at a time.
type Sender struct {
	DB   *db.DB
	SMTP Config // Host empty: messages go to Log
	Log  *slog.Logger

	Poll        time.Duration // how often to look for due messages besides the wake-ups
	MaxAttempts int           // attempts before a message is failed
	Backoff     time.Duration // wait before the second attempt; doubles, with jitter
	MaxBackoff  time.Duration
	Batch       int // messages claimed (and sent on one connection) at a time
	// Alone says no other sender runs on the database (serve holds its
	// lock): messages claimed by a sender that died are taken back at
	// start rather than after their lease.
	Alone bool

	idSalt string // part of every Message-ID: this installation's, not another's
}

func (s *Sender) defaults(ctx context.Context) error {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Poll <= 0 {
		s.Poll = DefaultPoll
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.Backoff <= 0 {
		s.Backoff = DefaultBackoff
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = DefaultMaxBackoff
	}
	if s.Batch <= 0 {
		s.Batch = DefaultBatch
	}
	if s.idSalt == "" {
		salt, err := s.DB.Secret(ctx, "mail-message-id", 6)
		if err != nil {
			return err
		}
		s.idSalt = hex.EncodeToString(salt)
	}
	return nil
}

// lease is how long a claim holds: every message of a batch may take its
// whole Timeout, and a minute to spare.
func (s *Sender) lease() time.Duration { return time.Duration(s.Batch)*Timeout + time.Minute }

// Run delivers until ctx ends: at once, then whenever a message is queued
// in this process (db.MailQueued), when a retry falls due, and every Poll
// (messages queued by another process).
func (s *Sender) Run(ctx context.Context) error {
	if err := s.defaults(ctx); err != nil {
		return err
	}
	if s.Alone {
		n, err := s.DB.ReclaimMail(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			s.Log.Warn("outbox: e-mails claimed by a server that stopped are tried again now (one the mail server had accepted goes again, with the same Message-ID)",
				"count", n)
		}
	}
	timer := time.NewTimer(s.Poll)
	defer timer.Stop()
	for {
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("outbox: delivery pass failed", "err", err)
		}
		wait := s.Poll
		if due, ok, err := s.DB.NextMailDue(ctx); err == nil && ok {
			// Stored times are whole seconds: wake just after.
			wait = min(wait, max(time.Until(due)+50*time.Millisecond, 100*time.Millisecond))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-s.DB.MailQueued():
		case <-timer.C:
		}
	}
}

// Result counts what a Drain did.
type Result struct {
	Sent, Retried, Failed int
}

// Drain delivers every message due now, batch after batch, until none is
// due (a retry due at once is tried again in the same Drain). It stops
// early when ctx ends, giving back what it claimed and did not try.
func (s *Sender) Drain(ctx context.Context) (Result, error) {
	var r Result
	if err := s.defaults(ctx); err != nil {
		return r, err
	}
	for ctx.Err() == nil {
		until := time.Now().Add(s.lease())
		batch, err := s.DB.ClaimMail(ctx, s.Batch, until)
		if err != nil {
			return r, err
		}
		if len(batch) == 0 {
			return r, nil
		}
		if s.SMTP.Enabled() {
			err = s.deliver(ctx, batch, until, &r)
		} else {
			err = s.logAll(ctx, batch, &r)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// link finds the first address in a body, for the log line.
var link = regexp.MustCompile(`https?://\S+`)

// logAll writes the messages to the log: the console's e-mail without a
// mail server (links included, as the operator passes them on).
func (s *Sender) logAll(ctx context.Context, batch []db.OutboxMail, r *Result) error {
	ctx = context.WithoutCancel(ctx)
	for _, m := range batch {
		s.Log.Info("e-mail (no mail server set up: written to this log)", "outbox_id", m.ID, "kind", m.Kind,
			"email", m.To, "subject", m.Subject, "body", m.Body, "link", link.FindString(m.Body))
		if err := s.DB.MailSent(ctx, m, "log"); err != nil && !errors.Is(err, db.ErrLeaseLost) {
			return err
		}
		r.Sent++
	}
	return nil
}

// deliver sends a batch on one connection, marking each message as soon
// as the server answered it.
func (s *Sender) deliver(ctx context.Context, batch []db.OutboxMail, until time.Time, r *Result) error {
	store := context.WithoutCancel(ctx) // marks are written even while stopping
	release := func(rest []db.OutboxMail) error {
		for _, m := range rest {
			if err := s.DB.ReleaseMail(store, m); err != nil && !errors.Is(err, db.ErrLeaseLost) {
				return err
			}
		}
		return nil
	}
	sess, err := dial(ctx, s.SMTP)
	if err != nil {
		for _, m := range batch {
			if err := s.failed(store, m, err, false, r); err != nil {
				return err
			}
		}
		return nil
	}
	defer sess.close()
	for i, m := range batch {
		if ctx.Err() != nil || time.Until(until) < Timeout {
			return release(batch[i:])
		}
		err := sess.send(s.message(m))
		if err == nil {
			s.Log.Info("e-mail sent", "outbox_id", m.ID, "kind", m.Kind, "email", m.To, "attempt", m.Attempt)
			if err := s.DB.MailSent(store, m, "smtp"); err != nil {
				if errors.Is(err, db.ErrLeaseLost) {
					s.Log.Warn("outbox: e-mail sent after its claim ran out", "outbox_id", m.ID)
					continue
				}
				return err
			}
			r.Sent++
			continue
		}
		var de *deliveryError
		if errors.As(err, &de) {
			if err := s.failed(store, m, err, de.permanent, r); err != nil {
				return err
			}
			continue
		}
		// The connection broke: this message and the rest get another go.
		for _, m := range batch[i:] {
			if err := s.failed(store, m, err, false, r); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// failed records a failed attempt: another one after the backoff, or the
// message is failed (its last attempt, or a permanent refusal).
func (s *Sender) failed(ctx context.Context, m db.OutboxMail, cause error, permanent bool, r *Result) error {
	answer := cause.Error()
	var retry time.Time
	if !permanent && m.Attempt < s.MaxAttempts {
		retry = time.Now().Add(s.backoff(m.Attempt))
	}
	err := s.DB.MailFailed(ctx, m, answer, retry)
	if errors.Is(err, db.ErrLeaseLost) {
		return nil
	}
	if err != nil {
		return err
	}
	if retry.IsZero() {
		r.Failed++
		s.Log.Error("e-mail failed", "outbox_id", m.ID, "kind", m.Kind, "email", m.To, "attempts", m.Attempt, "answer", answer)
	} else {
		r.Retried++
		s.Log.Warn("e-mail not sent, will retry", "outbox_id", m.ID, "kind", m.Kind, "email", m.To, "attempt", m.Attempt,
			"retry_at", retry.UTC().Format(time.RFC3339), "answer", answer)
	}
	return nil
}

// backoff is the wait after attempt n: Backoff doubled n-1 times, capped,
// with ±25% jitter so that many messages failed together do not all come
// back at the same moment.
func (s *Sender) backoff(n int) time.Duration {
	d := s.Backoff
	for i := 1; i < n && d < s.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.MaxBackoff)
	return time.Duration(float64(d) * (0.75 + 0.5*rand.Float64()))
}

// message is the e-mail of an outbox row. Its Message-ID and Date come
// from the row, so every attempt sends the same message.
func (s *Sender) message(m db.OutboxMail) Message {
	domain := "fleetgate.invalid"
	if a, err := mail.ParseAddress(s.SMTP.From); err == nil {
		domain = a.Address[strings.LastIndex(a.Address, "@")+1:]
	}
	return Message{To: m.To, Subject: m.Subject, Body: m.Body, Date: m.CreatedAt,
		MessageID: fmt.Sprintf("<outbox.%d.%d.%s@%s>", m.ID, m.CreatedAt.Unix(), s.idSalt, domain)}
}

// MessageID is the Message-ID the sender gives outbox message id made at
// created (for tests and for looking a message up in a mail server's log).
func (s *Sender) MessageID(ctx context.Context, id int64, created time.Time) (string, error) {
	if err := s.defaults(ctx); err != nil {
		return "", err
	}
	return s.message(db.OutboxMail{ID: id, CreatedAt: created}).MessageID, nil
}
