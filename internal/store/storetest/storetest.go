// Package storetest gives tests databases to run the store on: a fresh
// SQLite file always, and a fresh PostgreSQL schema when the environment
// names a server in ATRIUM_TEST_POSTGRES_URL (CI always does). Tests that
// run on every engine check that both stores behave alike.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// PostgresEnv names the environment variable holding the PostgreSQL URL
// tests use, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const PostgresEnv = "ATRIUM_TEST_POSTGRES_URL"

// Engine is a database engine tests can run on.
type Engine string

// The engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Engines lists the engines available here: SQLite, and PostgreSQL when
// PostgresEnv is set.
func Engines() []Engine {
	if os.Getenv(PostgresEnv) == "" {
		return []Engine{SQLite}
	}
	return []Engine{SQLite, Postgres}
}

// Run runs fn as a subtest per available engine.
func Run(t *testing.T, fn func(t *testing.T, e Engine)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, e) })
	}
}

// SQLitePath returns a database file in a fresh temporary folder.
func SQLitePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "atrium.sqlite")
}

// PostgresURL creates an empty schema on the test server and returns a URL
// whose connections use it, so that tests running in parallel never see
// each other's tables. The schema is dropped when the test ends. It skips
// the test when PostgresEnv is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Skipf("%s is not set", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "atrium_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
