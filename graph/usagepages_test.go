package graph_test

import (
	"context"
	stdsql "database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/usagelog"
)

// TestUsageLogModelsMerged: the usage log filtered by text that several
// models contain, read model by model and merged page by page, lists what
// one text match lists, in the same order, forwards and back, with records
// sharing a time, a cost or a latency; another organization's never
// appear, and the count is the text match's.
func TestUsageLogModelsMerged(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{InTx: func(ctx context.Context, tx *stdsql.Tx, batch []usagelog.Record) error {
			return rollup.Add(ctx, tx, db.Dialect, batch)
		}})
		t.Cleanup(func() { _ = w.Close(ctx) })
		base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
		models := []string{"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "GPT-5"}
		for i := range 120 {
			org := h.org.ID
			if i%7 == 0 {
				org = h.other.ID
			}
			w.Add(usagelog.Record{CreatedAt: base.Add(time.Duration(i/3) * time.Second), RequestID: "r", OrganizationID: org,
				ServiceID: 1, APIKeyID: 1, Protocol: "openai", Endpoint: "/v1/chat/completions", Model: models[i%len(models)],
				Cost: money.Micros(i % 3), LatencyUs: int64(i % 5), Status: 200})
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			where      string // the filter, in GraphQL
			text       string // what it matches, as a model text
			field, dir string
			order      func(...string) func(*sql.Selector)
			column     string
		}{
			{`{modelContainsFold: "gpt"}`, "gpt", "CREATED_AT", "DESC", ent.Desc, usagerecord.FieldCreatedAt},
			{`{modelContainsFold: "gpt"}`, "gpt", "COST", "ASC", ent.Asc, usagerecord.FieldCost},
			{`{modelContainsFold: "gpt"}`, "gpt", "LATENCY", "DESC", ent.Desc, usagerecord.FieldLatencyUs},
			// One query, no merge: a cost or a latency of 0 in a cursor.
			{`{}`, "", "COST", "DESC", ent.Desc, usagerecord.FieldCost},
			{`{}`, "", "LATENCY", "ASC", ent.Asc, usagerecord.FieldLatencyUs},
		} {
			want := db.Client.UsageRecord.Query().
				Where(usagerecord.OrganizationID(h.org.ID), usagerecord.ModelContainsFold(tc.text)).
				Order(tc.order(tc.column, usagerecord.FieldID)).IDsX(ctx)
			vars := map[string]any{"f": tc.field, "d": tc.dir}
			var got []int
			for {
				res := h.as(admin, `query($a: Cursor, $f: UsageRecordOrderField!, $d: OrderDirection!) {
					usageRecords(first: 7, after: $a, orderBy: {field: $f, direction: $d}, where: `+tc.where+`) {
					totalCount totalCountIsExact pageInfo { hasNextPage endCursor } edges { node { id } } } }`, vars).ok(t)
				if n := int(res.num("usageRecords.totalCount")); n != len(want) || res.get("usageRecords.totalCountIsExact") != true {
					t.Fatalf("%s %s %s: totalCount %d, want %d exact", tc.where, tc.field, tc.dir, n, len(want))
				}
				got = append(got, edgeIDs(res, "usageRecords")...)
				if len(got) > 2*len(want) {
					t.Fatalf("%s %s %s: no end after %v", tc.where, tc.field, tc.dir, got)
				}
				if res.get("usageRecords.pageInfo.hasNextPage") != true {
					if !slices.Equal(got, want) {
						t.Fatalf("%s %s %s: paged %v, want %v", tc.where, tc.field, tc.dir, got, want)
					}
					// Back from the last page's end to the first record.
					var back []int
					vars["b"] = res.get("usageRecords.pageInfo.endCursor")
					for {
						res := h.as(admin, `query($b: Cursor, $f: UsageRecordOrderField!, $d: OrderDirection!) {
							usageRecords(last: 5, before: $b, orderBy: {field: $f, direction: $d}, where: `+tc.where+`) {
							pageInfo { hasPreviousPage startCursor } edges { node { id } } } }`, vars).ok(t)
						back = append(edgeIDs(res, "usageRecords"), back...)
						if len(back) > 2*len(want) {
							t.Fatalf("%s %s %s backwards: no end after %v", tc.where, tc.field, tc.dir, back)
						}
						if res.get("usageRecords.pageInfo.hasPreviousPage") != true {
							break
						}
						vars["b"] = res.get("usageRecords.pageInfo.startCursor")
					}
					if !slices.Equal(back, want[:len(want)-1]) {
						t.Fatalf("%s %s %s backwards: %v, want %v", tc.where, tc.field, tc.dir, back, want[:len(want)-1])
					}
					break
				}
				vars["a"] = res.get("usageRecords.pageInfo.endCursor")
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s %s %s: paged %v, want %v", tc.where, tc.field, tc.dir, got, want)
			}
		}
	})
}

