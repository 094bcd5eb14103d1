package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
)

func TestCallerOp(t *testing.T) {
	var got string
	func() { got = callerOp(1) }()
	if got != "test caller op" {
		t.Errorf("callerOp = %q", got)
	}
}

// The stores' errors are told apart by their codes (SQLite's result code,
// PostgreSQL's SQLSTATE), also when wrapped.
func TestStoreErrorClasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := migratedDB.open(t)
	exec := func(q string) error {
		return d.update(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, q); return err })
	}
	if err := exec(`CREATE TABLE t (k TEXT UNIQUE, n BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	trigger := `CREATE TRIGGER t_no BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'owner: the account owner cannot be deleted'); END`
	if d.Store() == "postgres" {
		trigger = `CREATE FUNCTION t_no() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'owner: the account owner cannot be deleted'; END $$;
			CREATE TRIGGER t_no BEFORE DELETE ON t FOR EACH ROW EXECUTE FUNCTION t_no()`
	}
	if err := exec(trigger); err != nil {
		t.Fatal(err)
	}
	if err := exec(`INSERT INTO t VALUES ('a', 1)`); err != nil {
		t.Fatal(err)
	}
	dup := exec(`INSERT INTO t VALUES ('a', 2)`)
	if !isUnique(dup) || !isUnique(fmt.Errorf("wrapped: %w", dup)) {
		t.Errorf("unique violation not recognised: %v", dup)
	}
	notNull := exec(`INSERT INTO t VALUES ('b', NULL)`)
	if notNull == nil || isUnique(notNull) || isTriggerAbort(notNull) {
		t.Errorf("NOT NULL taken for another class: %v", notNull)
	}
	del := exec(`DELETE FROM t`)
	if !isTriggerAbort(del) {
		t.Fatalf("trigger abort not recognised: %v", del)
	}
	var e *Error
	if re := ruleViolation(del); !errors.As(re, &e) || e.Code != EForbidden || e.Message != "The account owner cannot be deleted." {
		t.Errorf("ruleViolation = %v", re)
	}
	// A message that merely looks like a rule is not one.
	if re := ruleViolation(errors.New("UNIQUE constraint failed: owner: x")); ErrorCode(re) != "" || isUnique(re) {
		t.Errorf("text taken for a code: %v", re)
	}
}
