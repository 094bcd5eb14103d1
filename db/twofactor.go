package db

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Two-factor sign-in: a login may add a time-based one-time code (TOTP,
// RFC 6238: 6 digits, 30-second steps, SHA-1, as authenticator apps
// expect) to its password. The secret is stored encrypted with a server
// key (AES-256-GCM, bound to the login's id); a code is accepted in its
// step and one step either side, and only once: the last accepted step is
// kept, so a code seen over a shoulder cannot be used again. Ten recovery
// codes, shown once and stored as SHA-256 hashes, stand in for a lost
// phone, each once.

// TOTP parameters.
const (
	totpPeriod        = 30
	totpSkew          = 1
	RecoveryCodeCount = 10
	totpIssuer        = "Fleetgate"
	// PendingLoginTTL is how long the second step of a login waits for its code.
	PendingLoginTTL = 5 * time.Minute
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TwoFactor is the two-factor state of a login, as My profile shows it.
type TwoFactor struct {
	Enabled      bool
	Since        time.Time
	RecoveryLeft int
}

// TwoFactorSetup is a secret being set up: the text to type into an
// authenticator app and the otpauth:// address that carries it.
type TwoFactorSetup struct {
	Secret string
	URI    string
}

func (d *DB) totpAEAD(ctx context.Context) (cipher.AEAD, error) {
	key, err := d.Secret(ctx, "totp-key", 32)
	if err != nil {
		return nil, fmt.Errorf("totp key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// The key is read before any write transaction begins: reading it may
// write it (the first time), and the writer is one connection.

func sealSecret(aead cipher.AEAD, userID int64, secret string) []byte {
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, []byte(secret), []byte("totp:"+strconv.FormatInt(userID, 10)))
}

func openSecret(aead cipher.AEAD, userID int64, sealed []byte) (string, error) {
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("totp secret: too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte("totp:"+strconv.FormatInt(userID, 10)))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return string(plain), nil
}

func setupOf(email, secret string) (TwoFactorSetup, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return TwoFactorSetup{}, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: raw})
	if err != nil {
		return TwoFactorSetup{}, err
	}
	return TwoFactorSetup{Secret: key.Secret(), URI: key.URL()}, nil
}

// TwoFactorOf reads the two-factor state of a login.
func (d *DB) TwoFactorOf(ctx context.Context, userID int64) (TwoFactor, error) {
	var tf TwoFactor
	var since sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT confirmed_at, (SELECT count(*) FROM totp_recovery_codes WHERE user_id = ? AND used_at IS NULL)
		FROM totp_secrets WHERE user_id = ?`, userID, userID).Scan(&since, &tf.RecoveryLeft)
	if errors.Is(err, sql.ErrNoRows) {
		return TwoFactor{}, nil
	}
	if err != nil {
		return tf, fmt.Errorf("read two-factor: %w", err)
	}
	if since.Valid {
		tf.Enabled = true
		tf.Since, _ = time.Parse(time.RFC3339Nano, since.String)
	} else {
		tf.RecoveryLeft = 0
	}
	return tf, nil
}

// HasTwoFactor reports whether a login signs in with a code as well.
func (d *DB) HasTwoFactor(ctx context.Context, userID int64) (bool, error) {
	tf, err := d.TwoFactorOf(ctx, userID)
	return tf.Enabled, err
}

// BeginTwoFactor makes a new secret for the actor's login, kept until a
// code from it confirms it (the caller has checked the password). A
// login that already has two-factor sign-in is refused.
func (d *DB) BeginTwoFactor(ctx context.Context, a *Actor) (TwoFactorSetup, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: a.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TwoFactorSetup{}, fmt.Errorf("generate totp: %w", err)
	}
	aead, err := d.totpAEAD(ctx)
	if err != nil {
		return TwoFactorSetup{}, err
	}
	sealed := sealSecret(aead, a.UserID, key.Secret())
	err = d.update(ctx, func(tx *sql.Tx) error {
		var confirmed sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT confirmed_at FROM totp_secrets WHERE user_id = ?`, a.UserID).Scan(&confirmed)
		if err == nil && confirmed.Valid {
			return Errorf(EConflict, "Two-factor sign-in is already on. Remove it first to set up a new phone.")
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO totp_secrets (user_id, secret, created_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, confirmed_at = NULL, last_step = 0`,
			a.UserID, sealed, d.stamp())
		return err
	})
	if err != nil {
		return TwoFactorSetup{}, err
	}
	return TwoFactorSetup{Secret: key.Secret(), URI: key.URL()}, nil
}

// PendingTwoFactor is the secret being set up, to show it again beside a
// wrong code; ENotFound when none is being set up.
func (d *DB) PendingTwoFactor(ctx context.Context, a *Actor) (TwoFactorSetup, error) {
	var sealed []byte
	err := d.r.QueryRowContext(ctx, `SELECT secret FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NULL`, a.UserID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return TwoFactorSetup{}, notFound("Two-factor setup")
	}
	if err != nil {
		return TwoFactorSetup{}, err
	}
	aead, err := d.totpAEAD(ctx)
	if err != nil {
		return TwoFactorSetup{}, err
	}
	secret, err := openSecret(aead, a.UserID, sealed)
	if err != nil {
		return TwoFactorSetup{}, err
	}
	return setupOf(a.Email, secret)
}

// IsTOTPCode reports whether s has the shape of a code from the app (six
// digits, spaces ignored) rather than of a recovery code.
func IsTOTPCode(s string) bool {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if len(s) != 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// matchStep finds the time step within the allowed skew whose code is
// code, or 0.
func matchStep(secret, code string, now time.Time) int64 {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	step := now.Unix() / totpPeriod
	for i := -totpSkew; i <= totpSkew; i++ {
		s := step + int64(i)
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0).UTC(), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s
		}
	}
	return 0
}

// ConfirmTwoFactor turns two-factor sign-in on with a code from the secret
// being set up, and returns the recovery codes, to be shown once.
func (d *DB) ConfirmTwoFactor(ctx context.Context, a *Actor, code string) ([]string, error) {
	if !IsTOTPCode(code) {
		return nil, FieldError("code", "Enter the 6-digit code your app shows for Fleetgate.")
	}
	aead, err := d.totpAEAD(ctx)
	if err != nil {
		return nil, err
	}
	var codes []string
	err = d.update(ctx, func(tx *sql.Tx) error {
		var sealed []byte
		err := tx.QueryRowContext(ctx, `SELECT secret FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NULL`, a.UserID).Scan(&sealed)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(EConflict, "There is no two-factor setup to confirm. Start again with your password.")
		}
		if err != nil {
			return err
		}
		secret, err := openSecret(aead, a.UserID, sealed)
		if err != nil {
			return err
		}
		step := matchStep(secret, code, d.Now())
		if step == 0 {
			return FieldError("code", "This code is not right. Check that your phone's clock is correct and enter the code shown now.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET confirmed_at = ?, last_step = ? WHERE user_id = ?`,
			d.stamp(), step, a.UserID); err != nil {
			return err
		}
		if codes, err = newRecoveryCodes(ctx, tx, a.UserID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "twofactor.enable", Target: a.Email, Summary: "Turned on two-factor sign-in",
			Before: map[string]any{"two_factor": "off"}, After: map[string]any{"two_factor": "on", "recovery_codes": len(codes)}})
	})
	return codes, err
}

