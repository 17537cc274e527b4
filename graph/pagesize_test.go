package graph_test

import (
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestPageSizeLimit: every connection, at the top or nested, in a fragment
// or through a variable, refuses a page above graph.MaxPageSize with
// BAD_USER_INPUT naming first or last; the dashboard's largest page and
// the limit itself are accepted.
func TestPageSizeLimit(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		refused := []struct {
			name, query string
			vars        map[string]any
			field       string
		}{
			{"usageRecords", `{ usageRecords(first: 1000000) { totalCount } }`, nil, "first"},
			{"auditEvents last", `{ auditEvents(last: 100000) { totalCount } }`, nil, "last"},
			{"variable", `query($n: Int) { apiKeys(first: $n) { totalCount } }`, map[string]any{"n": graph.MaxPageSize + 1}, "first"},
			{"nested", `{ services(first: 1) { edges { node { apiKeys(first: 5000) { totalCount } } } } }`, nil, "first"},
			{"in a fragment", `query { ...F } fragment F on Query { providerCredentials(first: 2000) { totalCount } }`, nil, "first"},
			{"negative", `{ modelPrices(first: -1) { totalCount } }`, nil, "first"},
			{"nodes ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": make([]int, graph.MaxPageSize+1)}, "ids"},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				res := h.as(admin, tt.query, tt.vars).wantCode(t, "BAD_USER_INPUT")
				if res.Errors[0].Extensions["field"] != tt.field || res.Data["usageRecords"] != nil {
					t.Fatalf("got %s, want extensions.field %q", res.raw, tt.field)
				}
			})
		}
		for _, q := range []string{
			`{ usageRecords(first: 200) { totalCount } }`,
			fmt.Sprintf(`{ services(first: %d) { totalCount } }`, graph.MaxPageSize),
			`{ services { edges { node { id } } } }`,
		} {
			h.as(member, q, nil).ok(t)
		}
	})
}

// TestPageSizeDefault: a top-level connection asked for without first or
// last answers at most graph.MaxPageSize items, and says there are more.
func TestPageSizeDefault(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		rows := make([]*ent.AuditEventCreate, graph.MaxPageSize+1)
		for i := range rows {
			rows[i] = h.client.AuditEvent.Create().SetOrganizationID(h.org.ID).SetAction("seed").
				SetActorType(auditevent.ActorTypeUser).SetOutcome(auditevent.OutcomeSuccess)
		}
		for i := 0; i < len(rows); i += 200 {
			h.client.AuditEvent.CreateBulk(rows[i:min(i+200, len(rows))]...).ExecX(t.Context())
		}
		res := h.as(admin, `{ auditEvents { totalCount totalCountIsExact edges { node { id } } pageInfo { hasNextPage } } }`, nil).ok(t)
		edges, _ := res.get("auditEvents.edges").([]any)
		// The count says there are more, exactly or as "at least".
		more := res.num("auditEvents.totalCount") > graph.MaxPageSize ||
			res.num("auditEvents.totalCount") == graph.MaxPageSize && res.get("auditEvents.totalCountIsExact") == false
		if len(edges) != graph.MaxPageSize || res.get("auditEvents.pageInfo.hasNextPage") != true || !more {
			t.Fatalf("a page without first: %d edges, hasNextPage %v, totalCount %v", len(edges),
				res.get("auditEvents.pageInfo.hasNextPage"), res.num("auditEvents.totalCount"))
		}
	})
}
