package rollup_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/latencyhist"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

func at(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }

func add(t *testing.T, db *database.DB, batch ...usagelog.Record) {
	t.Helper()
	tx, err := db.SQL.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := rollup.Add(context.Background(), tx, db.Dialect, batch); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestRollupAndReport(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := func(ts string, key int, model string, status int, in, out int64, cost money.Micros, priced bool) usagelog.Record {
			return usagelog.Record{CreatedAt: at(ts), OrganizationID: 1, ServiceID: 10, APIKeyID: key, Model: model, Status: status,
				Tokens: tokens.Tokens{InputTokens: in, OutputTokens: out}, Cost: cost, Priced: priced, LatencyUs: 1000}
		}
		add(t, db,
			e("2026-11-24T10:05:00Z", 100, "gpt-4o", 200, 10, 20, 300, true),
			e("2026-11-24T10:55:00Z", 100, "gpt-4o", 200, 1, 2, 30, true),
			e("2026-11-24T11:00:00Z", 101, "gpt-4o-mini", 500, 5, 0, 0, true),
		)
		// A second batch adds to the same hour's row.
		add(t, db, e("2026-11-24T10:30:00Z", 100, "gpt-4o", 200, 100, 200, 3000, true),
			e("2026-11-25T09:00:00Z", 100, "mystery", 200, 7, 7, 0, false))

		rep, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByHour)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Requests != 5 || rep.Totals.Errors != 1 || rep.Totals.UnpricedRequests != 1 || rep.Totals.Cost != 3330 ||
			rep.Totals.InputTokens != 123 || rep.Totals.MeanLatency() != time.Millisecond {
			t.Fatalf("totals = %+v", rep.Totals)
		}
		if len(rep.Series) != 3 || rep.Series[0].Requests != 3 || rep.Series[0].Cost != 3330 || !rep.Series[0].Start.Equal(at("2026-11-24T10:00:00Z")) {
			t.Fatalf("hourly series = %+v", rep.Series)
		}
		if rep.ByModel[0].Model != "gpt-4o" || len(rep.ByModel) != 3 {
			t.Fatalf("by model = %+v", rep.ByModel)
		}
		day, _ := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByDay)
		if len(day.Series) != 2 || day.Series[0].Requests != 4 || day.Series[1].Requests != 1 {
			t.Fatalf("daily series = %+v", day.Series)
		}
		only, _ := rollup.Query(ctx, db, rollup.Filter{OrgID: 1, APIKeyID: 101}, rollup.ByHour)
		if only.Totals.Requests != 1 || only.Totals.Errors != 1 {
			t.Fatalf("key filter = %+v", only.Totals)
		}
		ranged, _ := rollup.Query(ctx, db, rollup.Filter{OrgID: 1, From: at("2026-11-24T11:00:00Z"), To: at("2026-11-25T00:00:00Z")}, rollup.ByHour)
		if ranged.Totals.Requests != 1 {
			t.Fatalf("time range = %+v", ranged.Totals)
		}
		other, _ := rollup.Query(ctx, db, rollup.Filter{OrgID: 2}, rollup.ByHour)
		if other.Totals.Requests != 0 {
			t.Fatal("another organization sees this usage")
		}
	})
}

