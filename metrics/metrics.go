// Package metrics is what operators watch, in Prometheus form: proxied
// requests, latency, tokens and cost by service and model, upstream errors,
// budget refusals and the usage-writer queue. Labels carry service and
// model names only, never keys or anything secret.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Sluice's collectors in a registry of its own.
type Metrics struct {
	Registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	ttfb           *prometheus.HistogramVec
	tokens         *prometheus.CounterVec
	cost           *prometheus.CounterVec
	upstreamErrors *prometheus.CounterVec
	budgetRefusals *prometheus.CounterVec
}

// New registers the collectors, plus Go runtime and process metrics.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_requests_total", Help: "Proxied requests by service, model, HTTP status and wire protocol.",
		}, []string{"service", "model", "status", "protocol"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_request_duration_seconds", Help: "Time from request to the end of the response, streams included.", Buckets: buckets,
		}, []string{"service", "protocol"}),
		ttfb: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sluice_upstream_ttfb_seconds", Help: "Time to the upstream's first response byte.", Buckets: buckets,
		}, []string{"service", "protocol"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_tokens_total", Help: "Tokens by service, model and kind (input, output, cached_input).",
		}, []string{"service", "model", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_cost_micro_usd_total", Help: "Cost of priced requests in micro-USD by service and model.",
		}, []string{"service", "model"}),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_upstream_errors_total", Help: "Upstream failures by service and kind (connect, timeout, status_4xx, status_5xx, stream).",
		}, []string{"service", "kind"}),
		budgetRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sluice_budget_refusals_total", Help: "Requests refused by a budget or balance, by service.",
		}, []string{"service"}),
	}
	reg.MustRegister(m.requests, m.latency, m.ttfb, m.tokens, m.cost, m.upstreamErrors, m.budgetRefusals,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Request is what one proxied request contributes.
type Request struct {
	Service, Model, Protocol string
	Status                   int
	Duration, TTFB           time.Duration
	InputTokens              int64
	OutputTokens             int64
	CachedInputTokens        int64
	CostMicros               int64
	Priced                   bool
}

// ObserveRequest counts a finished request.
func (m *Metrics) ObserveRequest(r Request) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(r.Service, r.Model, strconv.Itoa(r.Status), r.Protocol).Inc()
	m.latency.WithLabelValues(r.Service, r.Protocol).Observe(r.Duration.Seconds())
	if r.TTFB > 0 {
		m.ttfb.WithLabelValues(r.Service, r.Protocol).Observe(r.TTFB.Seconds())
	}
	m.tokens.WithLabelValues(r.Service, r.Model, "input").Add(float64(r.InputTokens))
	m.tokens.WithLabelValues(r.Service, r.Model, "output").Add(float64(r.OutputTokens))
	if r.CachedInputTokens > 0 {
		m.tokens.WithLabelValues(r.Service, r.Model, "cached_input").Add(float64(r.CachedInputTokens))
	}
	if r.Priced {
		m.cost.WithLabelValues(r.Service, r.Model).Add(float64(r.CostMicros))
	}
}

// UpstreamError counts an upstream failure of a kind.
func (m *Metrics) UpstreamError(service, kind string) {
	if m != nil {
		m.upstreamErrors.WithLabelValues(service, kind).Inc()
	}
}

// BudgetRefusal counts a request refused by a budget.
func (m *Metrics) BudgetRefusal(service string) {
	if m != nil {
		m.budgetRefusals.WithLabelValues(service).Inc()
	}
}

// Gauge registers a gauge read from fn at scrape time, such as the
// usage-writer queue depth.
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
