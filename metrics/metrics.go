// Package metrics is what operators watch, in Prometheus form: proxied
// requests, latency, tokens and cost by service and model, upstream errors,
// budget and pace refusals and the usage-writer queue. Labels carry organization
// ids, service and model names only, never keys or anything secret; every
// per-service series carries its organization's id, so two organizations'
// services of one name never add up to one series.
//
// The package writes the Prometheus text exposition format (version 0.0.4)
// itself rather than importing client_golang: that library, with protobuf
// and procfs behind it, cost the gateway about 6 MB of idle RSS and 3.6 MB of
// binary, and it hashes label values on every WithLabelValues call. Here a
// request finds its series with one read-locked map lookup on a struct key,
// and every count is an integer atomic, so an observation of an existing
// series allocates nothing.
package metrics

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
)

// Metrics holds Sluice's series. The zero value is not usable; call New. A
// nil *Metrics ignores observations, so callers need not check whether
// metrics are enabled.
type Metrics struct {
	// One lookup in requests serves a whole ObserveRequest: each request
	// series points at the latency and token series it shares with other
	// statuses and models, so those maps are only touched when a series is
	// first seen and at scrape time.
	requests       seriesMap[requestKey, requestSeries]
	latencies      seriesMap[protocolKey, latencySeries]
	models         seriesMap[modelKey, modelSeries]
	upstreamErrors seriesMap[errorKey, atomic.Uint64]
	budgetRefusals seriesMap[Service, atomic.Uint64]
	// budgetContended counts budget_busy refusals apart from spent
	// budgets: they call for fewer replicas or more headroom, not for a
	// user to slow down.
	budgetContended seriesMap[Service, atomic.Uint64]
	paceRefusals    seriesMap[paceKey, atomic.Uint64]

	gaugesMu sync.Mutex
	gauges   []gaugeFunc
}

// New returns an empty set of metrics. Go runtime and process metrics are
// read when scraped, so they need no registration.
func New() *Metrics {
	m := &Metrics{}
	m.requests.init = m.linkRequest
	return m
}

// Service identifies a service in the labels: its organization's id and
// its name, which is unique only within the organization.
type Service struct{ Org, Name string }

// Request is what one proxied request contributes: the part of its usage
// record the series count, with the labels already chosen (a model the
// gateway does not know is "other"; a service is named). This package
// imports no database code, so it takes this view rather than the record.
type Request struct {
	Service         Service
	Model, Protocol string
	Status          int
	Duration, TTFB  time.Duration
	tokens.Tokens
	Cost   money.Micros
	Priced bool
}

// requestKey identifies a sluice_requests_total series. The status stays an
// int so that building the key never formats a number.
type requestKey struct {
	service         Service
	model, protocol string
	status          int
}

// protocolKey identifies the latency and TTFB histograms.
type protocolKey struct {
	service  Service
	protocol string
}

// modelKey identifies the token and cost counters.
type modelKey struct {
	service Service
	model   string
}

// errorKey identifies a sluice_upstream_errors_total series.
type errorKey struct {
	service Service
	kind    string
}

type requestSeries struct {
	count   atomic.Uint64
	latency *latencySeries
	model   *modelSeries
}

type latencySeries struct {
	duration histogram
	// ttfb has no series until a request reports a first byte, as with
	// client_golang, where the child was created on first Observe.
	ttfb histogram
}

type modelSeries struct {
	// Tokens and micro-USD are integers, so they are summed exactly; the
	// counters were floats under client_golang.
	input, output, cachedInput, cacheWrite, cost atomic.Uint64
	// priced makes the cost series appear with the first priced request,
	// even one that cost nothing, and never for unpriced models.
	priced atomic.Bool
}

// linkRequest points a new request series at its shared latency and token
// series. seriesMap calls it before publishing s, so readers never see the
// pointers unset.
func (m *Metrics) linkRequest(k requestKey, s *requestSeries) {
	s.latency = m.latencies.get(protocolKey{k.service, k.protocol})
	s.model = m.models.get(modelKey{k.service, k.model})
}

// ObserveRequest counts a finished request.
func (m *Metrics) ObserveRequest(r Request) {
	if m == nil {
		return
	}
	s := m.requests.get(requestKey{r.Service, r.Model, r.Protocol, r.Status})
	s.count.Add(1)
	s.latency.duration.observe(r.Duration)
	if r.TTFB > 0 {
		s.latency.ttfb.observe(r.TTFB)
	}
	addPositive(&s.model.input, r.InputTokens)
	addPositive(&s.model.output, r.OutputTokens)
	addPositive(&s.model.cachedInput, r.CachedInputTokens)
	addPositive(&s.model.cacheWrite, r.CacheWriteTokens)
	if r.Priced {
		// Load first: after the first priced request the flag is only
		// read, which keeps its cache line shared between cores.
		if !s.model.priced.Load() {
			s.model.priced.Store(true)
		}
		addPositive(&s.model.cost, int64(r.Cost))
	}
}

// addPositive adds n to a counter. Counters only go up; client_golang
// panicked on a negative add, and a bad usage record should not take down
// the gateway, so negative values are dropped instead.
func addPositive(c *atomic.Uint64, n int64) {
	if n > 0 {
		c.Add(uint64(n))
	}
}

// UpstreamError counts an upstream failure of a kind.
func (m *Metrics) UpstreamError(service Service, kind string) {
	if m != nil {
		m.upstreamErrors.get(errorKey{service, kind}).Add(1)
	}
}

