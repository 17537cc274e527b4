package usagefeed

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/proxy"
	"github.com/sluicehq/sluice/tokens"
	"github.com/sluicehq/sluice/usagelog"
)

// TestUsageRelayOnlyWhileWatched: a replica sends its usage events to the
// others only after one of them announced a subscriber, and for a while
// after, not before.
func TestUsageRelayOnlyWhileWatched(t *testing.T) {
	db := testenv.New(t, dialect.Postgres)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := t.Context()
	var relays [2]*usageRelay
	for i := range relays {
		feed, err := changefeed.NewPostgres(ctx, db.SQL, db.DSN, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { feed.Close() })
		m := feed.(changefeed.Messenger)
		r := &usageRelay{m: m, log: quiet}
		m.OnMessage(func(payload string) { r.heard(payload) })
		relays[i] = r
	}
	a, b := relays[0], relays[1]
	if a.watched() || b.watched() {
		t.Fatal("a relay is on before anyone announced a subscriber")
	}
	if (*usageRelay)(nil).watched() {
		t.Fatal("no relay (one process) reports watchers")
	}
	b.announce()
	deadline := time.Now().Add(5 * time.Second)
	for !a.watched() {
		if time.Now().After(deadline) {
			t.Fatal("A never heard B's announcement")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b.watched() {
		t.Fatal("B heard its own announcement")
	}
	if a.heard(`[{"RequestID":"r1"}]`) {
		t.Fatal("an events payload was taken for an announcement")
	}
	// The announcement lapses when it is not repeated.
	a.until.Store(time.Now().Add(-time.Second).UnixNano())
	if a.watched() {
		t.Fatal("the relay stayed on after the announcement lapsed")
	}
}

func TestMetricsModelIsBounded(t *testing.T) {
	cred := 3
	cases := []struct {
		name string
		r    usagelog.Record
		want string
	}{
		{"enabled model refused by a budget", usagelog.Record{Model: "gpt-4o-mini", ModelEnabled: true, Priced: true, Status: 402}, "gpt-4o-mini"},
		{"enabled unpriced model an upstream answered", usagelog.Record{Model: "my-finetune", ModelEnabled: true, CredentialID: &cred, Status: 200}, "my-finetune"},
		{"made-up model refused by the gateway, priced at nothing", usagelog.Record{Model: "aaaa-1234", CredentialID: &cred, Priced: true, Status: 403}, otherModel},
		{"made-up model refused by the gateway", usagelog.Record{Model: "aaaa-1234", Status: 403}, otherModel},
		{"invalid model", usagelog.Record{Model: "", Priced: true, Status: 400}, otherModel},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := requestMetrics(&c.r, "svc").Model; got != c.want {
				t.Fatalf("model label %q, want %q", got, c.want)
			}
		})
	}
}

// TestObserveFailures checks that each failure kind lands in its own
// series: a contended window is not counted as a spent budget.
func TestObserveFailures(t *testing.T) {
	m := metrics.New()
	for _, f := range []string{"", proxy.FailureBudget, proxy.FailureBudgetBusy, proxy.FailureBudgetBusy, proxy.FailureTimeout} {
		observe(m, &usagelog.Record{OrganizationID: 1, Model: "gpt-4o-mini", ModelEnabled: true, Priced: true, Status: 200, Failure: f}, "svc")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`sluice_requests_total{model="gpt-4o-mini",organization="1",protocol="",service="svc",status="200"} 5`,
		`sluice_budget_refusals_total{organization="1",service="svc"} 1`,
		`sluice_budget_contended_total{organization="1",service="svc"} 2`,
		`sluice_upstream_errors_total{kind="timeout",organization="1",service="svc"} 1`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `kind="budget`) {
		t.Errorf("a budget refusal was counted as an upstream error:\n%s", body)
	}
}