// TestUsageLogByKeyOrService: the usage log filtered by one client key or
// one service (counted without checking each record's organization once
// the key or service is found to be the viewer's) lists and counts
// exactly that key's or service's records; another organization's key or
// service finds nothing, on either side; a deleted key's history is still
// listed; a record naming the key but another organization is never
// listed.
func TestUsageLogByKeyOrService(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		type owner struct{ org, service, key int }
		add := func(org int, name string, records int) owner {
			s := h.client.Service.Create().SetOrganizationID(org).SetServiceName("svc-" + name).SetProvider("openai").SaveX(ctx)
			k := h.client.APIKey.Create().SetOrganizationID(org).SetServiceID(s.ID).SetName("key-" + name).
				SetKeyHash("hash-" + name).SetKeyPrefix("sk_x").SetKeyLastFour("abcd").SaveX(ctx)
			bulk := make([]*ent.UsageRecordCreate, records)
			for i := range bulk {
				bulk[i] = h.client.UsageRecord.Create().SetRequestID(fmt.Sprintf("req_%s_%d", name, i)).SetOrganizationID(org).
					SetServiceID(s.ID).SetAPIKeyID(k.ID).SetProtocol("openai").SetEndpoint("/v1/chat/completions").
					SetModel("gpt-4o").SetStatus(200)
			}
			h.client.UsageRecord.CreateBulk(bulk...).ExecX(ctx)
			return owner{org, s.ID, k.ID}
		}
		mine, busy, theirs := add(h.org.ID, "mine", 7), add(h.org.ID, "busy", 12), add(h.other.ID, "theirs", 5)
		gone := add(h.org.ID, "gone", 3)
		h.client.APIKey.DeleteOneID(gone.key).ExecX(ctx)
		const q = `query($where: UsageRecordWhereInput) { usageRecords(first: 50, where: $where, orderBy: {field: CREATED_AT, direction: DESC}) {
			totalCount totalCountIsExact edges { node { apiKeyID serviceID requestID } } } }`
		for _, c := range []struct {
			who   string
			where map[string]any
			want  int
			owned owner
		}{
			{member, map[string]any{"apiKeyID": mine.key}, 7, mine},
			{member, map[string]any{"serviceID": busy.service}, 12, busy},
			{member, map[string]any{"apiKeyID": busy.key, "statusGTE": 400}, 0, busy},
			{member, map[string]any{"apiKeyID": gone.key}, 3, gone}, // history outlives a deleted key
			{member, map[string]any{"apiKeyID": theirs.key}, 0, theirs},
			{member, map[string]any{"serviceID": theirs.service}, 0, theirs},
			{otherOrg, map[string]any{"apiKeyID": mine.key}, 0, mine},
			{otherOrg, map[string]any{"serviceID": mine.service}, 0, mine},
			{otherOrg, map[string]any{"apiKeyID": theirs.key}, 5, theirs},
		} {
			res := h.as(c.who, q, map[string]any{"where": c.where}).ok(t)
			edges, _ := res.get("usageRecords.edges").([]any)
			if res.num("usageRecords.totalCount") != float64(c.want) || res.get("usageRecords.totalCountIsExact") != true || len(edges) != c.want {
				t.Errorf("%s, %v: %.400s; want %d records", c.who, c.where, res.raw, c.want)
				continue
			}

			for i := range edges {
				if res.num(fmt.Sprintf("usageRecords.edges.%d.node.apiKeyID", i)) != float64(c.owned.key) ||
					res.num(fmt.Sprintf("usageRecords.edges.%d.node.serviceID", i)) != float64(c.owned.service) {
					t.Errorf("%s, %v: a record of another key or service: %.400s", c.who, c.where, res.raw)
					break
				}
			}
		}
		// A record that names this organization's key and service but
		// another organization (the gateway never writes one): never listed.
		h.client.UsageRecord.Create().SetRequestID("forged").SetOrganizationID(h.other.ID).SetServiceID(mine.service).
			SetAPIKeyID(mine.key).SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("gpt-4o").SetStatus(200).ExecX(ctx)
		for _, where := range []map[string]any{{"apiKeyID": mine.key}, {"serviceID": mine.service}} {
			if res := h.as(member, q, map[string]any{"where": where}).ok(t); strings.Contains(res.raw, "forged") {
				t.Errorf("%v: a record of another organization is listed: %.400s", where, res.raw)
			}
		}
	})
}
