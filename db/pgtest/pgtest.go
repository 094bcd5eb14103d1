// Package pgtest gives tests databases of their own on the PostgreSQL
// server named by FLEETGATE_TEST_POSTGRES (its maintenance database, e.g.
// postgres://postgres@/postgres?host=/tmp/dir; `make test-postgres` starts
// a throwaway server and sets it). Without it the tests run on SQLite and
// this package is not used. It does not import package db, so that db's
// own tests can use it as well as dbtest.
//
// Only test code imports this package.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Server is the PostgreSQL server the tests run on ("" for SQLite).
func Server() string { return os.Getenv("FLEETGATE_TEST_POSTGRES") }

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// maintenance is a connection to the server's maintenance database.
func maintenance() (*sql.DB, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", Server())
		if adminErr == nil {
			admin.SetMaxOpenConns(2)
		}
	})
	return admin, adminErr
}

// addrOf is the server's address with the database name replaced.
func addrOf(name string) string {
	u, err := url.Parse(Server())
	if err != nil {
		panic(fmt.Sprintf("FLEETGATE_TEST_POSTGRES: %v", err))
	}
	u.Path = "/" + name
	return u.String()
}

// nameOf is the database name in an address made by addrOf.
func nameOf(addr string) string {
	u, err := url.Parse(addr)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// CreateDatabase makes a database named prefix_<random>, a copy of the
// database at template when it is not "", and returns its address.
func CreateDatabase(ctx context.Context, prefix, template string) (string, error) {
	a, err := maintenance()
	if err != nil {
		return "", err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := strings.ToLower(prefix) + "_" + hex.EncodeToString(b)
	q := `CREATE DATABASE "` + name + `"`
	if template != "" {
		q += ` TEMPLATE "` + nameOf(template) + `"`
	}
	// A template must have no session open: the sessions of a database
	// just closed may take a moment to end on the server.
	for try := 0; ; try++ {
		_, err = a.ExecContext(ctx, q)
		if err == nil || try == 100 || !strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return addrOf(name), nil
}

func DropDatabase(ctx context.Context, addr string) {
	if a, err := maintenance(); err == nil {
		_, _ = a.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+nameOf(addr)+`" WITH (FORCE)`)
	}
}

// Database makes a database for t (a copy of template when it is not
// ""), dropped when t ends.
func Database(t testing.TB, template string) string {
	t.Helper()
	addr, err := CreateDatabase(context.Background(), "t", template)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { DropDatabase(context.Background(), addr) })
	return addr
}
