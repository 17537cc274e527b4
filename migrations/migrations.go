// Package migrations holds Sluice's versioned SQL, one folder per dialect,
// generated from ent/schema by gen.go (plus hand-written data migrations),
// and applies it: in version order, each file in its own transaction, each
// recorded in sluice_schema_migrations so it runs once.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
)

//go:generate go run gen.go

//go:embed sqlite/*.sql sqlite/atlas.sum postgres/*.sql postgres/atlas.sum
var files embed.FS

// Migration is one versioned SQL file.
type Migration struct {
	Version string // the timestamp prefix, e.g. 20261125094521
	Name    string // the rest of the file name, e.g. init
	SQL     string // the file as written, for --dry-run
	stmts   []string
}

// versionTable records applied migrations. It is created outside the
// versioned files because it must exist before the first of them runs.
const versionTable = "sluice_schema_migrations"

// advisoryLockKey is the PostgreSQL advisory lock migrations hold; any
// constant works as long as nothing else in the database uses it.
const advisoryLockKey int64 = 0x5_1_1_1CE

// Load returns the migrations of a dialect in version order, after checking
// atlas.sum so that a file edited after release is refused rather than
// half-applied somewhere.
func Load(dialectName string) ([]Migration, error) {
	dir, err := folder(dialectName)
	if err != nil {
		return nil, err
	}
	mem := &atlasmigrate.MemDir{}
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s migrations: %w", dir, err)
	}
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read embedded migration %s: %w", e.Name(), err)
		}
		if err := mem.WriteFile(e.Name(), b); err != nil {
			return nil, fmt.Errorf("load migration %s: %w", e.Name(), err)
		}
	}
	if err := atlasmigrate.Validate(mem); err != nil {
		return nil, fmt.Errorf("%s migrations do not match atlas.sum (run go generate ./migrations): %w", dialectName, err)
	}
	afs, err := mem.Files()
	if err != nil {
		return nil, fmt.Errorf("list %s migrations: %w", dialectName, err)
	}
	out := make([]Migration, 0, len(afs))
	for _, f := range afs {
		stmts, err := f.Stmts()
		if err != nil {
			return nil, fmt.Errorf("parse migration %s: %w", f.Name(), err)
		}
		out = append(out, Migration{Version: f.Version(), Name: f.Desc(), SQL: string(f.Bytes()), stmts: stmts})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func folder(dialectName string) (string, error) {
	switch dialectName {
	case dialect.SQLite:
		return "sqlite", nil
	case dialect.Postgres:
		return "postgres", nil
	}
	return "", fmt.Errorf("no migrations for dialect %q", dialectName)
}

// Pending returns the migrations not yet applied to db.
func Pending(ctx context.Context, db *sql.DB, dialectName string) ([]Migration, error) {
	all, applied, err := loadApplied(ctx, db, dialectName)
	if err != nil {
		return nil, err
	}
	var pending []Migration
	for _, m := range all {
		if !applied[m.Version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// loadApplied returns the migrations of the dialect and the versions
// applied to db.
func loadApplied(ctx context.Context, db *sql.DB, dialectName string) ([]Migration, map[string]bool, error) {
	all, err := Load(dialectName)
	if err != nil {
		return nil, nil, err
	}
	applied, err := appliedVersions(ctx, db, dialectName)
	return all, applied, err
}

// Apply runs every pending migration and returns those it ran. On
// PostgreSQL an advisory lock makes replicas that start together take turns;
// on SQLite the immediate transaction does the same.
func Apply(ctx context.Context, db *sql.DB, dialectName string) ([]Migration, error) {
	return applyBefore(ctx, db, dialectName, "")
}

// applyBefore is Apply stopping short of the migration whose version is
// stop (all of them when stop is empty), so that a test can put rows in
// the schema a data migration meets in the field.
func applyBefore(ctx context.Context, db *sql.DB, dialectName, stop string) ([]Migration, error) {
	all, err := Load(dialectName)
	if err != nil {
		return nil, err
	}
	if stop != "" {
		i := sort.Search(len(all), func(i int) bool { return all[i].Version >= stop })
		all = all[:i]
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: get connection: %w", err)
	}
	defer conn.Close()
	if dialectName == dialect.Postgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", advisoryLockKey); err != nil {
			return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", advisoryLockKey) //nolint:errcheck // released with the connection anyway
	}
	if _, err := conn.ExecContext(ctx, createVersionTable(dialectName)); err != nil {
		return nil, fmt.Errorf("migrate: create %s: %w", versionTable, err)
	}
	var ran []Migration
	for _, m := range all {
		done, err := applyOne(ctx, conn, dialectName, m)
		if err != nil {
			return ran, err
		}
		if done {
			ran = append(ran, m)
		}
	}
	return ran, nil
}

// applyOne runs m in a transaction unless it is already recorded, checking
// inside the transaction so two processes never both run it.
func applyOne(ctx context.Context, conn *sql.Conn, dialectName string, m Migration) (bool, error) {
	stmts := m.stmts
	if dialectName == dialect.SQLite {
		// Atlas rebuilds SQLite tables between PRAGMA foreign_keys = off/on,
		// but SQLite ignores that pragma inside a transaction. Turn the
		// checks off around the transaction instead, and verify the keys
		// before committing.
		var fkOff bool
		stmts, fkOff = withoutForeignKeyPragmas(stmts)
		if fkOff {
			if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
				return false, fmt.Errorf("migrate %s: disable foreign keys: %w", m.Version, err)
			}
			defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on") //nolint:errcheck // best effort; the connection is discarded after Apply
			stmts = append(stmts, "PRAGMA foreign_key_check")
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate %s: begin: %w", m.Version, err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var n int
	if err := tx.QueryRowContext(ctx, database.Rebind(dialectName, "SELECT COUNT(*) FROM "+versionTable+" WHERE version = ?"), m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migrate %s: read %s: %w", m.Version, versionTable, err)
	}
	if n > 0 {
		return false, nil
	}
	for i, stmt := range stmts {
		if stmt == "PRAGMA foreign_key_check" {
			if err := foreignKeyCheck(ctx, tx); err != nil {
				return false, fmt.Errorf("migrate %s_%s: %w", m.Version, m.Name, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("migrate %s_%s: statement %d: %w", m.Version, m.Name, i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, database.Rebind(dialectName, "INSERT INTO "+versionTable+" (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)"), m.Version, m.Name); err != nil {
		return false, fmt.Errorf("migrate %s: record version: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate %s: commit: %w", m.Version, err)
	}
	return true, nil
}

func createVersionTable(dialectName string) string {
	ts := "timestamptz"
	if dialectName == dialect.SQLite {
		ts = "datetime"
	}
	return "CREATE TABLE IF NOT EXISTS " + versionTable + " (version varchar(32) PRIMARY KEY, name varchar(255) NOT NULL, applied_at " + ts + " NOT NULL)"
}

// appliedVersions reads the version table, treating a missing table as an
// empty database.
func appliedVersions(ctx context.Context, db *sql.DB, dialectName string) (map[string]bool, error) {
	var exists bool
	q := "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1)"
	if dialectName == dialect.SQLite {
		q = "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"
	}
	if err := db.QueryRowContext(ctx, q, versionTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("migrate: look for %s: %w", versionTable, err)
	}
	applied := map[string]bool{}
	if !exists {
		return applied, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT version FROM "+versionTable)
	if err != nil {
		return nil, fmt.Errorf("migrate: read %s: %w", versionTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("migrate: read %s: %w", versionTable, err)
		}
		applied[v] = true
	}
	return applied, errors.Join(rows.Err())
}

// withoutForeignKeyPragmas drops Atlas's PRAGMA foreign_keys statements and
// reports whether the migration wanted the checks off.
func withoutForeignKeyPragmas(stmts []string) ([]string, bool) {
	out := make([]string, 0, len(stmts))
	off := false
	for _, s := range stmts {
		norm := strings.ToLower(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(s), ";")), " "))
		switch norm {
		case "pragma foreign_keys = off":
			off = true
			continue
		case "pragma foreign_keys = on":
			continue
		}
		out = append(out, s)
	}
	return out, off
}

// foreignKeyCheck fails when a rebuilt table left a dangling reference.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("foreign key check failed after rebuilding tables")
	}
	return rows.Err()
}
