package rollup_test

import (
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/rollup"
)

// TestStatementsMatchSchema prepares every statement the roll-ups build
// against the migrated schema, so that a renamed table or column fails
// here.
func TestStatementsMatchSchema(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		testenv.Prepare(t, db, rollup.Statements(db.Dialect))
	})
}
