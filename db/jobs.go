package db

import (
	"context"
	"fmt"
)

// Background work and several instances. Every instance of one
// installation runs the same background jobs (the e-mail sender, pruning,
// the scheduled e-mails, the access review reminders); each piece of
// their work happens once however many instances run it:
//
//   - The work itself is done in write transactions (d.update), which are
//     serialized across instances (one writer on SQLite; on PostgreSQL
//     every write transaction takes one advisory lock first), and each
//     checks inside its transaction whether the piece is still to do: an
//     outbox message is claimed by a conditional UPDATE that moves its
//     next attempt past a lease (ClaimMail), a scheduled e-mail by the
//     unique row that records it in mail_schedule, a review reminder by
//     the conditional UPDATE of review_reminded_on, and a pruned row is
//     deleted once. A second instance finds the piece done and does nothing.
//   - On top of that, a whole run of a job is exclusive (Exclusive): two
//     instances whose timers fire at the same moment do not both read
//     through every account only for the second to find everything done.
//
// The API rate limiter is the one thing kept per process (handlers).

// Exclusive runs fn unless another instance is running the job of that
// name at this moment, in which case it returns ran false at once (the
// other instance does the work). On SQLite, where one server holds the
// file, fn always runs. On PostgreSQL the job's advisory lock is held by
// a session of the reader pool for as long as fn runs.
func (d *DB) Exclusive(ctx context.Context, job string, fn func(context.Context) error) (ran bool, err error) {
	if d.dia.name() == "sqlite" {
		return true, fn(ctx)
	}
	conn, err := d.r.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("job %s: %w", job, err)
	}
	defer conn.Close()
	ok, release, err := d.dia.tryJob(ctx, conn, job)
	if err != nil {
		return false, fmt.Errorf("job %s: %w", job, err)
	}
	if !ok {
		return false, nil
	}
	defer release()
	return true, fn(ctx)
}
