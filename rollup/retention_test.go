package rollup_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

var quiet = slog.New(slog.DiscardHandler)

// writer is the usage writer as the server configures it: each batch's
// roll-ups in the batch's transaction.
func writer(db *database.DB, batch int) *usagelog.Writer {
	return usagelog.New(db, usagelog.Options{Log: quiet, Interval: time.Hour, BatchSize: batch, QueueSize: 1 << 20,
		InTx: func(ctx context.Context, tx *sql.Tx, b []usagelog.Record) error {
			return rollup.Add(ctx, tx, db.Dialect, b)
		}})
}

// spread is record i of n spread evenly over days days from start, over
// a few keys and models, with varied latencies, statuses and tokens.
func spread(i, n, days int, start time.Time) usagelog.Record {
	return usagelog.Record{
		CreatedAt: start.Add(time.Duration(float64(days) * float64(24*time.Hour) * float64(i) / float64(n))),
		RequestID: "req-" + strconv.Itoa(i), OrganizationID: 1 + i%2, ServiceID: 10 + i%3, APIKeyID: 100 + i%5,
		Protocol: "openai", Endpoint: "/v1/chat/completions", Model: []string{"gpt-4o", "claude-sonnet", "gemini"}[i%3],
		Tokens: tokens.Tokens{InputTokens: int64(i % 1000), OutputTokens: int64(i % 300), CachedInputTokens: int64(i % 7), CacheWriteTokens: int64(i % 11)},
		Cost:   money.Micros(i % 5000), Priced: i%13 != 0, Status: []int{200, 200, 200, 429, 500}[i%5],
		LatencyUs: int64(50_000 + (i*7919)%20_000_000),
	}
}

