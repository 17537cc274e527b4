package budget_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
)

// TestWebhookRetries: the alert reaches the webhook after it failed twice.
func TestWebhookRetries(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls atomic.Int32
		got := make(chan map[string]any, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			var p map[string]any
			json.NewDecoder(r.Body).Decode(&p)
			got <- p
		}))
		defer srv.Close()
		org, _ := auth.CreateOrganization(ctx, db.Client, "hooked", false)
		db.Client.ProjectSettings.Update().SetAlertWebhookURL(srv.URL).ExecX(ctx)

		alerts := make(chan budget.Alert, 4)
		b := budget.New(db, budget.Options{Log: quiet, Alerts: alerts})
		go (&budget.Webhook{Client: db.Client, Log: quiet, Backoff: 10 * time.Millisecond}).Run(ctx, alerts)
		subj := keySubject(9, budget.Limits{0: usd(0.01)})
		if _, err := spend(ctx, b, org.ID, money.FromUSD(0.02), subj); err != nil {
			t.Fatal(err)
		}
		// The crossing is stored, and sent, with the spend.
		if err := b.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p["event"] != "budget.warning" || p["window"] != `key "key-9" hour` || p["spentUsd"].(float64) != 0.02 {
				t.Fatalf("payload = %v", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("webhook not delivered after %d calls", calls.Load())
		}
		if calls.Load() != 3 {
			t.Fatalf("calls = %d, want 3 (two failures, one success)", calls.Load())
		}
	})
}