// TestPrune: Prune deletes the records created before the cutoff that
// were written before the first record kept; an old record written after
// that one stays until the records written before it are old too.
func TestPrune(t *testing.T) {
	for _, c := range []struct {
		name    string
		created []string // in the order written
		cutoffs []string // one prune each
		deleted []int64  // by each prune
		left    []string // created_at of the records left
	}{
		{"in order", []string{"2026-09-01", "2026-10-01", "2026-11-20"}, []string{"2026-10-26"}, []int64{2}, []string{"2026-11-20"}},
		{"none old", []string{"2026-11-01", "2026-11-20"}, []string{"2026-10-26"}, []int64{0}, []string{"2026-11-01", "2026-11-20"}},
		{"all old", []string{"2026-09-01", "2026-10-01"}, []string{"2026-10-26"}, []int64{2}, nil},
		{"none", nil, []string{"2026-10-26"}, []int64{0}, nil},
		{"an old record written late", []string{"2026-09-01", "2026-11-01", "2026-09-15", "2026-11-20"},
			[]string{"2026-10-26", "2026-11-10"}, []int64{1, 2}, []string{"2026-11-20"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			testenv.Each(t, func(t *testing.T, db *database.DB) {
				ctx := context.Background()
				for i, d := range c.created {
					db.Client.UsageRecord.Create().SetCreatedAt(at(d + "T00:00:00Z")).SetRequestID(fmt.Sprint(i)).SetOrganizationID(1).SetServiceID(1).SetAPIKeyID(1).
						SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("m").SetStatus(200).ExecX(ctx)
				}
				for i, cut := range c.cutoffs {
					n, err := rollup.Prune(ctx, db, at(cut+"T00:00:00Z"))
					if err != nil || n != c.deleted[i] {
						t.Fatalf("Prune(%s) = %d, %v; want %d", cut, n, err, c.deleted[i])
					}
				}
				var left []string
				for _, r := range db.Client.UsageRecord.Query().Order(ent.Asc(usagerecord.FieldID)).AllX(ctx) {
					left = append(left, r.CreatedAt.UTC().Format(time.DateOnly))
				}
				if !slices.Equal(left, c.left) {
					t.Fatalf("left %v, want %v", left, c.left)
				}
			})
		})
	}
}

// TestLatencyAndCacheWrites: cache writes and the latency histogram add up
// across batches, hours and keys; rows written before the roll-ups kept
// them read as none (no percentiles, not zero ones); a large batch of
// distinct rows is written whole.
func TestLatencyAndCacheWrites(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		r := func(ts string, key int, latency time.Duration, write, write1h int64) usagelog.Record {
			return usagelog.Record{CreatedAt: at(ts), OrganizationID: 1, ServiceID: 10, APIKeyID: key, Model: "claude", Status: 200,
				Tokens: tokens.Tokens{InputTokens: 100, CacheWriteTokens: write, CacheWrite1hTokens: write1h}, Priced: true, LatencyUs: latency.Microseconds()}
		}
		var batch []usagelog.Record
		for i := range 100 {
			// 1..100 × 100 ms, over two hours and two keys.
			batch = append(batch, r(fmt.Sprintf("2026-11-24T%02d:%02d:00Z", 10+i%2, i%60), 100+i%3, time.Duration(i+1)*100*time.Millisecond, 10, 1))
		}
		add(t, db, batch[:50]...)
		add(t, db, batch[50:]...)

		rep, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByDay)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.CacheWriteTokens != 1000 || rep.Totals.CacheWrite1hTokens != 100 {
			t.Fatalf("cache writes = %d, %d; want 1000, 100", rep.Totals.CacheWriteTokens, rep.Totals.CacheWrite1hTokens)
		}
		for _, c := range []struct {
			q    float64
			want time.Duration
		}{{0.5, 5 * time.Second}, {0.95, 9500 * time.Millisecond}, {0.99, 9900 * time.Millisecond}} {
			got, ok := rep.Totals.LatencyQuantile(c.q)
			if rel := math.Abs(float64(got-c.want)) / float64(c.want); !ok || rel > 0.123 {
				t.Errorf("p%v = %v, %v; want %v within 12.3%%", c.q*100, got, ok, c.want)
			}
		}
		if got, _ := rep.Series[0].LatencyQuantile(0.5); got != func() time.Duration { d, _ := rep.Totals.LatencyQuantile(0.5); return d }() {
			t.Fatalf("one day's median %v differs from the totals'", got)
		}

		// A row as the roll-ups wrote it before they kept histograms, with
		// its organization's row as the migration that added those made it.
		for _, ids := range [][2]int{{20, 200}, {0, 0}} {
			if _, err := db.SQL.ExecContext(ctx, database.Rebind(db.Dialect, `INSERT INTO usage_rollups
				(hour, organization_id, service_id, api_key_id, model, requests, errors, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cost, latency_us_sum)
				VALUES (?, 2, ?, ?, 'old', 4, 0, 0, 0, 0, 0, 0, 4000)`), at("2026-11-01T00:00:00Z"), ids[0], ids[1]); err != nil {
				t.Fatal(err)
			}
		}
		old, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 2}, rollup.ByHour)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := old.Totals.LatencyQuantile(0.5); ok || old.Totals.Requests != 4 || old.Totals.MeanLatency() != time.Millisecond {
			t.Fatalf("an old row reads as %+v", old.Totals)
		}
		// New records in an old row's hour add to it.
		add(t, db, usagelog.Record{CreatedAt: at("2026-11-01T00:30:00Z"), OrganizationID: 2, ServiceID: 20, APIKeyID: 200, Model: "old", Status: 200,
			Tokens: tokens.Tokens{CacheWriteTokens: 3}, LatencyUs: 20000})
		old, _ = rollup.Query(ctx, db, rollup.Filter{OrgID: 2}, rollup.ByHour)
		if p, ok := old.Totals.LatencyQuantile(0.5); !ok || math.Abs(float64(p-20*time.Millisecond)) > 0.123*float64(20*time.Millisecond) || old.Totals.Requests != 5 || old.Totals.CacheWriteTokens != 3 {
			t.Fatalf("an old row with new records reads as %+v, median %v", old.Totals, p)
		}

		// A large batch of distinct rows.
		var many []usagelog.Record
		for i := range 1500 {
			many = append(many, usagelog.Record{CreatedAt: at("2026-11-02T00:00:00Z"), OrganizationID: 3, ServiceID: 30, APIKeyID: 1000 + i, Model: "m", Status: 200, LatencyUs: 1000})
		}
		add(t, db, many...)
		big, _ := rollup.Query(ctx, db, rollup.Filter{OrgID: 3}, rollup.ByHour)
		if big.Totals.Requests != 1500 || big.Totals.Latency.Count() != 1500 {
			t.Fatalf("a large batch rolls up to %d requests, %d latencies", big.Totals.Requests, big.Totals.Latency.Count())
		}
	})
}

