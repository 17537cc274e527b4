package usagelog_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

// sizeRowsEnv sets how many records TestUsageRecordSize loads; a million
// is the figure docs/benchmarks.md reports.
const sizeRowsEnv = "SLUICE_USAGE_SIZE_ROWS"

// maxBytesPerMillion is the most a million usage records may take on each
// dialect, table and indexes, in live pages: a change that makes records
// or their indexes wider has to raise it knowingly.
var maxBytesPerMillion = map[string]int64{dialect.SQLite: 390 << 20, dialect.Postgres: 415 << 20}

// realistic is the i-th of n records as a month of traffic leaves them:
// 10,000 keys over 1,000 services in 10 organizations, a handful of
// models and routes, about 3% errors, an upstream retried now and then.
func realistic(rng *rand.Rand, i, n int, start time.Time) usagelog.Record {
	models := []string{"gpt-4o-mini", "gpt-4o-mini", "gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "claude-sonnet-4-5",
		"claude-haiku-4-5", "gemini-2.5-flash", "text-embedding-3-small", "o4-mini"}
	key := rng.IntN(10_000) + 1
	service := key%1000 + 1
	r := usagelog.Record{
		CreatedAt:      start.Add(time.Duration(int64(i) * int64(30*24*time.Hour) / int64(n))),
		RequestID:      fmt.Sprintf("req_%016x%016x", rng.Uint64(), rng.Uint64()),
		OrganizationID: service%10 + 1, ServiceID: service, APIKeyID: key,
		Protocol: "openai", ProviderProtocol: "openai", Endpoint: "/v1/chat/completions",
		Model: models[rng.IntN(len(models))],
		Tokens: tokens.Tokens{InputTokens: int64(rng.IntN(4000) + 20), OutputTokens: int64(rng.IntN(800)),
			CachedInputTokens: int64(rng.IntN(2) * 1024)},
		Cost: money.Micros(rng.IntN(20_000)), Priced: true,
		Status: 200, LatencyUs: int64(rng.IntN(3_000_000) + 100_000),
		Streamed: rng.IntN(2) == 0,
	}
	cred := key%50 + 1
	r.CredentialID = &cred
	ttfb := r.LatencyUs / 3
	r.TTFBUs = &ttfb
	switch m := r.Model; {
	case m[:6] == "claude":
		r.Protocol, r.ProviderProtocol, r.Endpoint = "anthropic", "anthropic", "/v1/messages"
		r.CacheWriteTokens = int64(rng.IntN(2) * 512)
		if rng.IntN(4) == 0 { // called through the OpenAI API
			r.Protocol, r.Endpoint = "openai", "/v1/chat/completions"
		}
	case m == "text-embedding-3-small":
		r.Endpoint, r.OutputTokens, r.Streamed = "/v1/embeddings", 0, false
	}
	if rng.IntN(100) < 3 {
		r.Status, r.Error = []int{429, 500, 502, 400}[rng.IntN(4)], "upstream answered 429: rate limit reached for requests"
		r.OutputTokens, r.Cost, r.TTFBUs = 0, 0, nil
		if rng.IntN(2) == 0 {
			r.Attempts = []schema.Attempt{{TargetID: 1, CredentialID: cred, Status: 429, LatencyMs: 40, Error: "upstream answered 429"},
				{TargetID: 2, CredentialID: cred + 1, Status: r.Status, LatencyMs: 35}}
		}
	}
	return r
}

// TestUsageRecordSize loads records through the writer and checks what a
// million of them take on disk, table and indexes, in live pages; it logs
// each part's share.
func TestUsageRecordSize(t *testing.T) {
	n := 20_000
	if s := os.Getenv(sizeRowsEnv); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("%s: %v", sizeRowsEnv, err)
		}
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{Log: quiet, QueueSize: 2 * n, Interval: time.Hour})
		rng := rand.New(rand.NewPCG(1, 2))
		start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			if !w.Add(realistic(rng, i, n, start)) {
				t.Fatal("record dropped")
			}
			if i%100_000 == 99_999 {
				if err := w.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		total, parts := usageSize(t, db, n)
		perMillion := total * 1_000_000 / int64(n)
		for _, p := range parts {
			t.Logf("%-45s %8.1f MB per million", p.name, float64(p.bytes)*1e6/float64(n)/(1<<20))
		}
		t.Logf("%d records: %.1f MB per million, table and indexes", n, float64(perMillion)/(1<<20))
		if max := maxBytesPerMillion[db.Dialect]; perMillion > max {
			t.Errorf("%.1f MB per million records, want at most %d MB", float64(perMillion)/(1<<20), max>>20)
		}
	})
}

type sizePart struct {
	name  string
	bytes int64
}

// usageSize is the live size of usage_records with its indexes, and each
// part's: SQLite's used pages by dbstat, PostgreSQL's relation sizes.
func usageSize(t *testing.T, db *database.DB, n int) (int64, []sizePart) {
	t.Helper()
	ctx := context.Background()
	var q string
	if db.Dialect == dialect.Postgres {
		if _, err := db.SQL.ExecContext(ctx, `VACUUM ANALYZE usage_records`); err != nil {
			t.Fatal(err)
		}
		q = `SELECT 'usage_records (heap+toast)', pg_total_relation_size('usage_records') - pg_indexes_size('usage_records')
			UNION ALL SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes WHERE relid = 'usage_records'::regclass
			UNION ALL SELECT 'average row, bytes (not counted)', avg(pg_column_size(r.*))::bigint * $1 FROM usage_records r`
	} else {
		q = `SELECT s.name, count(*) * (SELECT page_size FROM pragma_page_size()) FROM dbstat s JOIN sqlite_schema m ON m.name = s.name
			WHERE m.tbl_name = 'usage_records' GROUP BY s.name`
	}
	var args []any
	if db.Dialect == dialect.Postgres {
		args = append(args, n) // scales the average row to per-million like the rest
	}
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var parts []sizePart
	var sum int64
	for rows.Next() {
		var p sizePart
		if err := rows.Scan(&p.name, &p.bytes); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
		if !strings.HasSuffix(p.name, "(not counted)") {
			sum += p.bytes
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if db.Dialect == dialect.Postgres {
		var total int64
		if err := db.SQL.QueryRowContext(ctx, `SELECT pg_total_relation_size('usage_records')`).Scan(&total); err != nil {
			t.Fatal(err)
		}
		return total, parts
	}
	return sum, parts
}
