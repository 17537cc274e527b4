package metrics

import (
	"errors"
	"io"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/tokens"
)

func TestObserveRequest(t *testing.T) {
	m := New()
	m.ObserveRequest(Request{Service: Service{"1", "svc"}, Model: "gpt-4o", Protocol: "openai", Status: 200, Duration: 120 * time.Millisecond,
		TTFB: 30 * time.Millisecond, Tokens: tokens.Tokens{InputTokens: 11, OutputTokens: 7, CacheWriteTokens: 5}, Cost: 1234, Priced: true})
	m.ObserveRequest(Request{Service: Service{"1", "svc"}, Model: "mystery", Protocol: "openai", Status: 502, Tokens: tokens.Tokens{InputTokens: 1}})
	m.BudgetRefusal(Service{"1", "svc"})
	m.BudgetContended(Service{"1", "svc"})
	m.BudgetContended(Service{"1", "svc"})
	m.UpstreamError(Service{"1", "svc"}, "status_5xx")
	m.PaceRefusal("rpm", "key")
	m.PaceRefusal("rpm", "key")
	m.PaceRefusal("concurrency", "organization")
	depth := 3.0
	m.Gauge("sluice_usage_queue_depth", "queued records", func() float64 { return depth })
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`sluice_requests_total{model="gpt-4o",organization="1",protocol="openai",service="svc",status="200"} 1`,
		`sluice_tokens_total{kind="input",model="gpt-4o",organization="1",service="svc"} 11`,
		`sluice_tokens_total{kind="output",model="gpt-4o",organization="1",service="svc"} 7`,
		`sluice_tokens_total{kind="cache_write",model="gpt-4o",organization="1",service="svc"} 5`,
		`sluice_cost_micro_usd_total{model="gpt-4o",organization="1",service="svc"} 1234`,
		`sluice_budget_refusals_total{organization="1",service="svc"} 1`,
		`sluice_budget_contended_total{organization="1",service="svc"} 2`,
		`sluice_upstream_errors_total{kind="status_5xx",organization="1",service="svc"} 1`,
		`sluice_usage_queue_depth 3`,
		`sluice_pace_refusals_total{limit="rpm",scope="key"} 2`,
		`sluice_pace_refusals_total{limit="concurrency",scope="organization"} 1`,
		`sluice_request_duration_seconds_count{organization="1",protocol="openai",service="svc"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), `sluice_cost_micro_usd_total{model="mystery"`) {
		t.Error("an unpriced request was counted as cost")
	}
}

// TestObserveRequestSeries checks which series a request creates and what
// it adds to them.
func TestObserveRequestSeries(t *testing.T) {
	base := Request{Service: Service{"1", "svc"}, Model: "m", Protocol: "openai", Status: 200}
	with := func(f func(*Request)) Request {
		r := base
		f(&r)
		return r
	}
	type want struct {
		name   string
		labels []string
		value  float64
	}
	for _, tc := range []struct {
		name    string
		reqs    []Request
		want    []want
		missing []string // families that must not appear
	}{
		{
			name: "bare request",
			reqs: []Request{base},
			want: []want{
				{"sluice_requests_total", []string{"model", "m", "protocol", "openai", "organization", "1", "service", "svc", "status", "200"}, 1},
				{"sluice_tokens_total", []string{"kind", "input", "model", "m", "organization", "1", "service", "svc"}, 0},
				{"sluice_tokens_total", []string{"kind", "output", "model", "m", "organization", "1", "service", "svc"}, 0},
				{"sluice_request_duration_seconds_bucket", []string{"protocol", "openai", "organization", "1", "service", "svc", "le", "0.005"}, 1},
			},
			missing: []string{"sluice_upstream_ttfb_seconds", "sluice_cost_micro_usd_total"},
		},
		{
			name: "cached input only when positive",
			reqs: []Request{with(func(r *Request) { r.CachedInputTokens = 0 }), with(func(r *Request) { r.CachedInputTokens = 40 })},
			want: []want{{"sluice_tokens_total", []string{"kind", "cached_input", "model", "m", "organization", "1", "service", "svc"}, 40}},
		},
		{
			name: "priced at zero cost still has a cost series",
			reqs: []Request{with(func(r *Request) { r.Priced = true })},
			want: []want{{"sluice_cost_micro_usd_total", []string{"model", "m", "organization", "1", "service", "svc"}, 0}},
		},
		{
			name:    "unpriced cost is not counted",
			reqs:    []Request{with(func(r *Request) { r.Cost = 500 })},
			missing: []string{"sluice_cost_micro_usd_total"},
		},
		{
			name: "negative tokens and cost are dropped",
			reqs: []Request{
				with(func(r *Request) { r.InputTokens, r.OutputTokens, r.Cost, r.Priced = 5, 6, 7, true }),
				with(func(r *Request) { r.InputTokens, r.OutputTokens, r.Cost, r.Priced = -5, -6, -7, true }),
			},
			want: []want{
				{"sluice_tokens_total", []string{"kind", "input", "model", "m", "organization", "1", "service", "svc"}, 5},
				{"sluice_tokens_total", []string{"kind", "output", "model", "m", "organization", "1", "service", "svc"}, 6},
				{"sluice_cost_micro_usd_total", []string{"model", "m", "organization", "1", "service", "svc"}, 7},
			},
		},
		{
			name: "bucket bounds are inclusive",
			reqs: []Request{
				with(func(r *Request) { r.Duration, r.TTFB = 5*time.Millisecond, 2500*time.Millisecond }),
				with(func(r *Request) { r.Duration, r.TTFB = 5*time.Millisecond+1, 2500*time.Millisecond+1 }),
			},
			want: []want{
				{"sluice_request_duration_seconds_bucket", []string{"protocol", "openai", "organization", "1", "service", "svc", "le", "0.005"}, 1},
				{"sluice_request_duration_seconds_bucket", []string{"protocol", "openai", "organization", "1", "service", "svc", "le", "0.01"}, 2},
				{"sluice_upstream_ttfb_seconds_bucket", []string{"protocol", "openai", "organization", "1", "service", "svc", "le", "2.5"}, 1},
				{"sluice_upstream_ttfb_seconds_bucket", []string{"protocol", "openai", "organization", "1", "service", "svc", "le", "5"}, 2},
				{"sluice_upstream_ttfb_seconds_count", []string{"protocol", "openai", "organization", "1", "service", "svc"}, 2},
				{"sluice_request_duration_seconds_sum", []string{"protocol", "openai", "organization", "1", "service", "svc"}, 0.010000001},
			},
		},
		{
			name: "statuses share latency and token series",
			reqs: []Request{base, with(func(r *Request) { r.Status, r.InputTokens = 502, 3 }), with(func(r *Request) { r.InputTokens = 4 })},
			want: []want{
				{"sluice_requests_total", []string{"model", "m", "protocol", "openai", "organization", "1", "service", "svc", "status", "200"}, 2},
				{"sluice_requests_total", []string{"model", "m", "protocol", "openai", "organization", "1", "service", "svc", "status", "502"}, 1},
				{"sluice_request_duration_seconds_count", []string{"protocol", "openai", "organization", "1", "service", "svc"}, 3},
				{"sluice_tokens_total", []string{"kind", "input", "model", "m", "organization", "1", "service", "svc"}, 7},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			for _, r := range tc.reqs {
				m.ObserveRequest(r)
			}
			e := scrape(t, m)
			for _, w := range tc.want {
				if v, ok := e.value(w.name, w.labels...); !ok || v != w.value {
					t.Errorf("%s%v = %v (present %v), want %v", w.name, w.labels, v, ok, w.value)
				}
			}
			for _, f := range tc.missing {
				if _, ok := e.typ[f]; ok {
					t.Errorf("family %s present", f)
				}
			}
		})
	}
}

// TestConcurrentObserve observes from many goroutines while scraping and
// checks that no count is lost. Run it with -race.
func TestConcurrentObserve(t *testing.T) {
	const goroutines, perGoroutine = 16, 1200 // perGoroutine divisible by 6
	services := []string{"a", "b", "c"}
	models := []string{"x", "y"}
	m := New()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	scraped := make(chan struct{})
	go func() { // scrapes race with the creation of series
		defer close(scraped)
		for {
			select {
			case <-stop:
				return
			default:
				if _, err := checkExposition(string(m.appendExposition(nil))); err != nil {
					t.Errorf("scrape during observations: %v", err)
					return
				}
			}
		}
	}()
	for g := range goroutines {
		wg.Go(func() {
			for i := range perGoroutine {
				m.ObserveRequest(Request{
					Service: Service{"1", services[i%3]}, Model: models[i%2], Protocol: "openai", Status: 200,
					Duration: time.Millisecond, TTFB: time.Duration(g%2) * time.Millisecond,
					Tokens: tokens.Tokens{InputTokens: 3, OutputTokens: 5, CachedInputTokens: 1}, Cost: 7, Priced: true,
				})
				m.UpstreamError(Service{"1", services[i%3]}, "timeout")
				m.BudgetRefusal(Service{"1", services[i%3]})
			}
		})
	}
	wg.Wait()
	close(stop)
	<-scraped

	e := scrape(t, m)
	perCombo := float64(goroutines * perGoroutine / 6)
	perService := float64(goroutines * perGoroutine / 3)
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		if v, ok := e.value(name, labels...); !ok || v != want {
			t.Errorf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
		}
	}
	for _, s := range services {
		for _, mod := range models {
			check("sluice_requests_total", perCombo, "model", mod, "protocol", "openai", "organization", "1", "service", s, "status", "200")
			check("sluice_tokens_total", 3*perCombo, "kind", "input", "model", mod, "organization", "1", "service", s)
			check("sluice_tokens_total", 5*perCombo, "kind", "output", "model", mod, "organization", "1", "service", s)
			check("sluice_tokens_total", perCombo, "kind", "cached_input", "model", mod, "organization", "1", "service", s)
			check("sluice_cost_micro_usd_total", 7*perCombo, "model", mod, "organization", "1", "service", s)
		}
		check("sluice_request_duration_seconds_count", perService, "protocol", "openai", "organization", "1", "service", s)
		check("sluice_request_duration_seconds_bucket", perService, "le", "0.005", "protocol", "openai", "organization", "1", "service", s)
		check("sluice_upstream_ttfb_seconds_count", perService/2, "protocol", "openai", "organization", "1", "service", s)
		check("sluice_upstream_errors_total", perService, "kind", "timeout", "organization", "1", "service", s)
		check("sluice_budget_refusals_total", perService, "organization", "1", "service", s)
		sum, _ := e.value("sluice_request_duration_seconds_sum", "protocol", "openai", "organization", "1", "service", s)
		if want := perService * 0.001; math.Abs(sum-want) > 1e-9*want {
			t.Errorf("duration sum for %s = %v, want %v", s, sum, want)
		}
	}
}

// TestObserveAllocs checks that observing an existing series allocates
// nothing, since it runs once per proxied request.
func TestObserveAllocs(t *testing.T) {
	m := New()
	r := Request{Service: Service{"1", "svc"}, Model: "gpt-4o", Protocol: "openai", Status: 200, Duration: 80 * time.Millisecond,
		TTFB: 20 * time.Millisecond, Tokens: tokens.Tokens{InputTokens: 100, OutputTokens: 50, CachedInputTokens: 10}, Cost: 321, Priced: true}
	m.ObserveRequest(r)
	m.UpstreamError(Service{"1", "svc"}, "timeout")
	m.BudgetRefusal(Service{"1", "svc"})
	m.BudgetContended(Service{"1", "svc"})
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"ObserveRequest", func() { m.ObserveRequest(r) }},
		{"UpstreamError", func() { m.UpstreamError(Service{"1", "svc"}, "timeout") }},
		{"BudgetRefusal", func() { m.BudgetRefusal(Service{"1", "svc"}) }},
		{"BudgetContended", func() { m.BudgetContended(Service{"1", "svc"}) }},
	} {
		if n := testing.AllocsPerRun(1000, tc.fn); n != 0 {
			t.Errorf("%s allocates %v times per call", tc.name, n)
		}
	}
}

// TestNilMetrics checks that a nil *Metrics ignores everything, so that
// callers need not check whether metrics are on.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest(Request{Service: Service{"1", "svc"}, Status: 200})
	m.UpstreamError(Service{"1", "svc"}, "timeout")
	m.BudgetRefusal(Service{"1", "svc"})
	m.BudgetContended(Service{"1", "svc"})
	m.Gauge("nil_gauge", "never read", func() float64 { return 1 })
}

// TestGaugeRejects checks that Gauge panics, as MustRegister did, on names
// that would corrupt the output.
func TestGaugeRejects(t *testing.T) {
	fn := func() float64 { return 0 }
	for _, tc := range []struct {
		name, gauge string
		fn          func() float64
		want        error
	}{
		{"empty name", "", fn, errInvalidName},
		{"leading digit", "1abc", fn, errInvalidName},
		{"space", "a b", fn, errInvalidName},
		{"hyphen", "a-b", fn, errInvalidName},
		{"nil func", "ok_name", nil, errNilFunc},
		{"registered twice", "sluice_usage_queue_depth", fn, errDuplicate},
		{"own counter", "sluice_requests_total", fn, errDuplicate},
		{"histogram suffix", "sluice_request_duration_seconds_count", fn, errDuplicate},
		{"process metric", "process_open_fds", fn, errDuplicate},
		{"runtime metric", "go_goroutines", fn, errDuplicate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.Gauge("sluice_usage_queue_depth", "queued records", fn)
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, tc.want) {
					t.Errorf("Gauge(%q) panicked with %v, want %v", tc.gauge, err, tc.want)
				}
			}()
			m.Gauge(tc.gauge, "help", tc.fn)
		})
	}
	m := New()
	m.Gauge("a:b_c9", "colons and digits are fine", fn)
}

// BenchmarkObserveRequest measures the per-request cost on an existing
// series, the gateway's steady state.
func BenchmarkObserveRequest(b *testing.B) {
	m := New()
	r := Request{Service: Service{"1", "svc"}, Model: "gpt-4o", Protocol: "openai", Status: 200, Duration: 800 * time.Millisecond,
		TTFB: 200 * time.Millisecond, Tokens: tokens.Tokens{InputTokens: 1000, OutputTokens: 300, CachedInputTokens: 200}, Cost: 4321, Priced: true}
	m.ObserveRequest(r)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest(r)
	}
}
