package graph_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

// TestSpendOnTheAPI: spend settled through package budget shows on the
// service, the key (with the service's limits inherited) and the
// organization; balance top-ups add up.
func TestSpendOnTheAPI(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		svc := h.as(admin, `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: [], limitCostDayWarn: 1, limitCostDayBlock: 2}) { id } }`, nil).ok(t)
		key := h.as(admin, `mutation($s: ID!) { createAPIKey(input: {name: "k", serviceId: $s, limitCostHourBlock: 0.5}) { apiKey { id } } }`,
			map[string]any{"s": svc.get("createService.id")}).ok(t)
		svcRow := h.client.Service.GetX(ctx, svc.id("createService.id"))
		keyRow := h.client.APIKey.GetX(ctx, key.id("createAPIKey.apiKey.id"))
		r, err := h.budgets.Reserve(ctx, budget.Request{OrgID: h.org.ID, Amount: money.FromUSD(0.25), Subjects: []budget.Subject{
			budget.KeySubject(keyRow, svcRow), budget.ServiceSubject(svcRow), budget.OrgSubject(h.org)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Settle(ctx, money.FromUSD(0.125)); err != nil {
			t.Fatal(err)
		}
		res := h.as(member, `query($k: ID!, $s: ID!) {
			apiKey(id: $k) { spend { window spent reserved warn block resetsAt } }
			service(id: $s) { spend { window spent block } }
			organizationSpend { window spent } }`, map[string]any{"k": keyRow.ID, "s": svcRow.ID}).ok(t)
		// windows are hour, day, month, total
		if res.num("apiKey.spend.0.spent") != 0.125 || res.num("apiKey.spend.0.block") != 0.5 ||
			res.num("apiKey.spend.1.block") != 2 || res.num("apiKey.spend.1.warn") != 1 || res.get("apiKey.spend.3.resetsAt") != nil {
			t.Fatalf("key spend: %s", res.raw)
		}
		if res.num("service.spend.1.spent") != 0.125 || res.num("service.spend.1.block") != 2 || res.get("service.spend.0.block") != nil {
			t.Fatalf("service spend: %s", res.raw)
		}
		if res.num("organizationSpend.3.spent") != 0.125 {
			t.Fatalf("organization spend: %s", res.raw)
		}
		h.as(admin, `mutation { topUpBalance(amount: 10) { currentBalance } }`, nil).ok(t)
		bal := h.as(member, `{ balance { currentBalance currency enforced } }`, nil).ok(t)
		if bal.num("balance.currentBalance") != 9.875 || bal.str("balance.currency") != "USD" {
			t.Fatalf("balance after a $10 top-up and $0.125 spend: %s", bal.raw)
		}
		h.as(admin, `mutation { topUpBalance(amount: 0) { currentBalance } }`, nil).wantCode(t, "BAD_USER_INPUT")
		h.as(admin, `mutation { updateBalance(input: {currency: "euro"}) { currency } }`, nil).wantCode(t, "BAD_USER_INPUT")

		// The organization's own limits: cost and pace, a given null
		// removes one, bad values name their field and change nothing.
		org := h.as(admin, `mutation { updateOrganizationLimits(input: {limitCostDayWarn: 3, limitCostDayBlock: 4, limitRpm: 600, limitConcurrency: 8}) {
			limitCostDayBlock limitRpm limitTpm limitConcurrency } }`, nil).ok(t)
		if org.num("updateOrganizationLimits.limitCostDayBlock") != 4 || org.num("updateOrganizationLimits.limitRpm") != 600 ||
			org.get("updateOrganizationLimits.limitTpm") != nil || org.num("updateOrganizationLimits.limitConcurrency") != 8 {
			t.Fatalf("organization limits: %s", org.raw)
		}
		for _, c := range []struct{ input, field string }{
			{`{limitRpm: 0}`, "limitRpm"},
			{`{limitTpm: -5}`, "limitTpm"},
			{`{limitCostDayWarn: 5}`, "limitCostDayWarn"},
		} {
			bad := h.as(admin, `mutation { updateOrganizationLimits(input: `+c.input+`) { id } }`, nil).wantCode(t, "BAD_USER_INPUT")
			if f, _ := bad.Errors[0].Extensions["field"].(string); f != c.field {
				t.Errorf("%s: error field %q, want %q: %s", c.input, f, c.field, bad.raw)
			}
		}
		org = h.as(admin, `mutation { updateOrganizationLimits(input: {limitRpm: null}) { limitRpm limitConcurrency limitCostDayBlock } }`, nil).ok(t)
		if org.get("updateOrganizationLimits.limitRpm") != nil || org.num("updateOrganizationLimits.limitConcurrency") != 8 || org.num("updateOrganizationLimits.limitCostDayBlock") != 4 {
			t.Fatalf("after removing the rpm limit: %s", org.raw)
		}
		spend := h.as(member, `{ organizationSpend { window block } }`, nil).ok(t)
		if spend.num("organizationSpend.1.block") != 4 {
			t.Fatalf("organization spend against its limits: %s", spend.raw)
		}
	})
}

// TestUsageQuery: the usage report sums the organization's roll-ups, and
// another organization sees none of them.
func TestUsageQuery(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		tx, _ := db.SQL.Begin()
		now := time.Now().UTC()
		err := rollup.Add(context.Background(), tx, db.Dialect, []usagelog.Record{
			{CreatedAt: now, OrganizationID: h.org.ID, ServiceID: 1, APIKeyID: 2, Model: "gpt-4o", Status: 200, Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 5}, Cost: 1500, Priced: true, LatencyUs: 2000},
			{CreatedAt: now, OrganizationID: h.org.ID, ServiceID: 1, APIKeyID: 3, Model: "gpt-4o-mini", Status: 429, Priced: true, LatencyUs: 4000, Tokens: tokens.Tokens{CacheWriteTokens: 7}},
		})
		if err != nil {
			t.Fatal(err)
		}
		tx.Commit()
		q := `query($k: ID) { usage(filter: {apiKeyId: $k}, bucket: DAY) { totals { requests errors inputTokens cost meanLatencyMs cacheWriteTokens latencyP50Ms latencyP99Ms } series { start sums { requests } } byModel { model sums { cost } } } }`
		res := h.as(member, q, nil).ok(t)
		if res.num("usage.totals.requests") != 2 || res.num("usage.totals.errors") != 1 || res.num("usage.totals.cost") != 0.0015 ||
			res.num("usage.totals.meanLatencyMs") != 3 || res.str("usage.byModel.0.model") != "gpt-4o" || res.num("usage.series.0.sums.requests") != 2 ||
			res.num("usage.totals.cacheWriteTokens") != 7 || res.num("usage.totals.latencyP50Ms") != 4 || res.num("usage.totals.latencyP99Ms") != 4 {
			t.Fatalf("usage: %s", res.raw)
		}
		if one := h.as(admin, q, map[string]any{"k": 3}).ok(t); one.num("usage.totals.requests") != 1 {
			t.Fatalf("key filter: %s", one.raw)
		}
		if other := h.as(otherOrg, q, nil).ok(t); other.num("usage.totals.requests") != 0 || other.get("usage.totals.latencyP50Ms") != nil {
			t.Fatalf("another organization sees the usage: %s", other.raw)
		}
		// A series asked for a percentile, by name or through fragments,
		// has its points' latency; one asked for counters alone has none
		// to show and the same counters.
		for _, sq := range []string{
			`{ usage(bucket: DAY) { series { sums { requests latencyP99Ms } } } }`,
			`{ usage(bucket: DAY) { ...R } } fragment R on UsageReport { series { sums { requests ...S } } } fragment S on UsageSums { latencyP99Ms }`,
		} {
			if res := h.as(member, sq, nil).ok(t); res.num("usage.series.0.sums.latencyP99Ms") != 4 || res.num("usage.series.0.sums.requests") != 2 {
				t.Fatalf("%s: %s", sq, res.raw)
			}
		}
	})
}

