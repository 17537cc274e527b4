package usagelog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/orgscope"
	"github.com/sluicehq/sluice/tenant"
	"github.com/sluicehq/sluice/usagelog"
)

// capture is an ent driver that records the queries it runs.
type capture struct {
	dialect.Driver
	mu      sync.Mutex
	queries []capturedQuery
}

type capturedQuery struct {
	sql  string
	args []any
}

func (c *capture) Query(ctx context.Context, query string, args, v any) error {
	c.mu.Lock()
	a, _ := args.([]any)
	c.queries = append(c.queries, capturedQuery{query, a})
	c.mu.Unlock()
	return c.Driver.Query(ctx, query, args, v)
}

// take returns the page queries (those with ORDER BY) captured since the
// last call.
func (c *capture) take() []capturedQuery {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []capturedQuery
	for _, q := range c.queries {
		if strings.Contains(q.sql, "ORDER BY") {
			out = append(out, q)
		}
	}
	c.queries = nil
	return out
}

// TestUsageLogQueriesUseIndexes: each query of the dashboard's usage log,
// as ent generates it for an organization's member (unfiltered, by key,
// service, model, errors or successes, each within a time range or not,
// the first page and the next), reads the index made for it in order:
// no scan of the table, no sort of the matching rows, on SQLite (EXPLAIN
// QUERY PLAN) and PostgreSQL (EXPLAIN with sequential scans, bitmap scans
// and sorts priced out, so that a plan still showing one has no index to
// use instead). PostgreSQL may sort the rows of one created_at by id as
// they come (an incremental sort): the index is in created_at order only.
func TestUsageLogQueriesUseIndexes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n = 5000
		w := usagelog.New(db, usagelog.Options{Log: quiet, Interval: time.Hour})
		rng := rand.New(rand.NewPCG(3, 4))
		start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		// The filters name the key, service, organization and model of an
		// error from the middle of the range, so that each combination
		// matches records.
		var key, service, org int
		var model string
		for i := range n {
			r := realistic(rng, i, n, start)
			if i >= n/2 && key == 0 && r.Status >= 400 {
				key, service, org, model = r.APIKeyID, r.ServiceID, r.OrganizationID, r.Model
			}
			w.Add(r)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// The planners choose by the tables' statistics: PostgreSQL's
		// analyze keeps them, SQLite has them once the gateway's Optimize
		// (sampled statistics) has run.
		if db.Dialect == dialect.Postgres {
			if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Dialect == dialect.SQLite {
			var n int
			if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'usage_records'").Scan(&n); err != nil || n == 0 {
				t.Fatalf("Optimize left no statistics of the usage records (%d rows, %v)", n, err)
			}
		}
		drv := &capture{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
		client := ent.NewClient(ent.Driver(drv))
		client.Intercept(orgscope.Interceptor())
		ctx = tenant.WithOrg(ctx, org)

		from, to := start.Add(5*24*time.Hour), start.Add(25*24*time.Hour)
		modelPart, errors, ok := strings.ToUpper(model[1:5]), 400, 400
		const (
			byOrg    = "usagerecord_organization_id_created_at"
			byKey    = "usagerecord_api_key_id_created_at"
			byServ   = "usagerecord_service_id_created_at"
			byModel  = "usagerecord_organization_id_model_created_at"
			byErrors = "usagerecord_errors_organization_id_created_at"
			keyErrs  = "usagerecord_errors_api_key_id_created_at"
			servErrs = "usagerecord_errors_service_id_created_at"
		)
		filters := []struct {
			name  string
			where ent.UsageRecordWhereInput
			index []string // any of these serves the query
		}{
			{"unfiltered", ent.UsageRecordWhereInput{}, []string{byOrg}},
			{"key", ent.UsageRecordWhereInput{APIKeyID: &key}, []string{byKey}},
			{"service", ent.UsageRecordWhereInput{ServiceID: &service}, []string{byServ}},
			{"model", ent.UsageRecordWhereInput{Model: &model}, []string{byModel}},
			{"model containing", ent.UsageRecordWhereInput{ModelContainsFold: &modelPart}, []string{byOrg}},
			{"errors", ent.UsageRecordWhereInput{StatusGTE: &errors}, []string{byErrors}},
			{"successes", ent.UsageRecordWhereInput{StatusLT: &ok}, []string{byOrg}},
			{"key and model", ent.UsageRecordWhereInput{APIKeyID: &key, Model: &model}, []string{byKey}},
			{"service and errors", ent.UsageRecordWhereInput{ServiceID: &service, StatusGTE: &errors}, []string{servErrs}},
			{"key and errors", ent.UsageRecordWhereInput{APIKeyID: &key, StatusGTE: &errors}, []string{keyErrs}},
		}
		for _, f := range filters {
			for _, ranged := range []bool{false, true} {
				where := f.where
				name := f.name
				if ranged {
					where.CreatedAtGTE, where.CreatedAtLT, name = &from, &to, name+", time range"
				}
				t.Run(name, func(t *testing.T) {
					first := 50
					order := &ent.UsageRecordOrder{Direction: entgql.OrderDirectionDesc, Field: ent.UsageRecordOrderFieldCreatedAt}
					page, err := client.UsageRecord.Query().Paginate(ctx, nil, &first, nil, nil,
						ent.WithUsageRecordOrder(order), ent.WithUsageRecordFilter(where.Filter))
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Edges) == 0 {
						t.Fatal("no records match: the plan would prove nothing")
					}
					after := page.Edges[len(page.Edges)-1].Cursor
					if _, err := client.UsageRecord.Query().Paginate(ctx, &after, &first, nil, nil,
						ent.WithUsageRecordOrder(order), ent.WithUsageRecordFilter(where.Filter)); err != nil {
						t.Fatal(err)
					}
					queries := drv.take()
					if len(queries) != 2 {
						t.Fatalf("%d page queries captured, want 2 (first and next page)", len(queries))
					}
					for i, q := range queries {
						if !strings.Contains(q.sql, "LIMIT 51") {
							t.Fatalf("page query without LIMIT 51: %s", q.sql)
						}
						if msg := planProblem(t, db, q, f.index); msg != "" {
							t.Errorf("page %d: %s\nquery: %s %v", i+1, msg, q.sql, q.args)
						}
					}
				})
			}
		}
	})
}