// TestMetricsKeepOrganizationsApart: two organizations' services of one
// name are two series in every per-service family, never one sum.
func TestMetricsKeepOrganizationsApart(t *testing.T) {
	m := metrics.New()
	for org, n := range map[int]int{1: 2, 2: 3} {
		for range n {
			observe(m, &usagelog.Record{OrganizationID: org, Protocol: "openai", Model: "gpt-4o-mini", ModelEnabled: true, Priced: true, Status: 502,
				Tokens: tokens.Tokens{InputTokens: 10}, Cost: 7, Failure: proxy.FailureTimeout}, "svc")
			observe(m, &usagelog.Record{OrganizationID: org, Protocol: "openai", Model: "gpt-4o-mini", ModelEnabled: true, Priced: true, Status: 402,
				Failure: proxy.FailureBudget}, "svc")
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, c := range []struct {
		org string
		n   int
	}{{"1", 2}, {"2", 3}} {
		org, n := `organization="`+c.org+`"`, func(k int) string { return strconv.Itoa(k * c.n) }
		for _, want := range []string{
			`sluice_requests_total{model="gpt-4o-mini",` + org + `,protocol="openai",service="svc",status="502"} ` + n(1),
			`sluice_request_duration_seconds_count{` + org + `,protocol="openai",service="svc"} ` + n(2),
			`sluice_tokens_total{kind="input",model="gpt-4o-mini",` + org + `,service="svc"} ` + n(10),
			`sluice_cost_micro_usd_total{model="gpt-4o-mini",` + org + `,service="svc"} ` + n(7),
			`sluice_upstream_errors_total{kind="timeout",` + org + `,service="svc"} ` + n(1),
			`sluice_budget_refusals_total{` + org + `,service="svc"} ` + n(1),
		} {
			if !strings.Contains(body, want+"\n") {
				t.Errorf("metrics lack %s", want)
			}
		}
	}
}

// sentMessages is a Messenger that keeps what is sent.
type sentMessages struct{ payloads []string }

func (s *sentMessages) Send(_ context.Context, payload string) error {
	s.payloads = append(s.payloads, payload)
	return nil
}
func (s *sentMessages) OnMessage(func(string)) {}

// TestRelayedEventsKeepTheRecord: a batch relayed to the other replicas
// arrives as one event per record, in order, with each record's tokens,
// cost and latency, in messages under the notification limit.
func TestRelayedEventsKeepTheRecord(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	batch := make([]usagelog.Record, 300)
	for i := range batch {
		batch[i] = usagelog.Record{CreatedAt: at, RequestID: "req-" + strconv.Itoa(i), OrganizationID: 1, ServiceID: 2, APIKeyID: 3,
			Model: "claude-sonnet-4", Status: 200, Cost: money.Micros(i), Priced: true, LatencyUs: 1500,
			Tokens: tokens.Tokens{InputTokens: int64(i), OutputTokens: 2, CachedInputTokens: 1, CacheWriteTokens: 4, CacheWrite1hTokens: 3}}
	}
	var m sentMessages
	sendUsageEvents(&m, batch, quiet)
	if len(m.payloads) < 2 {
		t.Fatalf("%d records went in %d message(s); the batch should need several", len(batch), len(m.payloads))
	}
	var got []livefeed.UsageEvent
	for _, p := range m.payloads {
		if len(p) > changefeed.MaxMessage {
			t.Fatalf("a message of %d bytes is over the limit of %d", len(p), changefeed.MaxMessage)
		}
		got = append(got, decodeUsageEvents(p)...)
	}
	if len(got) != len(batch) {
		t.Fatalf("%d events arrived for %d records", len(got), len(batch))
	}
	for i, e := range got {
		r := &batch[i]
		if e.RequestID != r.RequestID || e.Tokens != r.Tokens || e.Cost != r.Cost || e.Latency != 1500*time.Microsecond || !e.At.Equal(at) {
			t.Fatalf("event %d = %+v, want the record %+v", i, e, *r)
		}
	}
	if decodeUsageEvents("watching") != nil {
		t.Fatal("a payload that is not events decoded to events")
	}
}
