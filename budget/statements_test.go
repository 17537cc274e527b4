package budget_test

import (
	"testing"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestStatementsMatchSchema prepares every hand-written statement against
// the migrated schema, so that a renamed table or column fails here.
func TestStatementsMatchSchema(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		testenv.Prepare(t, db, budget.Statements(db.Dialect))
	})
}
