package db

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"errors"
	"math/big"
	"strings"
	"time"
)

// First start: on a database without any account, the server makes a
// one-time setup code and prints it (log and console). Whoever reaches
// /setup with it creates the first account and its Owner; only the code's
// SHA-256 is stored, and it is deleted once used. Accounts made later come
// from the command line (CreateAccountWithOwner) or from the subscription
// page (AddSubscriptionAccount).

const setupCodeSecret = "setup-code"

// SetupThrottle bounds wrong setup codes: a few tries, then a lock.
var SetupThrottle = Throttle{Limit: 5, Window: 15 * time.Minute, Lock: time.Minute, MaxLock: 15 * time.Minute}

// SetupTTL is how long the "choose your password" link of an Owner created
// by CreateAccountWithOwner or AddSubscriptionAccount stays valid.
const SetupTTL = 7 * 24 * time.Hour

// HasAccount reports whether any account exists.
func (d *DB) HasAccount(ctx context.Context) (bool, error) {
	var one int
	err := d.r.QueryRowContext(ctx, `SELECT 1 FROM accounts LIMIT 1`).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// NewSetupCode makes a fresh setup code when no account exists, replacing
// any earlier one, and returns it; with an account it returns "".
func (d *DB) NewSetupCode(ctx context.Context) (string, error) {
	code := readableCode()
	err := d.update(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts LIMIT 1`).Scan(&one)
		if err == nil {
			code = ""
			_, err = tx.ExecContext(ctx, `DELETE FROM app_secrets WHERE name = ?`, setupCodeSecret)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO app_secrets (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, setupCodeSecret, hashToken(normalCode(code)))
		return err
	})
	return code, err
}

// readableCode is 16 characters of an alphabet without look-alikes, in four
// groups (about 80 bits): easy to copy from a log, impossible to guess.
func readableCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b strings.Builder
	for i := 0; i < 16; i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String()
}

// normalCode forgives case, spaces and dashes in a typed code.
func normalCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// FirstAccount is what the setup page asks for.
type FirstAccount struct {
	Code         string
	AccountName  string
	FirstName    string
	LastName     string
	Email        string
	PasswordHash string
}

// ErrSetupDone is the answer of setup once an account exists.
var ErrSetupDone = Errorf(ENotFound, "This Fleetgate is already set up. Log in instead.")

// SetupFirstAccount checks the setup code and creates the first account,
// its one-year subscription and its Owner, in one transaction; the code is
// used up. A wrong code is EInvalid on "code"; an existing account ErrSetupDone.
func (d *DB) SetupFirstAccount(ctx context.Context, fa FirstAccount) (Accepted, error) {
	var out Accepted
	err := d.update(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts LIMIT 1`).Scan(&one)
		if err == nil {
			return ErrSetupDone
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var stored []byte
		err = tx.QueryRowContext(ctx, `SELECT value FROM app_secrets WHERE name = ?`, setupCodeSecret).Scan(&stored)
		if errors.Is(err, sql.ErrNoRows) {
			return FieldError("code", "This setup code was already used. Restart the server to get a new one in its log.")
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(stored, hashToken(normalCode(fa.Code))) != 1 {
			return FieldError("code", "This is not the setup code. Copy it from the server's log or console (it changes at every start).")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM app_secrets WHERE name = ?`, setupCodeSecret); err != nil {
			return err
		}
		now := d.stamp()
		userID, err := createUser(ctx, tx, now, NewUser{Email: fa.Email, PasswordHash: fa.PasswordHash, FirstName: fa.FirstName, LastName: fa.LastName})
		if err != nil {
			return err
		}
		accountID, memberID, err := d.createAccount(ctx, tx, NewAccount{Name: fa.AccountName, OwnerUserID: userID})
		if err != nil {
			return err
		}
		out = Accepted{UserID: userID, MemberID: memberID, AccountID: accountID, AccountName: strings.TrimSpace(fa.AccountName)}
		owner := &Actor{MemberID: memberID, AccountID: accountID, UserID: userID, Email: fa.Email, FirstName: fa.FirstName, LastName: fa.LastName}
		return d.audit(ctx, tx, owner, Event{Kind: "account.create", Target: out.AccountName,
			Summary: "Set up Fleetgate: created the account and its Owner",
			After:   map[string]any{"account": out.AccountName, "owner": fa.Email, "via": "setup page"}})
	})
	return out, err
}

// NewOwnerAccount is an account made for an Owner who may not have a
// password yet (the command line, or another account of a subscription).
type NewOwnerAccount struct {
	Name           string
	OwnerEmail     string
	SubscriptionID int64 // 0: a new one-year subscription
	PaidVehicles   int
}

// OwnerAccount tells what was made. Token is the "choose your password"
// link's token when the Owner's e-mail had no login ("" otherwise).
type OwnerAccount struct {
	AccountID   int64
	AccountName string
	OwnerEmail  string
	Token       string
	ExpiresAt   time.Time
}

// createOwnerAccount makes the account and, when the e-mail has no login,
// a login without a password and a single-use link to choose one.
func (d *DB) createOwnerAccount(ctx context.Context, tx *sql.Tx, by *Actor, na NewOwnerAccount) (OwnerAccount, error) {
	out := OwnerAccount{AccountName: strings.TrimSpace(na.Name), OwnerEmail: strings.TrimSpace(na.OwnerEmail)}
	now := d.stamp()
	var userID int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, out.OwnerEmail).Scan(&userID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// No password yet: no password matches an empty hash.
		if userID, err = createUser(ctx, tx, now, NewUser{Email: out.OwnerEmail}); err != nil {
			return out, err
		}
		out.Token = NewToken()
		out.ExpiresAt = d.Now().Add(SetupTTL)
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (user_id, token_hash, purpose, requested_by, created_at, expires_at)
			VALUES (?, ?, 'setup', ?, ?, ?)`, userID, hashToken(out.Token), auditName(by), now, out.ExpiresAt.Format(time.RFC3339Nano)); err != nil {
			return out, err
		}
	case err != nil:
		return out, err
	}
	accountID, memberID, err := d.createAccount(ctx, tx, NewAccount{Name: out.AccountName, SubscriptionID: na.SubscriptionID,
		PaidVehicles: na.PaidVehicles, OwnerUserID: userID})
	if err != nil {
		return out, err
	}
	out.AccountID = accountID
	via := "command line"
	if by != nil {
		via = "subscription page, by " + by.Name() + " of " + by.AccountName
	}
	// The new account's log starts with its creation, in its own name.
	newAcct := &Actor{MemberID: memberID, AccountID: accountID, UserID: userID, Email: out.OwnerEmail}
	if by != nil {
		newAcct = &Actor{MemberID: by.MemberID, AccountID: accountID, FirstName: by.FirstName, LastName: by.LastName, Email: by.Email}
	}
	return out, d.audit(ctx, tx, newAcct, Event{Kind: "account.create", Target: out.AccountName, Summary: "Created the account",
		After: map[string]any{"account": out.AccountName, "owner": out.OwnerEmail, "via": via, "password_link": out.Token != ""}})
}

func auditName(a *Actor) string {
	if a == nil {
		return "command line"
	}
	return a.Name()
}

// CreateAccountWithOwner creates an account with a new one-year
// subscription; its Owner gets a link to choose a password when the
// e-mail has no login yet (the command line's "account create").
func (d *DB) CreateAccountWithOwner(ctx context.Context, na NewOwnerAccount) (OwnerAccount, error) {
	var out OwnerAccount
	err := d.update(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = d.createOwnerAccount(ctx, tx, nil, na)
		return err
	})
	return out, err
}

// AddSubscriptionAccount creates another account under the actor's
// subscription (people who keep separate accounts but pay once), with the
// given e-mail as its Owner. The paid vehicles count across all of them.
//
// mail, when set, composes the e-mail to the new Owner (a link to choose a
// password for a new login, else a notice): it is written to the outbox in
// the same transaction, about the new account.
func (d *DB) AddSubscriptionAccount(ctx context.Context, a *Actor, name, ownerEmail string, mail func(OwnerAccount) (Mail, bool)) (OwnerAccount, error) {
	var out OwnerAccount
	err := d.update(ctx, func(tx *sql.Tx) error {
		var subID int64
		if err := tx.QueryRowContext(ctx, `SELECT subscription_id FROM accounts WHERE id = ?`, a.AccountID).Scan(&subID); err != nil {
			return err
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM accounts WHERE subscription_id = ? AND lower(name) = lower(?)`,
			subID, strings.TrimSpace(name)).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return FieldError("name", "This subscription already has an account named %q.", strings.TrimSpace(name))
		}
		var err error
		if out, err = d.createOwnerAccount(ctx, tx, a, NewOwnerAccount{Name: name, OwnerEmail: ownerEmail, SubscriptionID: subID}); err != nil {
			return err
		}
		if mail != nil {
			if m, ok := mail(out); ok {
				m.AccountID, m.To = out.AccountID, out.OwnerEmail
				m.Secret = m.Secret || out.Token != ""
				if err := d.enqueueMail(ctx, tx, m); err != nil {
					return err
				}
			}
		}
		return d.audit(ctx, tx, a, Event{Kind: "subscription.account_add", Target: out.AccountName,
			Summary: "Added the account " + out.AccountName + " to the subscription",
			After:   map[string]any{"account": out.AccountName, "owner": out.OwnerEmail}})
	})
	return out, err
}