// BudgetRefusal counts a request refused by a budget.
func (m *Metrics) BudgetRefusal(service Service) {
	if m != nil {
		m.budgetRefusals.get(service).Add(1)
	}
}

// BudgetContended counts a request refused because a budget window was
// too contended to hold its share (503 budget_busy).
func (m *Metrics) BudgetContended(service Service) {
	if m != nil {
		m.budgetContended.get(service).Add(1)
	}
}

// paceKey identifies a sluice_pace_refusals_total series.
type paceKey struct{ limit, scope string }

// PaceRefusal counts a request refused by a pace limit (rpm, tpm or
// concurrency) of a scope (key, service or organization).
func (m *Metrics) PaceRefusal(limit, scope string) {
	if m != nil {
		m.paceRefusals.get(paceKey{limit, scope}).Add(1)
	}
}

// gaugeFunc is a gauge registered with Gauge.
type gaugeFunc struct {
	name, help string
	fn         func() float64
}

// Gauge registers a gauge read from fn at scrape time, such as the
// usage-writer queue depth. fn must be safe to call from the scraping
// goroutine. Like client_golang's MustRegister, Gauge panics on an invalid
// name or one already in use: both are programming errors, found at
// startup, and either would otherwise corrupt every scrape.
func (m *Metrics) Gauge(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	if err := m.addGauge(gaugeFunc{name, help, fn}); err != nil {
		panic(err)
	}
}

func (m *Metrics) addGauge(g gaugeFunc) error {
	if !validMetricName(g.name) {
		return fmt.Errorf("metrics: gauge %q: %w", g.name, errInvalidName)
	}
	if g.fn == nil {
		return fmt.Errorf("metrics: gauge %q: %w", g.name, errNilFunc)
	}
	if builtinFamily(g.name) {
		return fmt.Errorf("metrics: gauge %q: %w", g.name, errDuplicate)
	}
	m.gaugesMu.Lock()
	defer m.gaugesMu.Unlock()
	for _, o := range m.gauges {
		if o.name == g.name {
			return fmt.Errorf("metrics: gauge %q: %w", g.name, errDuplicate)
		}
	}
	m.gauges = append(m.gauges, g)
	return nil
}

// seriesMap finds the series of one metric by its label values. Series are
// created on first use and never removed, as with client_golang vectors.
type seriesMap[K comparable, V any] struct {
	mu sync.RWMutex
	m  map[K]*V
	// init, if set, prepares a new series before other goroutines can see
	// it. It is set once, in New, so calling get never builds a closure.
	init func(K, *V)
}

// get returns the series for k, creating it on first use. After the first
// use the read-locked lookup is all that runs: no allocation, and readers
// do not exclude each other.
func (s *seriesMap[K, V]) get(k K) *V {
	s.mu.RLock()
	v := s.m[k]
	s.mu.RUnlock()
	if v != nil {
		return v
	}
	return s.create(k)
}

func (s *seriesMap[K, V]) create(k K) *V {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.m[k]; v != nil {
		return v // another goroutine created it first
	}
	v := new(V)
	if s.init != nil {
		s.init(k, v)
	}
	if s.m == nil {
		s.m = make(map[K]*V)
	}
	s.m[k] = v
	return v
}

// each calls fn for every series. It copies the map under the read lock
// first so that a slow scrape never holds up the creation of new series.
func (s *seriesMap[K, V]) each(fn func(K, *V)) {
	type entry struct {
		k K
		v *V
	}
	s.mu.RLock()
	entries := make([]entry, 0, len(s.m))
	for k, v := range s.m {
		entries = append(entries, entry{k, v})
	}
	s.mu.RUnlock()
	for _, e := range entries {
		fn(e.k, e.v)
	}
}

// bucketBounds are the upper bounds of the latency and TTFB histograms:
// .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10 30 60 120 seconds. They are kept
// as durations so that observing compares integers and each bound is exact.
var bucketBounds = [...]time.Duration{
	5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2500 * time.Millisecond, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	60 * time.Second, 120 * time.Second,
}

// histogram counts observations per bucket, not cumulatively, so an
// observation touches one bucket; the scrape adds them up. The count is
// the sum of the buckets rather than a field of its own, which makes the
// +Inf bucket always equal _count however a scrape interleaves with
// observations.
type histogram struct {
	buckets [len(bucketBounds) + 1]atomic.Uint64 // the last is (120s, +Inf)
	// sumBits holds the float64 sum in seconds. An int64 of nanoseconds
	// would be exact but overflows after 292 years of summed latency,
	// which a busy gateway's long streams reach within weeks; a float
	// does not overflow and is what client_golang kept.
	sumBits atomic.Uint64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(bucketBounds) && d > bucketBounds[i] {
		i++
	}
	h.buckets[i].Add(1)
	v := d.Seconds()
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// histogramSnapshot is a histogram as read at one scrape.
type histogramSnapshot struct {
	cumulative [len(bucketBounds) + 1]uint64
	sum        float64
}

func (h *histogram) snapshot() histogramSnapshot {
	var s histogramSnapshot
	var n uint64
	for i := range h.buckets {
		n += h.buckets[i].Load()
		s.cumulative[i] = n
	}
	s.sum = math.Float64frombits(h.sumBits.Load())
	return s
}

func (s *histogramSnapshot) count() uint64 { return s.cumulative[len(s.cumulative)-1] }
