package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/rollup"
)

// TestApplyMatchesEntSchema applies every migration to an empty database
// and asks ent what it would still change: anything at all is drift between
// ent/schema and migrations/.
func TestApplyMatchesEntSchema(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		ran, err := migrations.Apply(ctx, db.SQL, d)
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
		all, err := migrations.Load(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ran) != len(all) || len(all) < 2 {
			t.Fatalf("applied %d of %d migrations, want all (at least the schema and the seed)", len(ran), len(all))
		}
		assertNoDrift(t, db)
	})
}

func assertNoDrift(t *testing.T, db *database.DB) {
	t.Helper()
	dir := &atlasmigrate.MemDir{}
	if err := db.Client.Schema.NamedDiff(context.Background(), "drift",
		schema.WithDir(dir), schema.WithDropColumn(true), schema.WithDropIndex(true),
		schema.WithFormatter(atlasmigrate.DefaultFormatter)); err != nil {
		t.Fatalf("diff against ent schema: %v", err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Errorf("the migrated database differs from ent/schema; run go generate ./... . Pending change %s:\n%s", f.Name(), f.Bytes())
	}
}

// TestApplyTwiceChangesNothing proves migrations run once: a second Apply
// runs none, and the database (schema and seeded rows) is as before.
func TestApplyTwiceChangesNothing(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		if _, err := migrations.Apply(ctx, db.SQL, d); err != nil {
			t.Fatal(err)
		}
		before := standards(t, db)
		ran, err := migrations.Apply(ctx, db.SQL, d)
		if err != nil {
			t.Fatalf("second apply: %v", err)
		}
		if len(ran) != 0 {
			t.Fatalf("second apply ran %d migrations, want 0", len(ran))
		}
		pending, err := migrations.Pending(ctx, db.SQL, d)
		if err != nil || len(pending) != 0 {
			t.Fatalf("pending after apply = %d, %v; want none", len(pending), err)
		}
		if after := standards(t, db); after != before {
			t.Fatalf("second apply changed the seeded standards:\nbefore %s\nafter  %s", before, after)
		}
		assertNoDrift(t, db)
	})
}

// TestSeededAPIStandards checks the five seeded API standards are there with their key methods.
func TestSeededAPIStandards(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		got := standards(t, db)
		want := "anthropic:auth_apikey:x-api-key,cohere:auth_bearer:Authorization,gemini:query_param:key,ollama:none:,openai:auth_bearer:Authorization"
		if got != want {
			t.Fatalf("seeded standards = %s, want %s", got, want)
		}
	})
}

func TestPendingOnEmptyDatabaseListsAll(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		db := testenv.Empty(t, d)
		pending, err := migrations.Pending(context.Background(), db.SQL, d)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := migrations.Load(d)
		if len(pending) != len(all) {
			t.Fatalf("pending = %d, want %d", len(pending), len(all))
		}
		if !strings.Contains(pending[0].SQL, "CREATE TABLE") {
			t.Fatalf("first migration does not create tables:\n%.200s", pending[0].SQL)
		}
	})
}

func TestLoadRejectsUnknownDialect(t *testing.T) {
	if _, err := migrations.Load("mysql"); err == nil || !strings.Contains(err.Error(), "mysql") {
		t.Fatalf("Load(mysql) error = %v, want one naming the dialect", err)
	}
}

func standards(t *testing.T, db *database.DB) string {
	t.Helper()
	rows, err := db.SQL.Query("SELECT api_standard_handle, key_method, key_field FROM api_standards ORDER BY api_standard_handle")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h, m, f string
		if err := rows.Scan(&h, &m, &f); err != nil {
			t.Fatal(err)
		}
		out = append(out, h+":"+m+":"+f)
	}
	return strings.Join(out, ",")
}

// TestDriftIsDetected makes sure the drift check can fail: a database that
// lost a column must be reported.
func TestDriftIsDetected(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		db := testenv.New(t, d)
		if _, err := db.SQL.Exec("DROP INDEX apikey_organization_id_name"); err != nil {
			t.Fatal(err)
		}
		dir := &atlasmigrate.MemDir{}
		if err := db.Client.Schema.NamedDiff(context.Background(), "drift", schema.WithDir(dir),
			schema.WithFormatter(atlasmigrate.DefaultFormatter)); err != nil {
			t.Fatal(err)
		}
		files, _ := dir.Files()
		if len(files) != 1 || !strings.Contains(string(files[0].Bytes()), "apikey_organization_id_name") {
			t.Fatalf("dropped index not detected as drift; files: %d", len(files))
		}
	})
}

