package testenv_test

import (
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestUnpreparable shows that preparing is a check of the names on both
// dialects: a statement naming a column or table the schema lacks is
// refused, the same statement with the real names is not.
func TestUnpreparable(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		for _, tt := range []struct {
			table, column string
			ok            bool
		}{
			{apikey.Table, apikey.FieldLastUsedAt, true},
			{apikey.Table, "last_used", false},
			{"api_key", apikey.FieldLastUsedAt, false},
		} {
			q := fmt.Sprintf("UPDATE %s SET %s = ? WHERE %s = ?", tt.table, tt.column, apikey.FieldID)
			if errs := testenv.Unpreparable(db, []string{q}); (len(errs) == 0) != tt.ok {
				t.Errorf("Unpreparable(%q) = %v, want refused = %v", q, errs, !tt.ok)
			}
		}
	})
}
