package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestUsageCountIsCapped: above 1,000 matching records totalCount is
// 1,000 and says it is not exact; below, it is the exact count of the
// filtered records; either way the page itself is whole, on each dialect.
// Audit events and keys are counted the same way.
func TestUsageCountIsCapped(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		ctx := context.Background()
		const records = 1_001
		for i := 0; i < records; i += 500 {
			bulk := make([]*ent.UsageRecordCreate, 0, 500)
			for j := i; j < min(i+500, records); j++ {
				status := 200
				if j%100 == 7 {
					status = 500
				}
				bulk = append(bulk, h.client.UsageRecord.Create().SetRequestID(fmt.Sprintf("req_%d", j)).SetOrganizationID(h.org.ID).
					SetServiceID(f.serviceID).SetAPIKeyID(f.keyID).SetProtocol("openai").SetEndpoint("/v1/chat/completions").
					SetModel("gpt-4o").SetStatus(status))
			}
			h.client.UsageRecord.CreateBulk(bulk...).ExecX(ctx)
		}
		for _, c := range []struct {
			query string
			count float64
			exact bool
		}{
			{`{ usageRecords(first: 5) { totalCount totalCountIsExact edges { node { requestID } } pageInfo { hasNextPage } } }`, 1_000, false},
			{`{ usageRecords(first: 5, where: {status: 500}) { totalCount totalCountIsExact edges { node { requestID } } pageInfo { hasNextPage } } }`, 10, true},
			{`{ usageRecords(first: 5) { ... on UsageRecordConnection { totalCount } totalCountIsExact edges { node { requestID } } pageInfo { hasNextPage } } }`, 1_000, false},
		} {
			res := h.as(member, c.query, nil).ok(t)
			if res.num("usageRecords.totalCount") != c.count || res.get("usageRecords.totalCountIsExact") != c.exact ||
				len(res.get("usageRecords.edges").([]any)) != 5 || res.get("usageRecords.pageInfo.hasNextPage") != true {
				t.Errorf("%s: %.300s", c.query, res.raw)
			}
		}
		// pageInfo alone is read from the page, not from a count of every
		// match: more records after 5, none after the 10 errors.
		for _, c := range []struct {
			query string
			more  bool
		}{
			{`{ usageRecords(first: 5) { pageInfo { hasNextPage endCursor } } }`, true},
			{`{ usageRecords(first: 20, where: {status: 500}) { pageInfo { hasNextPage } } }`, false},
		} {
			res := h.as(member, c.query, nil).ok(t)
			if res.get("usageRecords.pageInfo.hasNextPage") != c.more || res.get("usageRecords.edges") != nil {
				t.Errorf("%s: %.300s", c.query, res.raw)
			}
		}
		res := h.as(admin, `{ auditEvents(first: 1) { totalCount totalCountIsExact } }`, nil).ok(t)
		if res.num("auditEvents.totalCount") < 1 || res.get("auditEvents.totalCountIsExact") != true {
			t.Errorf("audit events: %s", res.raw)
		}
		keys := h.client.APIKey.Query().CountX(ctx)
		res = h.as(admin, `{ apiKeys(first: 1) { totalCount totalCountIsExact } mgmt: apiKeys(first: 1, where: {isManagementKey: true}) { totalCount totalCountIsExact }
			services(first: 1) { edges { node { apiKeys { totalCount totalCountIsExact } } } } }`, nil).ok(t)
		if res.num("apiKeys.totalCount") != float64(keys) || res.get("apiKeys.totalCountIsExact") != true ||
			res.num("mgmt.totalCount") != 1 || res.get("services.edges.0.node.apiKeys.totalCountIsExact") != true {
			t.Errorf("keys (%d): %s", keys, res.raw)
		}
	})
}