// TestCacheWritePricesForEditedRows runs the data migration that gives
// price rows an admin edited before cache writes were priced Anthropic's
// rule on their own input price, and leaves every other row alone.
func TestCacheWritePricesForEditedRows(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		all, err := migrations.Load(db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		var backfill string
		for _, m := range all {
			if m.Name == "cache_write_prices_edited" {
				backfill = m.SQL
			}
		}
		if backfill == "" {
			t.Fatal("no cache_write_prices_edited migration")
		}
		set := int64(4_000_000)
		for _, r := range []struct {
			provider, model string
			input           int64
			customized      bool
			write           *int64
		}{
			{"anthropic", "claude-edited", 3_000_001, true, nil},
			{"anthropic", "claude-unedited", 3_000_000, false, nil},
			{"anthropic", "claude-set", 3_000_000, true, &set},
			{"openrouter", "anthropic/claude-edited", 1_000_000, true, nil},
			{"openrouter", "openai/gpt-edited", 1_000_000, true, nil},
			{"openai", "gpt-edited", 1_000_000, true, nil},
		} {
			c := db.Client.ModelPrice.Create().SetProvider(r.provider).SetModel(r.model).SetInputPerMtok(money.Micros(r.input)).
				SetOutputPerMtok(1).SetCustomized(r.customized)
			if r.write != nil {
				c.SetCacheWritePerMtok(money.Micros(*r.write))
			}
			c.SaveX(ctx)
		}
		if _, err := db.SQL.ExecContext(ctx, backfill); err != nil {
			t.Fatalf("run the backfill: %v", err)
		}
		got := map[string]string{}
		for _, p := range db.Client.ModelPrice.Query().Where(modelprice.Customized(true)).AllX(ctx) {
			got[p.Provider+"/"+p.Model] = fmt.Sprint(deref(p.CacheWritePerMtok), "/", deref(p.CacheWrite1hPerMtok))
		}
		for _, p := range db.Client.ModelPrice.Query().Where(modelprice.Model("claude-unedited")).AllX(ctx) {
			got["unedited"] = fmt.Sprint(deref(p.CacheWritePerMtok), "/", deref(p.CacheWrite1hPerMtok))
		}
		want := map[string]string{
			"anthropic/claude-edited":            "3750002/6000002", // 1.25x rounded up, 2x
			"anthropic/claude-set":               "4000000/0",       // an admin's write price stays
			"openrouter/anthropic/claude-edited": "1250000/2000000",
			"openrouter/openai/gpt-edited":       "0/0",
			"openai/gpt-edited":                  "0/0",
			"unedited":                           "0/0", // the catalog's Sync fills these
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: cache writes %s, want %s", k, got[k], w)
			}
		}
	})
}

func deref(m *money.Micros) int64 {
	if m == nil {
		return 0
	}
	return int64(*m)
}

