package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"fleetgate/db"
	"fleetgate/db/mailer"
)

// opsOptions are serve's operations flags: durability, shutdown, metrics,
// scheduled backups and pruning.
type opsOptions struct {
	durability     string
	shutdownGrace  time.Duration
	metricsAddr    string
	backupDir      string
	backupEvery    time.Duration
	backupKeep     int
	pruneEvery     time.Duration
	inviteKeep     time.Duration
	signInKeep     time.Duration
	auditRetention time.Duration
	mailPoll       time.Duration
	mailAttempts   int
	notifyEvery    time.Duration
}

func opsFlags(f *flags, o *opsOptions) {
	f.Choice(&o.durability, "durability", "FLEETGATE_DURABILITY", "normal",
		"normal: a power loss may roll back the last commits, never corrupts; full: every acknowledged commit survives it, commits wait for the disk",
		"normal", "full")
	f.Duration(&o.shutdownGrace, "shutdown-grace", "FLEETGATE_SHUTDOWN_GRACE", 30*time.Second,
		"on SIGINT/SIGTERM, how long requests in progress may take to finish")
	f.String(&o.metricsAddr, "metrics-addr", "FLEETGATE_METRICS_ADDR", "", "HOST:PORT",
		"serve Prometheus metrics at /metrics on this separate address (unset: no metrics)", func(v string) error {
			if v == "" {
				return nil
			}
			return checkAddr(v)
		})
	f.String(&o.backupDir, "backup-dir", "FLEETGATE_BACKUP_DIR", "", "DIR",
		"write scheduled backups into this directory (with --backup-every)", checkDir)
	f.ZeroDuration(&o.backupEvery, "backup-every", "FLEETGATE_BACKUP_EVERY", 0, "how often to write a scheduled backup (0: never)")
	f.Count(&o.backupKeep, "backup-keep", "FLEETGATE_BACKUP_KEEP", 7, "how many scheduled backups to keep, newest first (0: all)")
	f.Duration(&o.pruneEvery, "prune-every", "FLEETGATE_PRUNE_EVERY", time.Hour,
		"how often to delete ended sessions and tokens, spent throttle rows, old invitations and sign-ins")
	f.Duration(&o.inviteKeep, "invite-retention", "FLEETGATE_INVITE_RETENTION", db.DefaultInvitationRetention,
		"how long used, revoked or expired invitations are kept")
	f.Duration(&o.signInKeep, "sign-in-retention", "FLEETGATE_SIGN_IN_RETENTION", db.DefaultSignInRetention,
		"how far back the sign-in history goes")
	f.ZeroDuration(&o.notifyEvery, "notify-every", "FLEETGATE_NOTIFY_EVERY", time.Hour,
		"how often to write the scheduled e-mails that are due (access and grants ending, subscription ending, weekly digest; 0: never)")
	f.ZeroDuration(&o.auditRetention, "audit-retention", "FLEETGATE_AUDIT_RETENTION", 0, "delete audit events older than this (0: keep them all)")
	f.Duration(&o.mailPoll, "mail-poll", "FLEETGATE_MAIL_POLL", mailer.DefaultPoll,
		"how often the e-mail sender looks for due messages (a message queued by this server wakes it at once)")
	f.Count(&o.mailAttempts, "mail-attempts", "FLEETGATE_MAIL_ATTEMPTS", mailer.DefaultMaxAttempts,
		"attempts to deliver an e-mail before it is marked failed (retries wait 30 s, doubling up to 1 h)")
	f.check(func() error {
		if (o.backupDir == "") != (o.backupEvery == 0) {
			return errors.New("--backup-dir and --backup-every go together: give both for scheduled backups, or neither")
		}
		return nil
	})
}

// checkDir accepts an existing directory (or nothing).
func checkDir(v string) error {
	if v == "" {
		return nil
	}
	if st, err := os.Stat(v); err != nil || !st.IsDir() {
		return errors.New("is not an existing directory: create it first")
	}
	return nil
}

// workers runs the background jobs until ctx ends; stop waits for them.
type workers struct {
	wg sync.WaitGroup
}

// every runs job every interval until ctx ends; at once as well when now.
func (w *workers) every(ctx context.Context, interval time.Duration, now bool, job func(context.Context)) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if now {
			job(ctx)
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				job(ctx)
			}
		}
	}()
}