// TestRetentionKeepsReports: pruning raw records past the retention
// period leaves every report (totals, hourly and daily series, split by
// model, for the organization and for one key) exactly as it was.
func TestRetentionKeepsReports(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n, days = 12_000, 6
		start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		w := writer(db, 2000)
		for i := range n {
			w.Add(spread(i, n, days, start))
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		type view struct {
			f rollup.Filter
			b rollup.Bucket
		}
		views := []view{
			{rollup.Filter{OrgID: 1}, rollup.ByHour}, {rollup.Filter{OrgID: 1}, rollup.ByDay}, {rollup.Filter{OrgID: 2}, rollup.ByDay},
			{rollup.Filter{OrgID: 1, APIKeyID: 102}, rollup.ByHour}, {rollup.Filter{OrgID: 2, Model: "gemini", From: start.Add(24 * time.Hour)}, rollup.ByDay},
		}
		report := func() []*rollup.Report {
			var reps []*rollup.Report
			for _, v := range views {
				rep, err := rollup.Query(ctx, db, v.f, v.b)
				if err != nil {
					t.Fatal(err)
				}
				reps = append(reps, rep)
			}
			return reps
		}
		before := report()
		if before[0].Totals.Requests+before[2].Totals.Requests != n || before[0].Totals.Latency.Count() != before[0].Totals.Requests || len(before[1].Series) != days {
			t.Fatalf("before pruning: %d + %d requests, %d latencies, %d days", before[0].Totals.Requests, before[2].Totals.Requests,
				before[0].Totals.Latency.Count(), len(before[1].Series))
		}
		pruned, err := rollup.Prune(ctx, db, start.Add(4*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		left := db.Client.UsageRecord.Query().CountX(ctx)
		if pruned != 8000 || left != n-8000 {
			t.Fatalf("pruned %d, %d left; want 8000 pruned over two batches", pruned, left)
		}
		if after := report(); !reflect.DeepEqual(after, before) {
			for i := range after {
				if !reflect.DeepEqual(after[i], before[i]) {
					t.Errorf("report %d changed:\nbefore %+v\nafter  %+v", i, before[i].Totals, after[i].Totals)
				}
			}
		}
	})
}

// BenchmarkWriteWhilePruning measures whether retention blocks the usage
// writer: a table of SLUICE_RETENTION_ROWS records (default 100,000) over
// 60 days, then Prune deletes the older half (for at most pruneWindow)
// while the writer commits a full batch every writeEvery; it reports the
// writer's batch latency while pruning and alone, and the time of one
// full delete batch alone.
func BenchmarkWriteWhilePruning(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("SLUICE_RETENTION_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	testenv.EachBench(b, func(b *testing.B, db *database.DB) {
		ctx := context.Background()
		start := time.Now().Add(-60 * 24 * time.Hour)
		w := writer(db, usagelog.DefaultBatchSize)
		for i := range rows {
			w.Add(spread(i, rows, 60, start))
			if i%100_000 == 99_999 {
				if err := w.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := w.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		batch := func(n int) time.Duration {
			t0 := time.Now()
			for i := range usagelog.DefaultBatchSize {
				r := spread(i, usagelog.DefaultBatchSize, 1, time.Now())
				r.RequestID = fmt.Sprintf("new-%d-%d", n, i)
				w.Add(r)
			}
			if err := w.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			return time.Since(t0)
		}
		var alone []time.Duration
		for n := range 20 {
			alone = append(alone, batch(n))
		}
		// One full delete batch alone: the oldest 4,999 records.
		t0 := time.Now()
		one, err := rollup.Prune(ctx, db, spread(pruneAlone, rows, 60, start).CreatedAt.Truncate(time.Microsecond))
		oneTime := time.Since(t0)
		if err != nil || one != pruneAlone {
			b.Fatalf("pruned %d alone, %v; want %d", one, err, pruneAlone)
		}
		b.ResetTimer()
		// Prune the older half while the writer commits a full batch
		// every writeEvery, for at most pruneWindow.
		pruneCtx, stop := context.WithTimeout(ctx, pruneWindow)
		defer stop()
		var pruned int64
		var pruneTime time.Duration
		done := make(chan struct{})
		go func() {
			defer close(done)
			t0 := time.Now()
			n, err := rollup.Prune(pruneCtx, db, start.Add(30*24*time.Hour))
			pruneTime, pruned = time.Since(t0), n
			if err != nil && pruneCtx.Err() == nil {
				b.Error(err)
			}
		}()
		var during []time.Duration
		tick := time.NewTicker(writeEvery)
		defer tick.Stop()
	writing:
		for n := 100; ; n++ {
			during = append(during, batch(n))
			select {
			case <-done:
				break writing
			case <-tick.C:
			}
		}
		b.StopTimer()
		w.Close(ctx)
		if db.Dialect == dialect.Postgres {
			var dead, size int64
			t0 := time.Now()
			_ = db.SQL.QueryRowContext(ctx, `SELECT n_dead_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables WHERE relid = 'usage_records'::regclass`).Scan(&dead, &size)
			b.Logf("postgres after prune: %d dead tuples reported, usage_records %d MB with indexes", dead, size>>20)
			if _, err := db.SQL.ExecContext(ctx, `VACUUM usage_records`); err != nil {
				b.Fatal(err)
			}
			_ = db.SQL.QueryRowContext(ctx, `SELECT pg_total_relation_size('usage_records')`).Scan(&size)
			b.Logf("postgres VACUUM took %v; usage_records %d MB with indexes (space kept for reuse)", time.Since(t0), size>>20)
		}
		b.ReportMetric(ms(oneTime), "ms/delete-batch-alone")
		b.ReportMetric(ms(pct(alone, 0.5)), "write-p50-alone-ms")
		b.ReportMetric(ms(pct(alone, 0.99)), "write-p99-alone-ms")
		b.ReportMetric(ms(pct(during, 0.5)), "write-p50-pruning-ms")
		b.ReportMetric(ms(pct(during, 0.99)), "write-p99-pruning-ms")
		b.ReportMetric(float64(len(during)), "writes-during-prune")
		b.Logf("%s: %d rows; one delete of %d alone %v; then pruned %d in %v (window %v) while writing a batch every %v; writer batch of %d: alone p50 %v max %v; while pruning p50 %v max %v over %d batches",
			db.Dialect, rows, pruneAlone, oneTime, pruned, pruneTime, pruneWindow, writeEvery, usagelog.DefaultBatchSize, pct(alone, 0.5), pct(alone, 1), pct(during, 0.5), pct(during, 1), len(during))
	})
}

// The benchmark's writer commits a full batch every writeEvery (the
// writer's default interval) while Prune runs for at most pruneWindow.
const (
	writeEvery  = time.Second
	pruneWindow = 90 * time.Second
)

// pruneAlone is one delete batch's worth of records, less one, so that
// Prune stops after one batch.
const pruneAlone = 4999

func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
