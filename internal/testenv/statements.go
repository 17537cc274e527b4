package testenv

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
)

// Prepare prepares each statement (with ? placeholders) on db, which
// should be migrated, and fails t for each the database refuses: a table
// or column a statement names that the schema does not have shows here
// rather than at run time.
func Prepare(t testing.TB, db *database.DB, statements []string) {
	t.Helper()
	if len(statements) == 0 {
		t.Fatal("no statements to prepare")
	}
	for _, err := range Unpreparable(db, statements) {
		t.Error(err)
	}
}

// Unpreparable is why each statement the database refuses to prepare was
// refused.
func Unpreparable(db *database.DB, statements []string) []error {
	var errs []error
	for _, q := range statements {
		stmt, err := db.SQL.PrepareContext(context.Background(), database.Rebind(db.Dialect, q))
		if err != nil {
			errs = append(errs, fmt.Errorf("prepare %q: %w", q, err))
			continue
		}
		_ = stmt.Close()
	}
	return errs
}

// SQLitePlan is EXPLAIN QUERY PLAN of q on an SQLite database: each step's
// detail, in order.
func SQLitePlan(t testing.TB, db *database.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.SQL.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