// TestUsageSplit: the usage report splits by model, service and key, a
// service named by its name and a deleted key by its ID, with refused
// requests apart; first bounds the groups.
func TestUsageSplit(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		svc := h.as(admin, `mutation { createService(input: {serviceName: "split-svc", provider: "openai", modelsEnabled: []}) { id } }`, nil).ok(t)
		sid, err := strconv.Atoi(svc.str("createService.id"))
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := db.SQL.Begin()
		now := time.Now().UTC()
		err = rollup.Add(context.Background(), tx, db.Dialect, []usagelog.Record{
			{CreatedAt: now, OrganizationID: h.org.ID, ServiceID: sid, APIKeyID: 9001, Model: "gpt-4o", Status: 200, ProviderProtocol: "openai", Cost: 1500, Priced: true, LatencyUs: 2000},
			{CreatedAt: now, OrganizationID: h.org.ID, ServiceID: sid, APIKeyID: 9002, Model: "gpt-4o-mini", Status: 429, Priced: true, LatencyUs: 4000},
		})
		if err != nil {
			t.Fatal(err)
		}
		tx.Commit()
		q := `query($by: UsageSplit!, $first: Int) { usage { totals { refusedRequests } split(by: $by, first: $first) { key name sums { requests errors refusedRequests cost } series { start sums { requests } } } } }`
		for _, c := range []struct {
			by, key0, name0 string
			groups          int
		}{
			{"MODEL", "gpt-4o", "gpt-4o", 2},
			{"SERVICE", strconv.Itoa(sid), "split-svc", 1},
			{"API_KEY", "9001", "9001", 2},
		} {
			res := h.as(member, q, map[string]any{"by": c.by}).ok(t)
			if res.str("usage.split.0.key") != c.key0 || res.str("usage.split.0.name") != c.name0 || res.num("usage.totals.refusedRequests") != 1 ||
				res.get(fmt.Sprintf("usage.split.%d", c.groups)) != nil || res.get(fmt.Sprintf("usage.split.%d", c.groups-1)) == nil || res.num("usage.split.0.series.0.sums.requests") < 1 {
				t.Errorf("split by %s: %s", c.by, res.raw)
			}
		}
		if one := h.as(member, q, map[string]any{"by": "API_KEY", "first": 1}).ok(t); one.get("usage.split.1") != nil || one.num("usage.split.0.sums.cost") != 0.0015 {
			t.Errorf("first 1: %s", one.raw)
		}
		refused := h.as(member, q, map[string]any{"by": "MODEL"}).ok(t)
		if refused.num("usage.split.1.sums.refusedRequests") != 1 || refused.num("usage.split.1.sums.errors") != 1 {
			t.Errorf("refused requests: %s", refused.raw)
		}
		bad := h.as(member, q, map[string]any{"by": "MODEL", "first": 1000}).wantCode(t, "BAD_USER_INPUT")
		if f, _ := bad.Errors[0].Extensions["field"].(string); f != "first" {
			t.Errorf("too many groups: %s", bad.raw)
		}
		if other := h.as(otherOrg, q, map[string]any{"by": "SERVICE"}).ok(t); other.get("usage.split.0") != nil {
			t.Errorf("another organization sees the split: %s", other.raw)
		}
	})
}

