package usageexport_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/organization"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usageexport"
	"github.com/sluicehq/sluice/usagelog"
)

// fixture is two organizations' usage behind the API and the export, as
// the server wires them, and a login token for each organization.
type fixture struct {
	srv          *httptest.Server
	token, other string
	svc, key     int
}

func newFixture(t testing.TB, db *database.DB, records int) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	issuer, _ := auth.NewTokens("0123456789abcdef0123456789abcdef", time.Hour)
	a := auth.NewAuthenticator(db.Client, issuer, log)
	f := &fixture{}
	login := func(org string) (string, *ent.Organization) {
		o, err := auth.CreateOrganization(ctx, db.Client, org, false)
		if err != nil {
			t.Fatal(err)
		}
		if err := auth.CreateUser(ctx, db.Client, org+"-member", "a long enough password", o.ID, auth.RoleMember); err != nil {
			t.Fatal(err)
		}
		sess, _, err := a.Login(ctx, auth.LoginRequest{Username: org + "-member", Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		return sess.Token, o
	}
	var org, other *ent.Organization
	f.token, org = login("acme")
	f.other, other = login("globex")
	svc := db.Client.Service.Create().SetOrganizationID(org.ID).SetServiceName("=chat").SetProvider("openai").SaveX(ctx)
	key := db.Client.APIKey.Create().SetOrganizationID(org.ID).SetServiceID(svc.ID).SetName("@ops").SetKeyPrefix("sk_x").SetKeyHash("h").SetKeyLastFour("abcd").SaveX(ctx)
	f.svc, f.key = svc.ID, key.ID
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Records are written as the gateway writes them: by the usage writer,
	// with their roll-ups, which the model filter reads the models in use from.
	w := usagelog.New(db, usagelog.Options{BatchSize: 500, InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
		return rollup.Add(ctx, tx, db.Dialect, batch)
	}})
	for i := range records {
		status := 200
		if i%7 == 0 {
			status = 502
		}
		model := "gpt-4o"
		if i%3 == 0 {
			model = "claude-sonnet"
		}
		// Pairs share a creation time, so paging must break ties by id.
		w.Add(usagelog.Record{OrganizationID: org.ID, ServiceID: svc.ID, APIKeyID: key.ID,
			CreatedAt: start.Add(time.Duration(i/2) * time.Minute), RequestID: fmt.Sprintf("req-%d", i),
			Protocol: "openai", Endpoint: "/v1/chat/completions", Model: model, Status: status,
			Tokens: tokens.Tokens{InputTokens: int64(i), OutputTokens: 2}, Cost: 1500, Priced: true, LatencyUs: int64(1000 + i), Error: "-boom"})
	}
	w.Add(usagelog.Record{OrganizationID: other.ID, ServiceID: svc.ID, APIKeyID: key.ID, CreatedAt: start,
		RequestID: "theirs", Protocol: "openai", Endpoint: "/v1/chat/completions", Model: "gpt-4o", Status: 200, Priced: true})
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("/graphql", a.Middleware(graph.NewHandler(&graph.Resolver{Client: db.Client, DB: db, Log: log, Auth: a}, graph.Options{})))
	mux.Handle("GET /api/admin/usage.csv", a.Middleware(usageexport.Handler(db.Client, log)))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// export fetches the CSV for a where input as token.
func (f *fixture) export(t *testing.T, token string, where map[string]any) (*http.Response, [][]string) {
	t.Helper()
	q := url.Values{}
	if where != nil {
		b, _ := json.Marshal(where)
		q.Set("where", string(b))
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/admin/usage.csv?"+q.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return res, nil
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return res, rows
}

// requestIDs pages through usageRecords, newest first, for a where input.
func (f *fixture) requestIDs(t *testing.T, where map[string]any) []string {
	t.Helper()
	var ids []string
	var after any
	for {
		body, _ := json.Marshal(map[string]any{
			"query": `query($w: UsageRecordWhereInput, $a: Cursor) { usageRecords(first: 100, after: $a, where: $w, orderBy: {field: CREATED_AT, direction: DESC}) {
				edges { node { requestID } } pageInfo { hasNextPage endCursor } } }`,
			"variables": map[string]any{"w": where, "a": after},
		})
		req, _ := http.NewRequest("POST", f.srv.URL+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data struct {
				UsageRecords struct {
					Edges []struct {
						Node struct{ RequestID string }
					}
					PageInfo struct {
						HasNextPage bool
						EndCursor   string
					}
				}
			}
			Errors []any
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || out.Errors != nil {
			t.Fatalf("usageRecords: %v %v", err, out.Errors)
		}
		for _, e := range out.Data.UsageRecords.Edges {
			ids = append(ids, e.Node.RequestID)
		}
		if !out.Data.UsageRecords.PageInfo.HasNextPage {
			return ids
		}
		after = out.Data.UsageRecords.PageInfo.EndCursor
	}
}

// TestExportMatchesUsageRecords: for each filter the dashboard's usage log
// offers, the export lists the records usageRecords answers, in its order,
// across several export pages; another organization's are never in it.
func TestExportMatchesUsageRecords(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 2*usageexport.PageSize+301)
		wheres := map[string]map[string]any{
			"everything": nil,
			"service":    {"serviceID": f.svc},
			"key":        {"apiKeyID": f.key},
			"model":      {"modelContainsFold": "CLAUDE"},
			"errors":     {"statusGTE": 400},
			"ok":         {"statusLT": 400},
			"time range": {"createdAtGTE": "2026-11-01T02:00:00Z", "createdAtLT": "2026-11-01T09:30:00Z"},
			"combined":   {"apiKeyID": f.key, "statusLT": 400, "modelContainsFold": "gpt", "createdAtGTE": "2026-11-01T05:00:00Z"},
		}
		for name, where := range wheres {
			res, rows := f.export(t, f.token, where)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%s: status %d, %s", name, res.StatusCode, res.Header.Get("Content-Type"))
			}
			want := f.requestIDs(t, where)
			if len(rows)-1 != len(want) || len(want) == 0 {
				t.Fatalf("%s: exported %d records, usageRecords answers %d", name, len(rows)-1, len(want))
			}
			for i, id := range want {
				if rows[i+1][1] != id {
					t.Fatalf("%s: row %d is %s, usageRecords has %s", name, i+1, rows[i+1][1], id)
				}
			}
		}
		_, rows := f.export(t, f.token, map[string]any{"requestID": "req-7"})
		want := []string{"2026-11-01T00:03:00Z", "req-7", "'=chat", "'@ops", "gpt-4o", "openai", "/v1/chat/completions", "502",
			"7", "2", "0", "0", "0.001500", "1.007", "false", "'-boom"}
		if len(rows) != 2 || strings.Join(rows[0], ",") != strings.Join(usageexport.Header, ",") || strings.Join(rows[1], ",") != strings.Join(want, ",") {
			t.Fatalf("one record exports as %q, want %q", rows, want)
		}
	})
}