// planProblem explains q and says what is wrong with its plan: not reading
// index, scanning the table, or sorting; "" when nothing is.
func planProblem(t *testing.T, db *database.DB, q capturedQuery, indexes []string) string {
	t.Helper()
	ctx := context.Background()
	if db.Dialect == dialect.SQLite {
		plan := testenv.SQLitePlan(t, db, q.sql, q.args...)
		text := strings.Join(plan, "; ")
		if strings.Contains(text, "TEMP B-TREE") {
			return "the plan sorts: " + text
		}
		for _, index := range indexes {
			if strings.HasPrefix(text, "SEARCH usage_records USING INDEX "+index+" (") && !strings.Contains(text, ";") {
				return ""
			}
		}
		return fmt.Sprintf("the plan does not search one of %v alone: %s", indexes, text)
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer conn.ExecContext(ctx, "RESET ALL") //nolint:errcheck // the connection returns to the pool either way
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off"); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan pgPlan }
	if err := json.Unmarshal(raw, &plans); err != nil {
		t.Fatal(err)
	}
	var nodes, used []string
	var walk func(p pgPlan)
	walk = func(p pgPlan) {
		nodes = append(nodes, p.NodeType)
		if p.IndexName != "" {
			used = append(used, p.IndexName)
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	switch {
	case nodes[0] != "Limit":
		return fmt.Sprintf("the plan does not stop at the limit: %v", nodes)
	case len(used) != 1 || !slices.Contains(indexes, used[0]):
		return fmt.Sprintf("the plan reads %v, want one of %v alone: %v", used, indexes, nodes)
	}
	for _, n := range nodes {
		if n == "Sort" || n == "Seq Scan" || strings.HasPrefix(n, "Bitmap") {
			return fmt.Sprintf("the plan has a %s: %v", n, nodes)
		}
	}
	return ""
}

// pgPlan is a node of PostgreSQL's JSON plan.
type pgPlan struct {
	NodeType  string   `json:"Node Type"`
	IndexName string   `json:"Index Name"`
	Plans     []pgPlan `json:"Plans"`
}
