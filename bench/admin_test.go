package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/ent/usagerollup"
	"github.com/sluicehq/sluice/money"
)

// smallAdminSize is the data set CI loads: the full step's shape, small.
var smallAdminSize = adminSize{Keys: 200, Services: 20, Records: 20_000, Days: 90}

// adminDatabases are the databases the admin tests run on: SQLite, and
// PostgreSQL when SLUICE_TEST_POSTGRES names a server.
func adminDatabases() []string {
	dbs := []string{"SQLite"}
	if os.Getenv("SLUICE_TEST_POSTGRES") != "" {
		dbs = append(dbs, "PostgreSQL")
	}
	return dbs
}

// adminTarget is a fresh database of kind db for a test.
func adminTarget(t *testing.T, db string) database.Target {
	t.Helper()
	if db == "SQLite" {
		target, err := database.ParseURL("", filepath.Join(t.TempDir(), "sluice.db"))
		if err != nil {
			t.Fatal(err)
		}
		return target
	}
	pg, err := postgresDB(context.Background(), os.Getenv("SLUICE_TEST_POSTGRES"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.drop)
	for _, e := range pg.env {
		if dsn, ok := strings.CutPrefix(e, "DATABASE_URL="); ok {
			target, err := database.ParseURL(dsn, "")
			if err != nil {
				t.Fatal(err)
			}
			return target
		}
	}
	t.Fatal("postgresDB set no DATABASE_URL")
	return database.Target{}
}

func TestAdminLoaderWritesRecordsRollupsAndSpend(t *testing.T) {
	for _, dbName := range adminDatabases() {
		t.Run(dbName, func(t *testing.T) {
			ctx := context.Background()
			target := adminTarget(t, dbName)
			now := time.Now()
			l, err := loadAdminData(ctx, target, smallAdminSize, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.KeyIDs) != smallAdminSize.Keys || len(l.ServiceIDs) != smallAdminSize.Services || l.Records != smallAdminSize.Records {
				t.Fatalf("loaded %d keys, %d services, %d records; want %+v", len(l.KeyIDs), len(l.ServiceIDs), l.Records, smallAdminSize)
			}
			if l.Totals.Errors == 0 || l.Totals.Errors > int64(l.Records)/10 || l.Totals.CachedInputTokens == 0 || l.Totals.CacheWriteTokens == 0 {
				t.Errorf("the records lack their mix: %+v", l.Totals)
			}
			db, err := database.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var records int64
			if err := db.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+usagerecord.Table).Scan(&records); err != nil {
				t.Fatal(err)
			}
			if records != int64(l.Records) {
				t.Errorf("usage_records holds %d rows, want %d", records, l.Records)
			}
			// The keys' roll-ups sum to the records, and so do the
			// organization's own rows.
			want := l.Totals
			for _, rows := range []string{"<>", "="} {
				var req, errs, in, out, cost int64
				q := fmt.Sprintf("SELECT SUM(%s), SUM(%s), SUM(%s), SUM(%s), SUM(%s) FROM %s WHERE %s %s 0", usagerollup.FieldRequests, usagerollup.FieldErrors,
					usagerollup.FieldInputTokens, usagerollup.FieldOutputTokens, usagerollup.FieldCost, usagerollup.Table, usagerollup.FieldAPIKeyID, rows)
				if err := db.SQL.QueryRowContext(ctx, q).Scan(&req, &errs, &in, &out, &cost); err != nil {
					t.Fatal(err)
				}
				if req != want.Requests || errs != want.Errors || in != want.InputTokens || out != want.OutputTokens || money.Micros(cost) != want.Cost {
					t.Errorf("roll-ups (key %s 0) sum to %d requests, %d errors, %d in, %d out, %d cost; records to %+v", rows, req, errs, in, out, cost, want)
				}
			}
			// The organization's total spend window is the records' cost.
			var spent int64
			q := database.Rebind(db.Dialect, fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ? AND "%s" = ?`, spendwindow.FieldSpent, spendwindow.Table,
				spendwindow.FieldScope, spendwindow.FieldWindow))
			if err := db.SQL.QueryRowContext(ctx, q, string(spendwindow.ScopeOrg), string(spendwindow.WindowTotal)).Scan(&spent); err != nil {
				t.Fatal(err)
			}
			if money.Micros(spent) != want.Cost {
				t.Errorf("the organization's total spend is %d, the records cost %d", spent, want.Cost)
			}
		})
	}
}

// TestAdminStepOnSmallDataSet runs the admin step as `bench admin` does,
// on the real binary, on a small data set: every query must answer
// without GraphQL errors, the walk must visit every key once, and the
// usage report must add up to the loaded records.
func TestAdminStepOnSmallDataSet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the Sluice binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	work := t.TempDir()
	repo, err := moduleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(work, "sluice")
	if err := buildSluice(ctx, repo, bin); err != nil {
		t.Fatal(err)
	}
	docs, err := readDashboardDocs(filepath.Join(repo, "web", "src", "gql", "graphql.ts"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dbName := range adminDatabases() {
		t.Run(dbName, func(t *testing.T) {
			res, err := runAdmin(ctx, adminSpec{bin: bin, work: t.TempDir(), db: dbName, postgres: os.Getenv("SLUICE_TEST_POSTGRES"),
				size: smallAdminSize, docs: docs, runs: 2, warmups: 1, check: checkAdminData})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Timings) < 15 {
				t.Errorf("only %d queries timed", len(res.Timings))
			}
			for _, tm := range res.Timings {
				if tm.Err != "" || tm.Runs != 2 {
					t.Errorf("%s: %d runs, error %q", tm.Name, tm.Runs, tm.Err)
				}
			}
			p := res.Paging
			if p.Err != "" {
				t.Fatalf("walking the keys: %s", p.Err)
			}
			visited := slices.Clone(p.Keys)
			slices.Sort(visited)
			if len(slices.Compact(visited)) != len(p.Keys) {
				t.Errorf("the walk visited a key twice")
			}
			var loaded []string
			for _, id := range res.Loaded.KeyIDs {
				loaded = append(loaded, fmt.Sprint(id))
			}
			slices.Sort(loaded)
			if !slices.Equal(visited, loaded) {
				t.Errorf("the walk visited %d keys, the loader wrote %d (sets differ)", len(p.Keys), len(loaded))
			}
			if wantPages := (smallAdminSize.Keys + 199) / 200; p.Pages != wantPages {
				t.Errorf("the walk took %d pages, want %d", p.Pages, wantPages)
			}
			if res.DBSize == nil || res.DBSize.Total <= 0 {
				t.Errorf("no database size: %+v", res.DBSize)
			}
			md := res.markdown()
			if !strings.Contains(md, "| usage log: second page") || !strings.Contains(md, "MB per million usage records") {
				t.Errorf("the table lacks rows:\n%s", md)
			}
		})
	}
}

// checkAdminData checks, through the API, that the gateway sees what the
// loader wrote: the counts, and a usage report equal to the records' sums.
func checkAdminData(ctx context.Context, c *adminClient, l *adminLoaded) error {
	var counts struct {
		APIKeys      struct{ TotalCount int } `json:"apiKeys"`
		Services     struct{ TotalCount int }
		UsageRecords struct {
			TotalCount        int
			TotalCountIsExact bool
		}
	}
	if err := c.do(ctx, `query { apiKeys(where: {isManagementKey: false}) { totalCount } services { totalCount } usageRecords { totalCount totalCountIsExact } }`, nil, &counts); err != nil {
		return err
	}
	// A record count past the API's cap says so instead of counting on.
	records, exact := min(l.Records, 1_000), l.Records <= 1_000
	if counts.APIKeys.TotalCount != len(l.KeyIDs) || counts.Services.TotalCount != len(l.ServiceIDs) ||
		counts.UsageRecords.TotalCount != records || counts.UsageRecords.TotalCountIsExact != exact {
		return fmt.Errorf("the API counts %+v, the loader wrote %d keys, %d services, %d records", counts, len(l.KeyIDs), len(l.ServiceIDs), l.Records)
	}
	for _, bucket := range []string{"DAY", "HOUR"} {
		var report struct {
			Usage struct {
				Totals struct {
					Requests, Errors, UnpricedRequests, InputTokens, OutputTokens, CachedInputTokens int64
					Cost                                                                             json.Number
				}
				Series []struct {
					Sums struct{ Requests int64 }
				}
			}
		}
		if err := c.do(ctx, `query($from: Time!, $bucket: UsageBucket!) { usage(filter: {from: $from}, bucket: $bucket) {
			totals { requests errors unpricedRequests inputTokens outputTokens cachedInputTokens cost } series { sums { requests } } } }`,
			map[string]any{"from": l.From, "bucket": bucket}, &report); err != nil {
			return err
		}
		got, want := report.Usage.Totals, l.Totals
		cost, err := parseMicros(got.Cost.String())
		if err != nil {
			return fmt.Errorf("usage cost %q: %w", got.Cost, err)
		}
		if got.Requests != want.Requests || got.Errors != want.Errors || got.UnpricedRequests != want.UnpricedRequests ||
			got.InputTokens != want.InputTokens || got.OutputTokens != want.OutputTokens || got.CachedInputTokens != want.CachedInputTokens || cost != want.Cost {
			return fmt.Errorf("usage report by %s totals %+v, the records sum to %+v", bucket, got, want)
		}
		var series int64
		for _, p := range report.Usage.Series {
			series += p.Sums.Requests
		}
		if series != want.Requests {
			return fmt.Errorf("usage series by %s sums to %d requests, want %d", bucket, series, want.Requests)
		}
	}
	return nil
}

// parseMicros reads a USD decimal as the API writes it ("12.345678") as
// exact micro-USD.
func parseMicros(s string) (money.Micros, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		return 0, fmt.Errorf("more than six decimals in %q", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse %q: %w", s, err)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("parse %q: %w", s, err)
		}
	}
	return money.Micros(w*1_000_000 + f), nil
}

func TestReadDashboardDocs(t *testing.T) {
	repo, err := moduleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	docs, err := readDashboardDocs(filepath.Join(repo, "web", "src", "gql", "graphql.ts"))
	if err != nil {
		t.Fatal(err)
	}
	// Every printed operation parses, with its fragments.
	for name, text := range docs.operations {
		if _, err := parser.ParseQuery(&ast.Source{Input: text}); err != nil {
			t.Errorf("%s does not parse: %v\n%s", name, err, text)
		}
	}
	tests := []struct {
		name string
		want []string
	}{
		{"APIKeys", []string{"query APIKeys($after: Cursor, $search: String) {", "apiKeys(first: 50, after: $after, where: {isManagementKey: false, search: $search}, orderBy: {field: NAME})",
			"fragment APIKeyFields on APIKey", "fragment SpendFields on Spend", "...SpendFields"}},
		{"UsageLog", []string{"query UsageLog($after: Cursor, $where: UsageRecordWhereInput)", "orderBy: {field: CREATED_AT, direction: DESC}", "totalCount"}},
		{"CreateAPIKey", []string{"mutation CreateAPIKey($input: CreateAPIKeyInput!)", "fragment APIKeyFields on APIKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := docs.operation(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("%s lacks %q:\n%s", tt.name, w, text)
				}
			}
		})
	}
	if _, err := docs.operation("NoSuchOperation"); err == nil {
		t.Error("an operation the dashboard does not send was found")
	}
	q, err := docs.withFragments(keysSpendPage, "APIKeyFields")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseQuery(&ast.Source{Input: q}); err != nil || strings.Count(q, "fragment SpendFields") != 1 {
		t.Errorf("keys page with fragments (parse error %v):\n%s", err, q)
	}
	if _, err := docs.withFragments(keysSpendPage, "NoSuchFragment"); err == nil {
		t.Error("a fragment the dashboard does not define was found")
	}
}
