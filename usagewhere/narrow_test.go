package usagewhere_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/usagelog"
	"github.com/sluicehq/sluice/usagewhere"
)

// TestNarrow checks that narrowing a model text match finds the same
// records as the text match itself, through an exact model where the
// organization has used one model containing the text, or none.
func TestNarrow(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := usagelog.New(db, usagelog.Options{InTx: func(ctx context.Context, tx *sql.Tx, batch []usagelog.Record) error {
			return rollup.Add(ctx, tx, db.Dialect, batch)
		}})
		t.Cleanup(func() { _ = w.Close(ctx) })
		const org, other = 1, 2
		start := time.Now().UTC().Add(-72 * time.Hour)
		for i, r := range []struct {
			org   int
			model string
		}{
			{org, "gpt-4o-mini"}, {org, "gpt-4o"}, {org, "claude-sonnet-4-5"}, {org, "claude-sonnet-4-5"},
			{org, "Gemini-2.5-Flash"}, {other, "claude-haiku-4-5"}, {other, "mistral-large"},
		} {
			w.Add(usagelog.Record{CreatedAt: start.Add(time.Duration(i) * 25 * time.Hour), RequestID: "r", OrganizationID: r.org,
				ServiceID: 10 * r.org, APIKeyID: 100 * r.org, Protocol: "openai", Endpoint: "/v1/chat/completions", Model: r.model, Status: 200})
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			text    string
			model   string   // the exact model narrowed to, "" when it stays a text match
			several []string // the models a text match kept is split into
		}{
			{"sonnet", "claude-sonnet-4-5", nil},
			{"FLASH", "Gemini-2.5-Flash", nil},
			{"gpt-4o-mini", "gpt-4o-mini", nil},
			{"gpt", "", []string{"gpt-4o", "gpt-4o-mini"}},
			{"-", "", []string{"Gemini-2.5-Flash", "claude-sonnet-4-5", "gpt-4o", "gpt-4o-mini"}},
			{"haiku", "haiku", nil}, // only the other organization's: matches nothing
			{"llama", "llama", nil},
			{"", "", nil},
		} {
			t.Run(tc.text, func(t *testing.T) {
				text := &ent.UsageRecordWhereInput{OrganizationID: ptr(org), ModelContainsFold: ptr(tc.text)}
				narrowed := &ent.UsageRecordWhereInput{OrganizationID: ptr(org), ModelContainsFold: ptr(tc.text)}
				several, err := usagewhere.Narrow(ctx, db.Client, org, narrowed)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(several)
				if !slices.Equal(several, tc.several) {
					t.Fatalf("split into %q, want %q", several, tc.several)
				}
				switch {
				case tc.model == "" && (narrowed.Model != nil || narrowed.ModelContainsFold == nil):
					t.Fatalf("narrowed to %v, want the text match kept", narrowed.Model)
				case tc.model != "" && (narrowed.Model == nil || *narrowed.Model != tc.model || narrowed.ModelContainsFold != nil):
					t.Fatalf("narrowed to %v (text %v), want model %q", narrowed.Model, narrowed.ModelContainsFold, tc.model)
				}
				want, got := ids(t, db.Client, text), ids(t, db.Client, narrowed)
				if !slices.Equal(got, want) {
					t.Fatalf("narrowed filter finds %v, the text match %v", got, want)
				}
			})
		}
	})
}

func ids(t *testing.T, client *ent.Client, w *ent.UsageRecordWhereInput) []int {
	t.Helper()
	p, err := w.P()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := client.UsageRecord.Query().Where(p).IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}
