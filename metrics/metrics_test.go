package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestObserveRequest(t *testing.T) {
	m := New()
	m.ObserveRequest(Request{Service: "svc", Model: "gpt-4o", Protocol: "openai", Status: 200, Duration: 120 * time.Millisecond,
		TTFB: 30 * time.Millisecond, InputTokens: 11, OutputTokens: 7, CostMicros: 1234, Priced: true})
	m.ObserveRequest(Request{Service: "svc", Model: "mystery", Protocol: "openai", Status: 502, InputTokens: 1})
	m.BudgetRefusal("svc")
	m.UpstreamError("svc", "status_5xx")
	depth := 3.0
	m.Gauge("sluice_usage_queue_depth", "queued records", func() float64 { return depth })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`sluice_requests_total{model="gpt-4o",protocol="openai",service="svc",status="200"} 1`,
		`sluice_tokens_total{kind="input",model="gpt-4o",service="svc"} 11`,
		`sluice_tokens_total{kind="output",model="gpt-4o",service="svc"} 7`,
		`sluice_cost_micro_usd_total{model="gpt-4o",service="svc"} 1234`,
		`sluice_budget_refusals_total{service="svc"} 1`,
		`sluice_upstream_errors_total{kind="status_5xx",service="svc"} 1`,
		`sluice_usage_queue_depth 3`,
		`sluice_request_duration_seconds_count{protocol="openai",service="svc"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), `sluice_cost_micro_usd_total{model="mystery"`) {
		t.Error("an unpriced request was counted as cost")
	}
}