// newRecoveryCodes replaces a login's recovery codes with new ones.
func newRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodeCount)
	enc := base32.NewEncoding("abcdefghijkmnpqrstuvwxyz23456789").WithPadding(base32.NoPadding)
	for i := range codes {
		b := make([]byte, 10) // 80 bits
		_, _ = rand.Read(b)
		s := enc.EncodeToString(b) // 16 characters
		codes[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		if _, err := tx.ExecContext(ctx, `INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES (?, ?)`,
			userID, recoveryHash(codes[i])); err != nil {
			return nil, fmt.Errorf("store recovery code: %w", err)
		}
	}
	return codes, nil
}

func recoveryHash(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ':
			return -1
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return r
	}, code)
	h := sha256.Sum256([]byte("recovery\x00" + norm))
	return h[:]
}

// SecondFactor answers whether code (from the app, or a recovery code) is
// right for a login now. An app code is taken once: a code of a step
// already used, or older, is refused. A recovery code is used up.
// how is "totp", "recovery", or "" when refused.
func (d *DB) SecondFactor(ctx context.Context, userID int64, code string) (how string, err error) {
	aead, err := d.totpAEAD(ctx)
	if err != nil {
		return "", err
	}
	err = d.update(ctx, func(tx *sql.Tx) error {
		how, err = d.secondFactor(ctx, aead, tx, userID, code)
		return err
	})
	return how, err
}

