package graph_test

import (
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestUsageWhereCodedFields: a filter on part of a field stored as a code
// is refused with the input field named; a whole value is answered.
func TestUsageWhereCodedFields(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		res := h.as(member, `{ usageRecords(first: 5, where: {protocolContains: "open"}) { edges { node { id } } } }`, nil).
			wantCode(t, "BAD_USER_INPUT")
		if f, _ := res.Errors[0].Extensions["field"].(string); f != "where.protocolContains" {
			t.Fatalf("field %q: %s", f, res.raw)
		}
		h.as(member, `{ usageRecords(first: 5, where: {protocol: "openai", endpointIn: ["/v1/chat/completions"]}) { edges { node { id } } } }`, nil).ok(t)
	})
}
