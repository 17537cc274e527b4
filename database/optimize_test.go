package database_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestOptimize: on SQLite, Optimize leaves statistics for an indexed
// table the planner can use; on PostgreSQL it does nothing and fails not.
func TestOptimize(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var values []string
		for i := range 500 {
			values = append(values, fmt.Sprintf("('k%d', '2026-01-01 00:00:00')", i))
		}
		if _, err := db.SQL.ExecContext(ctx, "INSERT INTO throttle_marks (key, expires_at) VALUES "+strings.Join(values, ",")); err != nil {
			t.Fatal(err)
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Dialect != dialect.SQLite {
			return
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'throttle_marks'").Scan(&n); err != nil {
			t.Fatalf("no statistics table after Optimize: %v", err)
		}
		if n == 0 {
			t.Fatal("Optimize left no statistics for an indexed table of 500 rows")
		}
	})
}