func (d *DB) secondFactor(ctx context.Context, aead cipher.AEAD, tx *sql.Tx, userID int64, code string) (string, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 40 {
		return "", nil
	}
	if IsTOTPCode(code) {
		var sealed []byte
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT secret, last_step FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NOT NULL`, userID).
			Scan(&sealed, &last)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		secret, err := openSecret(aead, userID, sealed)
		if err != nil {
			return "", err
		}
		step := matchStep(secret, code, d.Now())
		if step == 0 || step <= last {
			return "", nil // wrong, or already used (replay)
		}
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET last_step = ? WHERE user_id = ? AND last_step < ?`, step, userID, step)
		if err != nil {
			return "", err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return "", nil
		}
		return "totp", nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE totp_recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL
		AND EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NOT NULL)`,
		d.stamp(), userID, recoveryHash(code), userID)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return "", nil
	}
	return "recovery", nil
}

// DisableTwoFactor turns two-factor sign-in off with a current code or a
// recovery code (the caller has checked the password).
func (d *DB) DisableTwoFactor(ctx context.Context, a *Actor, code string) error {
	aead, err := d.totpAEAD(ctx)
	if err != nil {
		return err
	}
	return d.update(ctx, func(tx *sql.Tx) error {
		how, err := d.secondFactor(ctx, aead, tx, a.UserID, code)
		if err != nil {
			return err
		}
		if how == "" {
			return FieldError("code", "This code is not right (or was used already). Enter the code your app shows now, or a recovery code.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE user_id = ?`, a.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM totp_recovery_codes WHERE user_id = ?`, a.UserID); err != nil {
			return err
		}
		return d.audit(ctx, tx, a, Event{Kind: "twofactor.disable", Target: a.Email, Summary: "Turned off two-factor sign-in",
			Before: map[string]any{"two_factor": "on"}, After: map[string]any{"two_factor": "off", "confirmed_with": how}})
	})
}

// PendingLogin is a login whose password was right, waiting for its code.
type PendingLogin struct {
	UserID, MemberID int64
	Next             string
}

// CreatePendingLogin starts the second step of a login and returns the
// token for the browser; only its hash is stored. Older pending steps of
// the login end.
func (d *DB) CreatePendingLogin(ctx context.Context, userID, memberID int64, next string) (string, error) {
	token := NewToken()
	now := d.Now()
	err := d.update(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending_logins WHERE user_id = ? OR expires_at < ?`, userID, now.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_logins (id_hash, user_id, member_id, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashToken(token), userID, memberID, truncate(next, 500), now.Format(time.RFC3339Nano), now.Add(PendingLoginTTL).Format(time.RFC3339Nano))
		return err
	})
	return token, err
}

// PendingLoginOf reads a pending login; a missing or expired one is ENotFound.
func (d *DB) PendingLoginOf(ctx context.Context, token string) (PendingLogin, error) {
	var p PendingLogin
	var expires string
	err := d.r.QueryRowContext(ctx, `SELECT user_id, member_id, next, expires_at FROM pending_logins WHERE id_hash = ?`, hashToken(token)).
		Scan(&p.UserID, &p.MemberID, &p.Next, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("Sign-in")
	}
	if err != nil {
		return p, err
	}
	if t, err := time.Parse(time.RFC3339Nano, expires); err != nil || !d.Now().Before(t) {
		return p, notFound("Sign-in")
	}
	return p, nil
}

// EndPendingLogin ends a pending login (used, or abandoned).
func (d *DB) EndPendingLogin(ctx context.Context, token string) error {
	_, err := d.w.ExecContext(ctx, `DELETE FROM pending_logins WHERE id_hash = ?`, hashToken(token))
	return err
}

