// Package testenv gives tests a fresh database of either dialect: SQLite
// always (a file in the test's temp dir), PostgreSQL when
// SLUICE_TEST_POSTGRES holds a DSN (each database a schema of its own, so
// tests stay independent and can run in parallel).
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/migrations"
)

// PostgresEnv names the variable holding the PostgreSQL DSN for tests.
const PostgresEnv = "SLUICE_TEST_POSTGRES"

// Each runs fn as a subtest on a fresh, migrated database of each dialect.
// Without SLUICE_TEST_POSTGRES the PostgreSQL subtest is skipped with a
// message saying so; .ci/run always sets it.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(Name(d), func(t *testing.T) {
			fn(t, New(t, d))
		})
	}
}

// EachBench runs fn as a sub-benchmark on a fresh, migrated database of
// each dialect; the PostgreSQL one is skipped without SLUICE_TEST_POSTGRES.
func EachBench(b *testing.B, fn func(b *testing.B, db *database.DB)) {
	b.Helper()
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		b.Run(Name(d), func(b *testing.B) {
			if d == dialect.Postgres {
				RequirePostgres(b)
			}
			fn(b, New(b, d))
		})
	}
}

// EachDialect runs fn as a subtest per dialect, without opening anything,
// for tests that open databases themselves (migrations, the binary).
func EachDialect(t *testing.T, fn func(t *testing.T, dialectName string)) {
	t.Helper()
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(Name(d), func(t *testing.T) {
			if d == dialect.Postgres {
				RequirePostgres(t)
			}
			fn(t, d)
		})
	}
}

// Name is the subtest name of a dialect.
func Name(dialectName string) string {
	if dialectName == dialect.SQLite {
		return "sqlite"
	}
	return "postgres"
}

// RequirePostgres skips t when no PostgreSQL is configured and returns its
// DSN otherwise.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skipf("%s is not set; set it to a PostgreSQL DSN (as .ci/run does) to run the PostgreSQL half of the suite", PostgresEnv)
	}
	return dsn
}

// New returns a fresh database of the dialect with every migration applied.
func New(t testing.TB, dialectName string) *database.DB {
	t.Helper()
	db := Empty(t, dialectName)
	if _, err := migrations.Apply(context.Background(), db.SQL, db.Dialect); err != nil {
		t.Fatalf("migrate %s test database: %v", dialectName, err)
	}
	return db
}

// Empty returns a fresh database of the dialect with nothing in it.
func Empty(t testing.TB, dialectName string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), Target(t, dialectName))
	if err != nil {
		t.Fatalf("open %s test database: %v", dialectName, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Target returns where a fresh database of the dialect lives, creating it
// (and its cleanup) but not connecting to it: for tests that start the
// binary against a database URL.
func Target(t testing.TB, dialectName string) database.Target {
	t.Helper()
	if dialectName == dialect.SQLite {
		path := filepath.Join(t.TempDir(), "sluice.db")
		target, err := database.ParseURL("sqlite:"+path, "")
		if err != nil {
			t.Fatal(err)
		}
		return target
	}
	base := RequirePostgres(t)
	return database.Target{Dialect: dialect.Postgres, DSN: newSchema(t, base)}
}

// newSchema creates an empty schema on the server of base and returns a
// DSN whose search_path is that schema.
func newSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "sluice_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// URL renders a target as a DATABASE_URL the binary accepts.
func URL(target database.Target) string {
	if target.Dialect == dialect.SQLite {
		return "sqlite:" + target.Path
	}
	return target.DSN
}