// TestPaceLimitsOnTheAPI: keys and services take pace limits on create
// and update (a given null removes one), a key without its own shows its
// service's in force, and a limit that is not above zero is refused,
// naming its field, with nothing written.
func TestPaceLimitsOnTheAPI(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		svc := h.as(admin, `mutation { createService(input: {serviceName: "paced", provider: "openai", modelsEnabled: [], limitRpm: 60, limitTpm: 10000}) { id limitRpm limitTpm pace { kind limit remaining } } }`, nil).ok(t)
		if svc.num("createService.limitRpm") != 60 || svc.num("createService.pace.1.limit") != 10000 || svc.str("createService.pace.1.kind") != "tpm" {
			t.Fatalf("service: %s", svc.raw)
		}
		key := h.as(admin, `mutation($s: ID!) { createAPIKey(input: {name: "k", serviceId: $s, limitConcurrency: 3}) { apiKey { id limitConcurrency pace { kind limit } } } }`,
			map[string]any{"s": svc.get("createService.id")}).ok(t)
		if got := len(key.get("createAPIKey.apiKey.pace").([]any)); got != 3 || key.num("createAPIKey.apiKey.pace.0.limit") != 60 || key.num("createAPIKey.apiKey.pace.2.limit") != 3 {
			t.Fatalf("the key's limits in force (the service's rpm and tpm, its own concurrency): %s", key.raw)
		}
		upd := h.as(admin, `mutation($s: ID!) { updateService(id: $s, input: {limitTpm: null, limitConcurrency: 10}) { limitRpm limitTpm limitConcurrency } }`,
			map[string]any{"s": svc.get("createService.id")}).ok(t)
		if upd.num("updateService.limitRpm") != 60 || upd.get("updateService.limitTpm") != nil || upd.num("updateService.limitConcurrency") != 10 {
			t.Fatalf("service after update: %s", upd.raw)
		}
		keys := h.client.APIKey.Query().CountX(t.Context())
		for _, c := range []struct{ query, field string }{
			{`mutation($s: ID!) { createAPIKey(input: {name: "zero", serviceId: $s, limitRpm: 0}) { key } }`, "limitRpm"},
			{`mutation($s: ID!) { updateService(id: $s, input: {limitConcurrency: -1}) { id } }`, "limitConcurrency"},
		} {
			bad := h.as(admin, c.query, map[string]any{"s": svc.get("createService.id")}).wantCode(t, "BAD_USER_INPUT")
			if f, _ := bad.Errors[0].Extensions["field"].(string); f != c.field {
				t.Errorf("error field %q, want %q: %s", f, c.field, bad.raw)
			}
		}
		if n := h.client.APIKey.Query().CountX(t.Context()); n != keys {
			t.Errorf("%d keys after a refused create, want %d", n, keys)
		}
		if s := h.client.Service.GetX(t.Context(), svc.id("createService.id")); s.LimitConcurrency == nil || *s.LimitConcurrency != 10 {
			t.Errorf("a refused update changed the service's concurrency limit: %v", s.LimitConcurrency)
		}
	})
}