// TestCredentialOwnerRepair runs the migration that makes a service's own
// credential belong to it by id on a database written before it: credentials
// named "service:<name>" go to the service of that name, provider and
// organization; those a rename left behind are deleted unless something
// still uses them; the owner's delete then takes its credential along.
func TestCredentialOwnerRepair(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		version := migrationVersion(t, d, "credential_owner")
		if _, err := migrations.ApplyBefore(ctx, db.SQL, d, version); err != nil {
			t.Fatalf("apply the migrations before %s: %v", version, err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.SQL.ExecContext(ctx, database.Rebind(d, q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for _, org := range []int{1, 2} {
			exec("INSERT INTO organizations (id, created_at, updated_at, name) VALUES (?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, ?)", org, fmt.Sprint("org", org))
		}
		creds := []struct {
			id            int
			org           int
			provider, key string
		}{
			{10, 1, "openai", "service:alpha"},     // alpha's own
			{11, 1, "openai", "service:old"},       // renamed old → beta, which still uses it
			{12, 1, "openai", "service:gone"},      // renamed away, then deleted: stale
			{13, 1, "openai", "service:routed"},    // stale name, but a routing target
			{14, 1, "anthropic", "service:alpha"},  // alpha is an openai service
			{15, 1, "openai", "service:elsewhere"}, // the service of that name is in org 2
			{16, 2, "openai", "service:elsewhere"}, // its own
			{17, 1, "openai", "main"},              // an ordinary credential nothing uses
		}
		for _, c := range creds {
			exec("INSERT INTO provider_credentials (id, created_at, updated_at, provider, account_key, display_name, organization_id) VALUES (?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, ?, ?, ?, ?)",
				c.id, c.provider, c.key, c.key, c.org)
		}
		for _, s := range []struct {
			id, org, cred int
			name          string
		}{{20, 1, 10, "alpha"}, {21, 1, 11, "beta"}, {22, 2, 16, "elsewhere"}} {
			exec("INSERT INTO services (id, created_at, updated_at, service_name, provider, models_enabled, organization_id, credential_id) VALUES (?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, ?, 'openai', '[]', ?, ?)",
				s.id, s.name, s.org, s.cred)
		}
		exec("INSERT INTO service_targets (id, created_at, updated_at, organization_id, credential_id, service_id) VALUES (30, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1, 13, 20)")

		if _, err := migrations.Apply(ctx, db.SQL, d); err != nil {
			t.Fatalf("apply %s: %v", version, err)
		}
		want := "10:20,11:-,13:-,16:22,17:-" // id:owner; 12, 14 and 15 were stale
		if got := credentialOwners(t, db); got != want {
			t.Fatalf("credentials after the repair = %s, want %s", got, want)
		}
		assertNoDrift(t, db)

		exec("DELETE FROM services WHERE id = 20")
		if got, want := credentialOwners(t, db), "11:-,13:-,16:22,17:-"; got != want {
			t.Fatalf("after deleting alpha, credentials = %s, want %s (its own one gone with it)", got, want)
		}
	})
}

func migrationVersion(t *testing.T, dialectName, name string) string {
	t.Helper()
	all, err := migrations.Load(dialectName)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if m.Name == name {
			return m.Version
		}
	}
	t.Fatalf("no %s migration", name)
	return ""
}

// credentialOwners lists every credential as id:owner, "-" for none.
func credentialOwners(t *testing.T, db *database.DB) string {
	t.Helper()
	rows, err := db.SQL.Query("SELECT id, owner_service_id FROM provider_credentials ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int
		var owner *int
		if err := rows.Scan(&id, &owner); err != nil {
			t.Fatal(err)
		}
		o := "-"
		if owner != nil {
			o = fmt.Sprint(*owner)
		}
		out = append(out, fmt.Sprintf("%d:%s", id, o))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, ",")
}

// TestUsageRecordsNarrow runs the migration that stores usage records'
// protocols and endpoints as codes in narrower columns on records written
// before it: each reads back as it was written, an empty upstream protocol
// as none, and a route the gateway never had as empty.
func TestUsageRecordsNarrow(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		version := migrationVersion(t, d, "usage_records_narrow")
		if _, err := migrations.ApplyBefore(ctx, db.SQL, d, version); err != nil {
			t.Fatalf("apply the migrations before %s: %v", version, err)
		}
		rows := []struct {
			protocol, endpoint string
			upstream           any
			status             int
		}{
			{"openai", "/v1/chat/completions", "anthropic", 200},
			{"anthropic", "/v1/messages", "anthropic", 529},
			{"gemini", "/v1beta/models/{model}:streamGenerateContent", "openai", 200},
			{"cohere", "/v2/embed", nil, 401},
			{"openai", "/v1/responses", "", 200},
			{"openai", "/v0/gone", "openai", 404},
		}
		// A gateway-made request ID, then clients' own.
		ids := []string{"req_0123456789abcdef0123456789abcdef", "req_0123456789ABCDEF0123456789ABCDEF", "trace-2", "req_3", "x:4", "5"}
		for i, r := range rows {
			if _, err := db.SQL.ExecContext(ctx, database.Rebind(d, `INSERT INTO usage_records (created_at, request_id, organization_id,
				service_id, api_key_id, protocol, endpoint, model, status, provider_protocol, input_tokens) VALUES (CURRENT_TIMESTAMP, ?, 1, 2, 3, ?, ?, 'gpt-4o', ?, ?, ?)`),
				ids[i], r.protocol, r.endpoint, r.status, r.upstream, 1_000_000+i); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := migrations.Apply(ctx, db.SQL, d); err != nil {
			t.Fatalf("apply %s: %v", version, err)
		}
		assertNoDrift(t, db)
		got, err := db.Client.UsageRecord.Query().Order(ent.Asc(usagerecord.FieldID)).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) {
			t.Fatalf("%d records after the migration, want %d", len(got), len(rows))
		}
		for i, r := range rows {
			want := r.endpoint
			if want == "/v0/gone" {
				want = ""
			}
			up, _ := r.upstream.(string)
			g := got[i]
			if g.Protocol != r.protocol || g.Endpoint != want || g.ProviderProtocol != up || g.Status != r.status ||
				g.InputTokens != int64(1_000_000+i) || g.RequestID != ids[i] {
				t.Errorf("record %d reads %q %q %q %d %d %q, want %q %q %q %d %d %q", i, g.Protocol, g.Endpoint, g.ProviderProtocol,
					g.Status, g.InputTokens, g.RequestID, r.protocol, want, up, r.status, 1_000_000+i, ids[i])
			}
		}
		var nulls int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM usage_records WHERE provider_protocol IS NULL`).Scan(&nulls); err != nil {
			t.Fatal(err)
		}
		if nulls != 2 {
			t.Errorf("%d records without an upstream protocol stored as NULL, want 2", nulls)
		}
		var made int
		if err := db.SQL.QueryRowContext(ctx, `SELECT length(request_id) FROM usage_records ORDER BY id LIMIT 1`).Scan(&made); err != nil {
			t.Fatal(err)
		}
		if made != 17 {
			t.Errorf("a gateway-made request ID takes %d bytes, want 17", made)
		}
	})
}

// TestRollupOrgTotals: roll-ups written before organizations had rows of
// their own get them, summed from the keys' rows per hour and model, and
// the organization's report reads the same as the keys' rows summed.
func TestRollupOrgTotals(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		version := migrationVersion(t, d, "rollup_org_totals")
		if _, err := migrations.ApplyBefore(ctx, db.SQL, d, version); err != nil {
			t.Fatalf("apply the migrations before %s: %v", version, err)
		}
		hour := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
		for i, r := range []struct {
			service, key int
			model        string
			requests     int64
			bucket       any // latency_b10, NULL when empty
		}{{1, 11, "gpt-4o", 3, int64(3)}, {1, 12, "gpt-4o", 2, nil}, {2, 21, "gpt-4o", 5, int64(1)}, {2, 21, "claude", 7, nil}} {
			if _, err := db.SQL.ExecContext(ctx, database.Rebind(d, `INSERT INTO usage_rollups (hour, organization_id, service_id, api_key_id, model,
				requests, errors, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cost, latency_us_sum, latency_b10)
				VALUES (?, 1, ?, ?, ?, ?, 0, 0, ?, 0, 0, ?, 0, ?)`), hour, r.service, r.key, r.model, r.requests, 100*(i+1), 1000*(i+1), r.bucket); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := migrations.Apply(ctx, db.SQL, d); err != nil {
			t.Fatalf("apply %s: %v", version, err)
		}
		assertNoDrift(t, db)
		rows, err := db.SQL.QueryContext(ctx, `SELECT model, requests, input_tokens, cost, latency_b10 FROM usage_rollups
			WHERE service_id = 0 AND api_key_id = 0 ORDER BY model`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var model string
			var requests, in, cost int64
			var b10 sql.NullInt64
			if err := rows.Scan(&model, &requests, &in, &cost, &b10); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s %d %d %d %v", model, requests, in, cost, b10))
		}
		want := []string{"claude 7 400 4000 {0 false}", "gpt-4o 10 600 6000 {4 true}"}
		if !slices.Equal(got, want) {
			t.Fatalf("the organization's rows after the migration:\n%q\nwant\n%q", got, want)
		}
	})
}

// TestRollupDays checks the migration that sums the organizations' hourly
// rows into day rows, and that the report reads them as it read the hours.
func TestRollupDays(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		version := migrationVersion(t, d, "rollup_days_backfill")
		if _, err := migrations.ApplyBefore(ctx, db.SQL, d, version); err != nil {
			t.Fatalf("apply the migrations before %s: %v", version, err)
		}
		for _, r := range []struct {
			hour     time.Time
			org, key int
			model    string
			requests int64
			bucket   any // latency_b10, NULL when empty
		}{
			{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 1, 0, "gpt-4o", 3, int64(3)},
			{time.Date(2026, 11, 1, 23, 0, 0, 0, time.UTC), 1, 0, "gpt-4o", 2, nil},
			{time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), 1, 0, "gpt-4o", 5, int64(1)},
			{time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), 1, 0, "claude", 7, nil},
			{time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), 1, 11, "claude", 7, nil}, // a key's row: not summed again
			{time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), 2, 0, "claude", 1, nil},
		} {
			if _, err := db.SQL.ExecContext(ctx, database.Rebind(d, `INSERT INTO usage_rollups (hour, organization_id, service_id, api_key_id, model,
				requests, errors, unpriced_requests, input_tokens, output_tokens, cached_input_tokens, cost, latency_us_sum, latency_b10)
				VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, 0, ?)`), r.hour, r.org, r.key/11, r.key, r.model, r.requests, 10*r.requests, r.bucket); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := migrations.Apply(ctx, db.SQL, d); err != nil {
			t.Fatalf("apply %s: %v", version, err)
		}
		assertNoDrift(t, db)
		rep, err := rollup.Query(ctx, db, rollup.Filter{OrgID: 1}, rollup.ByDay)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Series {
			got = append(got, fmt.Sprintf("%s %d %d %d", p.Start.Format(time.DateOnly), p.Requests, p.Cost, p.Latency[10]))
		}
		want := []string{"2026-11-01 12 120 3", "2026-11-02 5 50 1"}
		if !slices.Equal(got, want) {
			t.Fatalf("the organization's days after the migration:\n%q\nwant\n%q", got, want)
		}
		var rows int
		if err := db.SQL.QueryRowContext(ctx, `SELECT COUNT(*) FROM usage_rollup_days`).Scan(&rows); err != nil || rows != 4 {
			t.Fatalf("day rows = %d (%v), want 4: two days of gpt-4o, one of claude, one of the other organization", rows, err)
		}
	})
}

// TestIntegerTimes checks the SQLite migration that turns the text times
// earlier versions wrote into integer microseconds: each format Go's
// time.String or CURRENT_TIMESTAMP left reads back as the same instant,
// stored as an integer.
func TestIntegerTimes(t *testing.T) {
	ctx := context.Background()
	db := testenv.Empty(t, dialect.SQLite)
	version := migrationVersion(t, dialect.SQLite, "integer_times")
	if _, err := migrations.ApplyBefore(ctx, db.SQL, dialect.SQLite, version); err != nil {
		t.Fatalf("apply the migrations before %s: %v", version, err)
	}
	cases := []struct{ text, want string }{
		{"2026-11-01 10:00:00.123456789 +0000 UTC", "2026-11-01T10:00:00.123456Z"},
		{"2026-11-01 11:30:00 +0100 CET", "2026-11-01T10:30:00Z"},
		{"2026-11-01 05:00:00.5 -0530 XYZ m=+0.001234567", "2026-11-01T10:30:00.5Z"},
		{"2026-11-01 10:00:00", "2026-11-01T10:00:00Z"},
		{"2026-11-01 10:00:00.000001 +0000 UTC", "2026-11-01T10:00:00.000001Z"},
	}
	for i, c := range cases {
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO throttle_marks (key, expires_at) VALUES (?, ?)`, fmt.Sprint(i), c.text); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := migrations.Apply(ctx, db.SQL, dialect.SQLite); err != nil {
		t.Fatalf("apply %s: %v", version, err)
	}
	for i, c := range cases {
		var typ string
		var at time.Time
		if err := db.SQL.QueryRowContext(ctx, `SELECT typeof(expires_at), expires_at FROM throttle_marks WHERE key = ?`, fmt.Sprint(i)).Scan(&typ, &at); err != nil {
			t.Fatal(err)
		}
		if typ != "integer" || at.UTC().Format(time.RFC3339Nano) != c.want {
			t.Errorf("%q: stored as %s, read %s, want %s", c.text, typ, at.UTC().Format(time.RFC3339Nano), c.want)
		}
	}
}