// TestExportRefused: without a credential, or with a bad one, nothing is
// exported; another organization's member exports only its own records.
func TestExportRefused(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, 10)
		for _, token := range []string{"", "not-a-token"} {
			if res, _ := f.export(t, token, nil); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("credential %q: status %d, want 401", token, res.StatusCode)
			}
		}
		_, rows := f.export(t, f.other, map[string]any{"serviceID": f.svc})
		if len(rows) != 2 || rows[1][1] != "theirs" {
			t.Fatalf("another organization exports %q", rows)
		}
		if res, _ := f.export(t, f.token, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("a member's export: status %d", res.StatusCode)
		}
		req, _ := http.NewRequest("GET", f.srv.URL+"/api/admin/usage.csv?where="+url.QueryEscape(`{"statusGTE": "x"}`), nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusBadRequest {
			t.Fatalf("a malformed where input: %v %v", res.StatusCode, err)
		}
	})
}

// flushCounter records how much of the body had been written at each
// flush.
type flushCounter struct {
	bytes.Buffer
	flushedAt []int
}

func (c *flushCounter) flush() { c.flushedAt = append(c.flushedAt, c.Len()) }

// TestExportStreams: the export is sent a page at a time, the first page
// flushed while the rest is still unread, never the whole body at once.
func TestExportStreams(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		newFixture(t, db, 3*usageexport.PageSize+10)
		var out flushCounter
		if err := usageexport.Write(context.Background(), db.Client, nil, &out, out.flush); err != nil {
			t.Fatal(err)
		}
		if len(out.flushedAt) != 4 {
			t.Fatalf("%d flushes for 4 pages", len(out.flushedAt))
		}
		if first, total := out.flushedAt[0], out.Len(); first == 0 || first*2 > total {
			t.Fatalf("first flush at byte %d of %d: not a page at a time", first, total)
		}
		if lines := bytes.Count(out.Bytes(), []byte("\n")); lines != 3*usageexport.PageSize+10+1+1 {
			t.Fatalf("%d lines, want every record (both organizations') and the header", lines)
		}
	})
}

// BenchmarkWrite measures exporting 20,000 records; B/op divided by the
// records is what one row costs, which stays flat as exports grow since
// only a page is held at a time.
func BenchmarkWrite(b *testing.B) {
	testenv.EachBench(b, func(b *testing.B, db *database.DB) {
		newFixture(b, db, 20_000)
		// As a member of the organization exports: scoped to it.
		org := db.Client.Organization.Query().Where(organization.Name("acme")).OnlyX(context.Background())
		ctx := auth.WithViewer(context.Background(), &auth.Viewer{OrgID: org.ID, Role: auth.RoleMember})
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := usageexport.Write(ctx, db.Client, nil, io.Discard, func() {}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/20_000/1000, "µs/row")
	})
}