// TestConcurrentWritersAcrossOrganizations: writers whose batches touch
// the same organizations' rows, their records in opposite orders, take
// the rows' locks in one order and never deadlock (PostgreSQL would abort
// one of them).
func TestConcurrentWritersAcrossOrganizations(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		hour := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		var batch []usagelog.Record
		for org := 1; org <= 4; org++ {
			for key := range 5 {
				batch = append(batch, usagelog.Record{CreatedAt: hour, OrganizationID: org, ServiceID: 10 * org, APIKeyID: 100*org + key, Model: "m", Status: 200, LatencyUs: 1000})
			}
		}
		reversed := slices.Clone(batch)
		slices.Reverse(reversed)
		errs := make(chan error, 40)
		var wg sync.WaitGroup
		for i := range cap(errs) {
			wg.Go(func() {
				tx, err := db.SQL.Begin()
				if err != nil {
					errs <- err
					return
				}
				b := batch
				if i%2 == 1 {
					b = reversed
				}
				if err := rollup.Add(context.Background(), tx, db.Dialect, b); err != nil {
					tx.Rollback()
					errs <- err
					return
				}
				errs <- tx.Commit()
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		rep, err := rollup.Query(context.Background(), db, rollup.Filter{OrgID: 2}, rollup.ByHour)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Requests != 5*40 {
			t.Fatalf("organization 2 counts %d requests, want %d", rep.Totals.Requests, 5*40)
		}
	})
}

// TestDayReportMatchesHours checks that the organization's report by day,
// which reads whole days from the day rows and the hours of a partial
// first or last day from the hourly rows, sums what the records in range
// sum, for ranges that start and end on and off a day.
func TestDayReportMatchesHours(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		start := at("2026-11-20T00:00:00Z")
		var batch []usagelog.Record
		for i := range 240 {
			batch = append(batch, usagelog.Record{
				CreatedAt:      start.Add(time.Duration(i*97) * 5 * time.Minute), // about five days, every hour of them
				OrganizationID: 1, ServiceID: 10 + i%3, APIKeyID: 100 + i%7, Model: []string{"gpt-4o", "claude"}[i%2],
				Status: 200 + 300*(i%5/4), Cost: money.Micros(i + 1), Priced: true, LatencyUs: int64(1000 * (i + 1)),
			})
		}
		add(t, db, batch[:100]...)
		add(t, db, batch[100:]...)
		for _, tc := range []struct{ name, from, to, model string }{
			{"open", "", "", ""},
			{"from mid-day", "2026-11-21T13:20:00Z", "", ""},
			{"to mid-day", "", "2026-11-22T07:00:00Z", ""},
			{"both mid-day", "2026-11-20T05:00:00Z", "2026-11-23T19:30:00Z", ""},
			{"within a day", "2026-11-21T02:00:00Z", "2026-11-21T09:00:00Z", ""},
			{"whole days", "2026-11-21T00:00:00Z", "2026-11-23T00:00:00Z", ""},
			{"one model, mid-day", "2026-11-20T23:00:00Z", "2026-11-22T01:00:00Z", "claude"},
			{"empty", "2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := rollup.Filter{OrgID: 1, Model: tc.model}
				if tc.from != "" {
					f.From = at(tc.from)
				}
				if tc.to != "" {
					f.To = at(tc.to)
				}
				want := map[time.Time][2]int64{} // day: requests, cost
				var errs int64
				for _, r := range batch {
					if (!f.From.IsZero() && r.CreatedAt.Before(f.From.Truncate(time.Hour))) ||
						(!f.To.IsZero() && !r.CreatedAt.Truncate(time.Hour).Before(f.To)) || (f.Model != "" && r.Model != f.Model) {
						continue
					}
					d := r.CreatedAt.Truncate(24 * time.Hour)
					want[d] = [2]int64{want[d][0] + 1, want[d][1] + int64(r.Cost)}
					if r.Status >= 400 {
						errs++
					}
				}
				rep, err := rollup.Query(ctx, db, f, rollup.ByDay)
				if err != nil {
					t.Fatal(err)
				}
				got := map[time.Time][2]int64{}
				for _, p := range rep.Series {
					got[p.Start] = [2]int64{p.Requests, int64(p.Cost)}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("by day = %v, want %v", got, want)
				}
				if !slices.IsSortedFunc(rep.Series, func(a, b rollup.Point) int { return a.Start.Compare(b.Start) }) {
					t.Fatal("series out of order")
				}
				if rep.Totals.Errors != errs {
					t.Fatalf("errors = %d, want %d", rep.Totals.Errors, errs)
				}
				hourly, err := rollup.Query(ctx, db, f, rollup.ByHour)
				if err != nil {
					t.Fatal(err)
				}
				if hourly.Totals.Requests != rep.Totals.Requests || hourly.Totals.Latency != rep.Totals.Latency {
					t.Fatalf("by hour %+v, by day %+v", hourly.Totals, rep.Totals)
				}
			})
		}
	})
}

