package rollup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/usagelog"
)

// TestReportReadsItsIndex: the report reads the rows it sums through an
// index that starts with them (the organization's own rows, a key's or a
// service's, by hour), not through every roll-up row of the organization.
// The organization's own rows, service and key 0, lead both indexes.
func TestReportReadsItsIndex(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		from := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		// Two days of 300 keys over 30 services, and the planners'
		// statistics of them: on empty tables every index costs the same.
		var batch []usagelog.Record
		for i := range 6000 {
			batch = append(batch, usagelog.Record{CreatedAt: from.Add(time.Duration(i%48) * time.Hour), OrganizationID: 1,
				ServiceID: 100 + i%30, APIKeyID: 1000 + i%300, Model: fmt.Sprintf("model-%d", i%5), Status: 200, LatencyUs: 1000})
		}
		add(t, db, batch...)
		if _, err := db.SQL.ExecContext(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		// The organization's own rows lead the key (key 0) and the
		// services' index (service 0).
		const byOrg = `usagerollup_organization_id_api_key_id_hour_service_id_model|usagerollup_organization_id_service_id_hour`
		const days = `usagerollupday_organization_id_day_model`
		for _, c := range []struct {
			name string
			f    rollup.Filter
			// index is the index each statement reads (a regular
			// expression), by hour and by day.
			index map[rollup.Bucket]string
		}{
			{"organization", rollup.Filter{OrgID: 1, From: from}, map[rollup.Bucket]string{rollup.ByHour: byOrg, rollup.ByDay: days}},
			{"organization, one model", rollup.Filter{OrgID: 1, Model: "model-2", From: from}, map[rollup.Bucket]string{rollup.ByHour: byOrg, rollup.ByDay: days}},
			// By day, the hours of the first day and then the days.
			{"organization, from mid-day", rollup.Filter{OrgID: 1, From: from.Add(5 * time.Hour)}, map[rollup.Bucket]string{rollup.ByHour: byOrg,
				rollup.ByDay: byOrg + "|" + days}},
			{"key", rollup.Filter{OrgID: 1, APIKeyID: 1007, From: from}, both("usagerollup_organization_id_api_key_id_hour_service_id_model")},
			{"service", rollup.Filter{OrgID: 1, ServiceID: 103, From: from}, both("usagerollup_organization_id_service_id_hour")},
		} {
			for _, b := range []rollup.Bucket{rollup.ByHour, rollup.ByDay} {
				t.Run(c.name+" by "+string(b), func(t *testing.T) {
					qs, args := rollup.ReportSQL(db.Dialect, c.f, b)
					for i, q := range qs {
						if plan := reportPlan(t, ctx, db, q, args[i]); !regexp.MustCompile(c.index[b]).MatchString(plan) {
							t.Fatalf("the plan of %s does not read %s: %s", q, c.index[b], plan)
						}
					}
				})
			}
		}
	})
}

func both(index string) map[rollup.Bucket]string {
	return map[rollup.Bucket]string{rollup.ByHour: index, rollup.ByDay: index}
}

// reportPlan is the plan of q as text; on PostgreSQL with sequential and
// bitmap scans priced out, as they would win on an empty table.
func reportPlan(t *testing.T, ctx context.Context, db *database.DB, q string, args []any) string {
	t.Helper()
	if db.Dialect == dialect.SQLite {
		return strings.Join(testenv.SQLitePlan(t, db, q, args...), "; ")
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer conn.ExecContext(ctx, "RESET ALL") //nolint:errcheck // the connection returns to the pool either way
	if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off; SET enable_bitmapscan = off"); err != nil {
		t.Fatal(err)
	}
	var raw json.RawMessage
	if err := conn.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+database.Rebind(db.Dialect, q), args...).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestPruneReadsByID: the prune finds the first record kept, and each
// batch's old records, by id from the first record, so that it reads the
// old records and stops instead of the whole table.
func TestPruneReadsByID(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		from, del := rollup.PruneSQL()
		cutoff := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		// The first kept: the records in id order, stopping at the first.
		plan := reportPlan(t, ctx, db, from, []any{cutoff})
		inOrder := strings.Contains(plan, "usage_records_pkey") && !strings.Contains(plan, `"Sort"`)
		if db.Dialect == dialect.SQLite {
			inOrder = plan == "SCAN usage_records"
		}
		if !inOrder {
			t.Errorf("the plan of %s does not read by id in order: %s", from, plan)
		}
		// A batch: the records before the first kept, from the first.
		sub := del[strings.Index(del, "(SELECT")+1 : strings.LastIndex(del, ")")]
		plan = reportPlan(t, ctx, db, sub, []any{int64(1000), cutoff, 5000})
		byID := strings.Contains(plan, `"Index Cond": "(id < `)
		if db.Dialect == dialect.SQLite {
			byID = strings.Contains(plan, "INTEGER PRIMARY KEY (rowid<?)")
		}
		if !byID {
			t.Errorf("the plan of %s does not read the ids before the first kept: %s", sub, plan)
		}
	})
}
