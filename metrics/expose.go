package metrics

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// contentType announces the Prometheus text exposition format 0.0.4, which
// every Prometheus-compatible scraper accepts.
const contentType = "text/plain; version=0.0.4; charset=utf-8"

var (
	errInvalidName = errors.New("not a valid metric name")
	errDuplicate   = errors.New("name already in use")
	errNilFunc     = errors.New("nil value function")
)

// Metric types as the TYPE comment spells them.
const (
	typeCounter   = "counter"
	typeGauge     = "gauge"
	typeHistogram = "histogram"
)

// Names and help of Sluice's own families, the same as under
// client_golang so that dashboards and alerts keep working.
const (
	requestsName       = "sluice_requests_total"
	requestsHelp       = "Proxied requests by organization, service, model, HTTP status and wire protocol."
	durationName       = "sluice_request_duration_seconds"
	durationHelp       = "Time from request to the end of the response, streams included."
	ttfbName           = "sluice_upstream_ttfb_seconds"
	ttfbHelp           = "Time to the upstream's first response byte."
	tokensName         = "sluice_tokens_total"
	tokensHelp         = "Tokens by organization, service, model and kind (input, output, cached_input, cache_write)."
	costName           = "sluice_cost_micro_usd_total"
	costHelp           = "Cost of priced requests in micro-USD by organization, service and model."
	upstreamErrorsName = "sluice_upstream_errors_total"
	upstreamErrorsHelp = "Upstream failures by organization, service and kind (connect, timeout, status_4xx, status_5xx, stream)."
	budgetRefusalsName = "sluice_budget_refusals_total"
	budgetRefusalsHelp = "Requests refused by a budget or balance, by organization and service."
	paceRefusalsName   = "sluice_pace_refusals_total"
	paceRefusalsHelp   = "Requests refused by a pace limit, by limit (rpm, tpm, concurrency) and scope (key, service, organization)."
	budgetBusyName     = "sluice_budget_contended_total"
	budgetBusyHelp     = "Requests refused because a budget window was too contended to hold their share (503 budget_busy; more replicas than its headroom serves, not a spent budget), by organization and service."
)

// Label names of each family, sorted, because sample lines list labels in
// name order, as client_golang wrote them.
var (
	requestLabels  = []string{"model", "organization", "protocol", "service", "status"}
	protocolLabels = []string{"organization", "protocol", "service"}
	tokenLabels    = []string{"kind", "model", "organization", "service"}
	modelLabels    = []string{"model", "organization", "service"}
	errorLabels    = []string{"kind", "organization", "service"}
	serviceLabels  = []string{"organization", "service"}
	paceLabels     = []string{"limit", "scope"}
)

// bucketLabels are the le label values of the histogram buckets, formatted
// once.
var bucketLabels = func() (l [len(bucketBounds) + 1]string) {
	for i, b := range bucketBounds {
		l[i] = formatFloat(b.Seconds())
	}
	l[len(bucketBounds)] = "+Inf"
	return l
}()

// family is one metric family as read at a scrape.
type family struct {
	name, help, typ string
	labels          []string // label names, sorted
	rows            []row
}

// row is one series of a family: its label values, in the order of the
// family's label names, and its value or histogram.
type row struct {
	values []string
	value  float64
	hist   histogramSnapshot
}

// Handler serves the metrics in the Prometheus text format, version 0.0.4.
// Each scrape reads every series afresh; nothing is cached between
// scrapes. The output is not compressed: it is a few kilobytes, and a gzip
// writer would allocate far more than that on every scrape.
func (m *Metrics) Handler() http.Handler {
	var lastSize atomic.Int64 // sizes the next scrape's buffer
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		body := m.appendExposition(make([]byte, 0, lastSize.Load()+512))
		lastSize.Store(int64(len(body)))
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		// A failed write means the scraper went away; there is no one
		// left to tell.
		_, _ = w.Write(body)
	})
}

// appendExposition appends every family, sorted by name, with its series
// in sorted order, so that consecutive scrapes are easy to compare.
func (m *Metrics) appendExposition(b []byte) []byte {
	var fams []family
	if m != nil {
		fams = m.sluiceFamilies()
		fams = m.gaugeFamilies(fams)
	}
	fams = appendProcessFamilies(fams)
	fams = appendRuntimeFamilies(fams)
	slices.SortFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	for i := range fams {
		b = appendFamily(b, &fams[i])
	}
	return b
}