// TestSplit: a report splits by model, service and key, each group with
// its own series, from the rows that hold its share; refused requests
// (errors without an upstream) count apart from the upstream's errors.
func TestSplit(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		r := func(ts string, service, key int, model string, status int, upstream string, cost money.Micros) usagelog.Record {
			return usagelog.Record{CreatedAt: at(ts), OrganizationID: 1, ServiceID: service, APIKeyID: key, Model: model, Status: status,
				ProviderProtocol: upstream, Cost: cost, Priced: true, LatencyUs: 1000}
		}
		add(t, db,
			r("2026-11-24T10:05:00Z", 10, 100, "gpt-4o", 200, "openai", 500),
			r("2026-11-24T11:05:00Z", 10, 100, "gpt-4o", 429, "", 0),
			r("2026-11-24T11:10:00Z", 10, 101, "gpt-4o-mini", 502, "openai", 0),
			r("2026-11-24T11:15:00Z", 20, 200, "gpt-4o-mini", 200, "openai", 900),
			r("2026-11-24T11:20:00Z", 0, 0, "gpt-4o", 400, "", 0),
		)
		rep, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByHour)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Totals.Requests != 5 || rep.Totals.Errors != 3 || rep.Totals.RefusedRequests != 2 {
			t.Fatalf("totals = %+v", rep.Totals)
		}
		// The organization's days count them too.
		days, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByDay)
		if err != nil || days.Totals.RefusedRequests != 2 || len(days.Series) != 1 || days.Series[0].RefusedRequests != 2 {
			t.Fatalf("by day: %+v, %v", days, err)
		}
		type want struct {
			key               string
			requests, refused int64
			points            int
		}
		for _, c := range []struct {
			by     rollup.SplitBy
			filter rollup.Filter
			want   []want
		}{
			{rollup.SplitModel, rollup.Filter{OrgID: 1}, []want{{"gpt-4o-mini", 2, 0, 1}, {"gpt-4o", 3, 2, 2}}},
			{rollup.SplitService, rollup.Filter{OrgID: 1}, []want{{"20", 1, 0, 1}, {"10", 3, 1, 2}}},
			{rollup.SplitAPIKey, rollup.Filter{OrgID: 1}, []want{{"200", 1, 0, 1}, {"100", 2, 1, 2}, {"101", 1, 0, 1}}},
			{rollup.SplitAPIKey, rollup.Filter{OrgID: 1, ServiceID: 10}, []want{{"100", 2, 1, 2}, {"101", 1, 0, 1}}},
			{rollup.SplitService, rollup.Filter{OrgID: 2}, nil},
		} {
			groups, err := rollup.Split(ctx, db, c.filter, rollup.ByHour, c.by)
			if err != nil {
				t.Fatal(err)
			}
			var got []want
			for _, g := range groups {
				got = append(got, want{g.Key, g.Requests, g.RefusedRequests, len(g.Series)})
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("split by %s of %+v = %+v, want %+v", c.by, c.filter, got, c.want)
			}
		}
		if _, err := rollup.Split(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByHour, "COLOR"); err == nil {
			t.Error("an unknown split was accepted")
		}
	})
}

