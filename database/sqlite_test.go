package database_test

import (
	"context"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestSQLiteSettings: every connection of the pool, not only the first,
// runs with the settings the DSN asks for.
func TestSQLiteSettings(t *testing.T) {
	db := testenv.Empty(t, dialect.SQLite)
	ctx := context.Background()
	want := []struct {
		pragma, value string
	}{
		{"foreign_keys", "1"},
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"temp_store", "2"},  // MEMORY
		{"busy_timeout", "10000"},
	}
	// Hold three connections at once so that the pool opens three.
	for i := range 3 {
		conn, err := db.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		for _, w := range want {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+w.pragma).Scan(&got); err != nil {
				t.Fatalf("connection %d: PRAGMA %s: %v", i, w.pragma, err)
			}
			if got != w.value {
				t.Errorf("connection %d: %s = %s, want %s", i, w.pragma, got, w.value)
			}
		}
	}
}