func (w *workers) wait() { w.wg.Wait() }

// run runs job once until ctx ends.
func (w *workers) run(job func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		job()
	}()
}

// startWorkers starts the e-mail sender, pruning, the scheduled e-mails,
// access review reminders, the writing of permission uses and, when
// asked, scheduled backups.
func (o *opsOptions) startWorkers(ctx context.Context, d *db.DB, log *slog.Logger, smtp mailer.Config) *workers {
	w := &workers{}
	// The outbox's sender: what was queued while the server was stopped
	// goes at once, then each message as it is queued.
	// On SQLite serve holds the database's lock: no other sender runs on
	// it, and what a dead server had claimed is taken back at start. On
	// PostgreSQL other instances' senders run beside this one: a claim
	// they hold is left to its lease.
	sender := &mailer.Sender{DB: d, SMTP: smtp, Log: log, Poll: o.mailPoll, MaxAttempts: o.mailAttempts, Alone: d.Store() == "sqlite"}
	w.run(func() {
		if err := sender.Run(ctx); err != nil {
			log.Error("the e-mail sender stopped", "err", err)
		}
	})
	keep := db.Retention{Invitations: o.inviteKeep, SignIns: o.signInKeep, Audit: o.auditRetention}
	// Each job runs in one instance at a time (db.Exclusive); another
	// instance whose timer fires meanwhile leaves the run to it.
	prune := func(ctx context.Context) {
		var p db.Pruned
		_, err := d.Exclusive(ctx, "prune", func(ctx context.Context) (err error) {
			p, err = d.Prune(ctx, keep)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("pruning failed", "err", err)
		case p.Total() > 0:
			log.Info("pruned", "sessions", p.Sessions, "api_tokens", p.Tokens, "throttle_rows", p.Throttles,
				"invitations", p.Invitations, "sign_ins", p.SignIns, "audit_events", p.AuditEvents,
				"permission_uses", p.PermissionUses)
		}
	}
	// What piled up while the server was stopped goes at once.
	w.every(ctx, o.pruneEvery, true, prune)
	// An Owner whose account's access review is due gets one reminder
	// e-mail per due date (written to the outbox).
	w.every(ctx, time.Hour, true, func(ctx context.Context) {
		var n int
		_, err := d.Exclusive(ctx, "review-reminders", func(ctx context.Context) (err error) {
			n, err = d.RemindReviewsDue(ctx)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("access review reminders failed", "err", err)
		case n > 0:
			log.Info("access review reminders queued", "accounts", n)
		}
	})
	// Permission uses noted in memory are written every minute (and by
	// the database's Close at shutdown).
	w.every(ctx, db.UseFlushInterval, false, func(ctx context.Context) {
		if err := d.FlushUses(ctx); err != nil && ctx.Err() == nil {
			log.Error("writing permission uses failed", "err", err)
		}
	})
	// Scheduled e-mails record what they sent for which period (in the
	// transaction that writes them to the outbox): a restart sends nothing
	// twice, and what fell due while stopped goes at once.
	if o.notifyEvery > 0 {
		w.every(ctx, o.notifyEvery, true, func(ctx context.Context) {
			var n db.Scheduled
			_, err := d.Exclusive(ctx, "scheduled-mail", func(ctx context.Context) (err error) {
				n, err = d.SendScheduled(ctx)
				return err
			})
			switch {
			case err != nil && ctx.Err() == nil:
				log.Error("scheduled e-mails failed", "err", err)
			case n != (db.Scheduled{}):
				log.Info("scheduled e-mails written", "access_ending", n.AccessEnding, "grants_ending", n.GrantsEnding,
					"subscription_ending", n.SubscriptionEnding, "digests", n.Digests)
			}
		})
	}
	if o.backupEvery > 0 {
		w.every(ctx, o.backupEvery, false, func(ctx context.Context) {
			file, err := d.BackupTo(ctx, o.backupDir, o.backupKeep)
			if err != nil {
				if ctx.Err() == nil {
					log.Error("scheduled backup failed", "dir", o.backupDir, "err", err)
				}
				return
			}
			log.Info("scheduled backup written", "file", file)
		})
	}
	return w
}