// TestQueryCounterSeries: a report whose series carry the counters alone
// has the same totals, split by model and series counters as the whole
// report, by hour and by day (day rows and the hours of a partial day),
// and no latency in its series.
func TestQueryCounterSeries(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var batch []usagelog.Record
		start := at("2026-11-20T00:00:00Z")
		for i := range 300 {
			batch = append(batch, usagelog.Record{CreatedAt: start.Add(time.Duration(i) * 37 * time.Minute), OrganizationID: 1, ServiceID: 10, APIKeyID: 100 + i%3,
				Model: fmt.Sprintf("m%d", i%4), Status: []int{200, 200, 429}[i%3], Tokens: tokens.Tokens{InputTokens: int64(i), CacheWriteTokens: int64(i % 5)},
				Cost: money.Micros(i * 10), Priced: i%7 != 0, LatencyUs: int64(1000 + i*100)})
		}
		add(t, db, batch...)
		for _, f := range []rollup.Filter{{OrgID: 1}, {OrgID: 1, From: start.Add(5 * time.Hour)}, {OrgID: 1, APIKeyID: 101}} {
			for _, b := range []rollup.Bucket{rollup.ByHour, rollup.ByDay} {
				whole, err := rollup.Query(ctx, db, f, b)
				if err != nil {
					t.Fatal(err)
				}
				counters, err := rollup.QueryCounterSeries(ctx, db, f, b)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(whole.Totals, counters.Totals) || !reflect.DeepEqual(whole.ByModel, counters.ByModel) || len(whole.Series) != len(counters.Series) {
					t.Fatalf("%+v by %s: totals or models differ:\n%+v\n%+v", f, b, whole, counters)
				}
				if whole.Totals.Requests == 0 || whole.Series[0].Latency.Count() == 0 {
					t.Fatalf("%+v by %s: the whole report has no requests or no series latency: %+v", f, b, whole)
				}
				for i, p := range counters.Series {
					w := whole.Series[i]
					w.Latency = latencyhist.Histogram{}
					if !reflect.DeepEqual(p, w) {
						t.Fatalf("%+v by %s: point %d = %+v, want %+v without latency", f, b, i, p, w)
					}
				}
			}
		}
	})
}
