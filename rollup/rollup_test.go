package rollup_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
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

func TestPrune(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		for i, ts := range []string{"2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-11-20T00:00:00Z"} {
			db.Client.UsageRecord.Create().SetCreatedAt(at(ts)).SetRequestID(ts).SetOrganizationID(1).SetServiceID(1).SetAPIKeyID(1).
				SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("m").SetStatus(200 + i).ExecX(ctx)
		}
		n, err := rollup.Prune(ctx, db, at("2026-10-26T00:00:00Z"))
		if err != nil || n != 2 {
			t.Fatalf("Prune = %d, %v; want 2", n, err)
		}
		if left := db.Client.UsageRecord.Query().CountX(ctx); left != 1 {
			t.Fatalf("%d records left, want 1", left)
		}
	})
}