// sluiceFamilies reads the request, token, error and refusal series.
func (m *Metrics) sluiceFamilies() []family {
	requests := family{name: requestsName, help: requestsHelp, typ: typeCounter, labels: requestLabels}
	m.requests.each(func(k requestKey, s *requestSeries) {
		requests.rows = append(requests.rows, row{
			values: []string{k.model, k.service.Org, k.protocol, k.service.Name, strconv.Itoa(k.status)},
			value:  float64(s.count.Load()),
		})
	})

	duration := family{name: durationName, help: durationHelp, typ: typeHistogram, labels: protocolLabels}
	ttfb := family{name: ttfbName, help: ttfbHelp, typ: typeHistogram, labels: protocolLabels}
	m.latencies.each(func(k protocolKey, s *latencySeries) {
		values := []string{k.service.Org, k.protocol, k.service.Name}
		duration.rows = append(duration.rows, row{values: values, hist: s.duration.snapshot()})
		if t := s.ttfb.snapshot(); t.count() > 0 {
			ttfb.rows = append(ttfb.rows, row{values: values, hist: t})
		}
	})

	tokens := family{name: tokensName, help: tokensHelp, typ: typeCounter, labels: tokenLabels}
	cost := family{name: costName, help: costHelp, typ: typeCounter, labels: modelLabels}
	m.models.each(func(k modelKey, s *modelSeries) {
		tokens.rows = append(tokens.rows,
			row{values: []string{"input", k.model, k.service.Org, k.service.Name}, value: float64(s.input.Load())},
			row{values: []string{"output", k.model, k.service.Org, k.service.Name}, value: float64(s.output.Load())})
		// cached_input and cost appear only once something was added,
		// as the client_golang children did.
		if n := s.cachedInput.Load(); n > 0 {
			tokens.rows = append(tokens.rows, row{values: []string{"cached_input", k.model, k.service.Org, k.service.Name}, value: float64(n)})
		}
		if n := s.cacheWrite.Load(); n > 0 {
			tokens.rows = append(tokens.rows, row{values: []string{"cache_write", k.model, k.service.Org, k.service.Name}, value: float64(n)})
		}
		if s.priced.Load() {
			cost.rows = append(cost.rows, row{values: []string{k.model, k.service.Org, k.service.Name}, value: float64(s.cost.Load())})
		}
	})

	upstreamErrors := family{name: upstreamErrorsName, help: upstreamErrorsHelp, typ: typeCounter, labels: errorLabels}
	m.upstreamErrors.each(func(k errorKey, c *atomic.Uint64) {
		upstreamErrors.rows = append(upstreamErrors.rows, row{values: []string{k.kind, k.service.Org, k.service.Name}, value: float64(c.Load())})
	})

	refusals := family{name: budgetRefusalsName, help: budgetRefusalsHelp, typ: typeCounter, labels: serviceLabels}
	m.budgetRefusals.each(func(service Service, c *atomic.Uint64) {
		refusals.rows = append(refusals.rows, row{values: []string{service.Org, service.Name}, value: float64(c.Load())})
	})

	contended := family{name: budgetBusyName, help: budgetBusyHelp, typ: typeCounter, labels: serviceLabels}
	m.budgetContended.each(func(service Service, c *atomic.Uint64) {
		contended.rows = append(contended.rows, row{values: []string{service.Org, service.Name}, value: float64(c.Load())})
	})

	pace := family{name: paceRefusalsName, help: paceRefusalsHelp, typ: typeCounter, labels: paceLabels}
	m.paceRefusals.each(func(k paceKey, c *atomic.Uint64) {
		pace.rows = append(pace.rows, row{values: []string{k.limit, k.scope}, value: float64(c.Load())})
	})

	return []family{requests, duration, ttfb, tokens, cost, upstreamErrors, refusals, contended, pace}
}

// gaugeFamilies calls the functions registered with Gauge. They run
// outside the lock so that a slow one cannot hold up Gauge.
func (m *Metrics) gaugeFamilies(fams []family) []family {
	m.gaugesMu.Lock()
	gauges := slices.Clone(m.gauges)
	m.gaugesMu.Unlock()
	for _, g := range gauges {
		fams = append(fams, family{name: g.name, help: g.help, typ: typeGauge, rows: []row{{value: g.fn()}}})
	}
	return fams
}

// appendFamily appends a family's HELP and TYPE comments and its samples.
// A family without series is left out, as client_golang left out vectors
// without children: a HELP and TYPE with no samples only confuse.
func appendFamily(b []byte, f *family) []byte {
	if len(f.rows) == 0 {
		return b
	}
	slices.SortFunc(f.rows, func(x, y row) int { return slices.Compare(x.values, y.values) })
	b = append(b, "# HELP "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, f.typ...)
	b = append(b, '\n')
	for i := range f.rows {
		r := &f.rows[i]
		if f.typ != typeHistogram {
			b = appendSample(b, f.name, "", f.labels, r.values, "", r.value)
			continue
		}
		for j, n := range r.hist.cumulative {
			b = appendSample(b, f.name, "_bucket", f.labels, r.values, bucketLabels[j], float64(n))
		}
		b = appendSample(b, f.name, "_sum", f.labels, r.values, "", r.hist.sum)
		b = appendSample(b, f.name, "_count", f.labels, r.values, "", float64(r.hist.count()))
	}
	return b
}

// appendSample appends one sample line. le, if not empty, is added as the
// last label, after the sorted ones, where client_golang put it.
func appendSample(b []byte, name, suffix string, labels, values []string, le string, v float64) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if len(labels) > 0 || le != "" {
		b = append(b, '{')
		for i, l := range labels {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, l...)
			b = append(b, `="`...)
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
		}
		if le != "" {
			if len(labels) > 0 {
				b = append(b, ',')
			}
			b = append(b, `le="`...)
			b = append(b, le...)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	return append(b, '\n')
}

// appendEscaped escapes s for a HELP text or, with quote set, a label
// value: backslash and newline always, the double quote in label values
// only, as the format requires. Invalid UTF-8, which a client could put
// in a model name, is replaced, because Prometheus rejects a whole scrape
// over one invalid label value.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, string(utf8.RuneError))
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// formatFloat formats a value as client_golang did: the shortest
// representation that reads back the same, with +Inf, -Inf and NaN spelt
// as the format wants.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// validMetricName reports whether name matches [a-zA-Z_:][a-zA-Z0-9_:]*.
func validMetricName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// builtinFamily reports whether a gauge called name would clash with a
// family this package writes itself, including a histogram's suffixed
// sample names.
func builtinFamily(name string) bool {
	for _, h := range []string{durationName, ttfbName} {
		for _, s := range []string{"", "_bucket", "_sum", "_count"} {
			if name == h+s {
				return true
			}
		}
	}
	return slices.Contains([]string{
		requestsName, tokensName, costName, upstreamErrorsName, budgetRefusalsName, budgetBusyName, paceRefusalsName,
	}, name) || slices.Contains(processNames[:], name) || slices.Contains(runtimeNames[:], name)
}