// MustSetUpTwoFactor reports whether the actor's role requires two-factor
// sign-in and their login has none yet: then the console shows them only
// its setup until it is done. Evaluated on every request.
func (d *DB) MustSetUpTwoFactor(ctx context.Context, a *Actor) (bool, error) {
	var must bool
	err := d.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM two_factor_roles WHERE account_id = ? AND role_id = ?)
		AND NOT EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NOT NULL)`,
		a.AccountID, a.RoleID, a.UserID).Scan(&must)
	if err != nil {
		return false, fmt.Errorf("two-factor required: %w", err)
	}
	return must, nil
}

// TwoFactorRole is a role as the "require two-factor" setting lists it.
type TwoFactorRole struct {
	ID       int64
	Name     string
	Required bool
	Members  int // active members holding it
	Without  int // of whom without two-factor sign-in
}

// TwoFactorPolicy lists the account's roles (but Notifications only, which
// cannot log in) with whether each requires two-factor sign-in, and the
// setting's version.
func (d *DB) TwoFactorPolicy(ctx context.Context, a *Actor) ([]TwoFactorRole, int, error) {
	return twoFactorPolicy(ctx, d.r, a.AccountID)
}

func twoFactorPolicy(ctx context.Context, q queryer, accountID int64) ([]TwoFactorRole, int, error) {
	var version int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT version FROM two_factor_policy WHERE account_id = ?), 0)`, accountID).
		Scan(&version); err != nil {
		return nil, 0, fmt.Errorf("two-factor policy: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.name,
			EXISTS (SELECT 1 FROM two_factor_roles t WHERE t.account_id = r.account_id AND t.role_id = r.id),
			(SELECT count(*) FROM members m WHERE m.role_id = r.id AND m.status = 'active'),
			(SELECT count(*) FROM members m WHERE m.role_id = r.id AND m.status = 'active'
				AND NOT EXISTS (SELECT 1 FROM totp_secrets s WHERE s.user_id = m.user_id AND s.confirmed_at IS NOT NULL))
		  FROM roles r WHERE r.account_id = ? AND COALESCE(r.builtin, '') != 'notifications'
		 ORDER BY r.builtin IS NULL, r.id`, accountID)
	if err != nil {
		return nil, 0, fmt.Errorf("two-factor policy: %w", err)
	}
	defer rows.Close()
	var out []TwoFactorRole
	for rows.Next() {
		var r TwoFactorRole
		if err := rows.Scan(&r.ID, &r.Name, &r.Required, &r.Members, &r.Without); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
	}
	return out, version, rows.Err()
}

// SaveTwoFactorPolicy sets the roles of the actor's account whose members
// must use two-factor sign-in, if nobody saved the setting since version.
// A stale save is an EConflict.
func (d *DB) SaveTwoFactorPolicy(ctx context.Context, a *Actor, roleIDs []int64, version int) error {
	return d.update(ctx, func(tx *sql.Tx) error {
		roles, cur, err := twoFactorPolicy(ctx, tx, a.AccountID)
		if err != nil {
			return err
		}
		if cur != version {
			return Errorf(EConflict, "Someone changed this setting after you opened it. Your choice is kept below; check it and save again.")
		}
		want := map[int64]bool{}
		for _, id := range roleIDs {
			want[id] = true
		}
		var before, after []string
		known := 0
		for _, r := range roles {
			if r.Required {
				before = append(before, r.Name)
			}
			if want[r.ID] {
				after = append(after, r.Name)
				known++
			}
		}
		if known != len(want) {
			return FieldError("roles", "Choose among the roles listed.")
		}
		if strings.Join(before, "\x00") == strings.Join(after, "\x00") {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM two_factor_roles WHERE account_id = ?`, a.AccountID); err != nil {
			return err
		}
		for id := range want {
			if _, err := tx.ExecContext(ctx, `INSERT INTO two_factor_roles (account_id, role_id) VALUES (?, ?)`, a.AccountID, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO two_factor_policy (account_id, version) VALUES (?, 1)
			ON CONFLICT (account_id) DO UPDATE SET version = two_factor_policy.version + 1`, a.AccountID); err != nil {
			return err
		}
		if before == nil {
			before = []string{}
		}
		if after == nil {
			after = []string{}
		}
		return d.audit(ctx, tx, a, Event{Kind: "account.two_factor", Target: a.AccountName, Summary: "Changed which roles must use two-factor sign-in",
			Before: map[string]any{"required_for": before}, After: map[string]any{"required_for": after}})
	})
}
