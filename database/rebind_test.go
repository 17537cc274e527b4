package database_test

import (
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no placeholders", `SELECT 1`, `SELECT 1`},
		{"numbered in order", `UPDATE t SET a = ? WHERE id = ? AND b < ?`, `UPDATE t SET a = $1 WHERE id = $2 AND b < $3`},
		{"string literal", `SELECT '?', ? FROM t WHERE s = 'a?b'`, `SELECT '?', $1 FROM t WHERE s = 'a?b'`},
		{"escaped quote in literal", `SELECT 'it''s ?', ?`, `SELECT 'it''s ?', $1`},
		{"quoted identifier", `SELECT "odd?col" FROM t WHERE "window" = ?`, `SELECT "odd?col" FROM t WHERE "window" = $1`},
		{"line comment", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"line comment at end", "SELECT ? -- why?", "SELECT $1 -- why?"},
		{"block comment", `SELECT /* a? */ ?`, `SELECT /* a? */ $1`},
		{"unterminated literal kept", `SELECT ?, 'a?`, `SELECT $1, 'a?`},
		{"minus is not a comment", `SELECT ? - ?`, `SELECT $1 - $2`},
		{"ten and more", `VALUES (?,?,?,?,?,?,?,?,?,?,?)`, `VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := database.Rebind(dialect.Postgres, tt.in); got != tt.want {
				t.Errorf("Rebind(postgres, %q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := database.Rebind(dialect.SQLite, tt.in); got != tt.in {
				t.Errorf("Rebind(sqlite, %q) = %q, want it unchanged", tt.in, got)
			}
		})
	}
}
