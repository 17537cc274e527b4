package budget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/upstream"
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

// TestWebhookFollowsOutboundPolicy: with private addresses refused, an
// alert webhook on loopback is never connected to; each attempt is logged
// as the webhook's failure and delivery gives up. Allowed, it is reached.
func TestWebhookFollowsOutboundPolicy(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
		defer srv.Close()
		org, err := auth.CreateOrganization(ctx, db.Client, "hooked", false)
		if err != nil {
			t.Fatal(err)
		}
		db.Client.ProjectSettings.Update().SetAlertWebhookURL(srv.URL + "/hooks/secret-token").ExecX(ctx)
		for _, c := range []struct {
			name      string
			deny      bool
			wantCalls int32
			wantLogs  int
		}{
			{"deny private", true, 0, 2},
			{"allow private", false, 1, 0},
		} {
			t.Run(c.name, func(t *testing.T) {
				calls.Store(0)
				var logs bytes.Buffer // Run logs from this goroutine
				w := &budget.Webhook{Client: db.Client, Outbound: upstream.Policy{DenyPrivate: c.deny}, Attempts: 2, Backoff: time.Millisecond,
					Log: slog.New(slog.NewTextHandler(&logs, nil))}
				alerts := make(chan budget.Alert, 1)
				alerts <- budget.Alert{OrgID: org.ID, Window: "service day", Start: time.Now(), Spent: money.FromUSD(2), Warn: money.FromUSD(1)}
				close(alerts)
				w.Run(ctx, alerts) // returns once the alert is delivered or given up
				if got := calls.Load(); got != c.wantCalls {
					t.Fatalf("the webhook was called %d times, want %d", got, c.wantCalls)
				}
				out := logs.String()
				if n := strings.Count(out, "budget alert webhook failed"); n != c.wantLogs {
					t.Fatalf("%d failures logged, want %d:\n%s", n, c.wantLogs, out)
				}
				if c.wantLogs > 0 && !strings.Contains(out, "private upstreams are not allowed") {
					t.Fatalf("the failure does not say why:\n%s", out)
				}
				if strings.Contains(out, "secret-token") {
					t.Fatalf("the log shows the webhook's path, which may be its secret:\n%s", out)
				}
			})
		}
	})
}
