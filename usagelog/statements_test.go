package usagelog_test

import (
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/usagelog"
)

// TestStatementsMatchSchema prepares every statement the writer builds
// against the migrated schema, so that a renamed table or column fails
// here; each is all placeholders, no literal values.
func TestStatementsMatchSchema(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		statements := usagelog.Statements(db.Dialect)
		for _, q := range statements {
			if strings.Contains(q, "NULL") {
				t.Errorf("statement holds a NULL literal instead of a placeholder: %.200s", q)
			}
		}
		testenv.Prepare(t, db, statements)
	})
}
