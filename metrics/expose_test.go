package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/tokens"
)

// sample is one parsed sample line.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// exposition is a parsed /metrics body.
type exposition struct {
	samples []sample
	help    map[string]string
	typ     map[string]string
}

// value returns the value of the sample with exactly the labels given as
// name, value pairs.
func (e *exposition) value(name string, labels ...string) (float64, bool) {
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, s := range e.samples {
		if s.name == name && len(s.labels) == len(want) {
			match := true
			for k, v := range want {
				if s.labels[k] != v {
					match = false
				}
			}
			if match {
				return s.value, true
			}
		}
	}
	return 0, false
}

// scrape fetches /metrics over real HTTP, checks the response and the
// whole body against the format, and returns it parsed.
func scrape(t *testing.T, m *Metrics) *exposition {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	e, err := checkExposition(string(body))
	if err != nil {
		t.Fatalf("invalid exposition: %v\n%s", err, body)
	}
	return e
}

// checkExposition parses a text-format body and checks what a scraper
// relies on: every line is a HELP, TYPE or sample line; each family has
// exactly one HELP and one TYPE, before its samples, and its samples are
// together; no series repeats; histogram buckets are cumulative, in
// increasing le order, and end with le="+Inf" equal to _count.
func checkExposition(body string) (*exposition, error) {
	e := &exposition{help: map[string]string{}, typ: map[string]string{}}
	if body != "" && !strings.HasSuffix(body, "\n") {
		return nil, fmt.Errorf("body does not end in a newline")
	}
	var family string // the family whose samples may follow
	seen := map[string]bool{}
	for n, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		n++
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kind, rest, _ := strings.Cut(rest, " ")
			name, text, ok := strings.Cut(rest, " ")
			if !ok || !validMetricName(name) {
				return nil, fmt.Errorf("line %d: bad comment %q", n, line)
			}
			switch kind {
			case "HELP":
				if _, dup := e.help[name]; dup {
					return nil, fmt.Errorf("line %d: second HELP for %s", n, name)
				}
				if _, typed := e.typ[name]; typed {
					return nil, fmt.Errorf("line %d: HELP after TYPE for %s", n, name)
				}
				h, err := unescape(text, false)
				if err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				e.help[name] = h
			case "TYPE":
				if _, dup := e.typ[name]; dup {
					return nil, fmt.Errorf("line %d: second TYPE for %s", n, name)
				}
				if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, text) {
					return nil, fmt.Errorf("line %d: unknown type %q", n, text)
				}
				e.typ[name] = text
				family = name
			default:
				return nil, fmt.Errorf("line %d: unknown comment %q", n, line)
			}
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if !belongs(s.name, family, e.typ[family]) {
			return nil, fmt.Errorf("line %d: sample %s outside its family (current %q)", n, s.name, family)
		}
		key := s.name + fmt.Sprint(s.labels)
		if seen[key] {
			return nil, fmt.Errorf("line %d: repeated series %s", n, line)
		}
		seen[key] = true
		e.samples = append(e.samples, s)
	}
	for name := range e.typ {
		if _, ok := e.help[name]; !ok {
			return nil, fmt.Errorf("family %s has TYPE but no HELP", name)
		}
	}
	for name := range e.help {
		if _, ok := e.typ[name]; !ok {
			return nil, fmt.Errorf("family %s has HELP but no TYPE", name)
		}
	}
	if err := checkHistograms(e); err != nil {
		return nil, err
	}
	return e, nil
}

// belongs reports whether a sample name is part of the current family.
func belongs(name, family, typ string) bool {
	if name == family && typ != "histogram" {
		return true
	}
	if typ == "histogram" {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			if name == family+s {
				return true
			}
		}
	}
	return false
}

func checkHistograms(e *exposition) error {
	for family, typ := range e.typ {
		if typ != "histogram" {
			continue
		}
		type series struct {
			les     []float64
			buckets []float64
			sum     bool
			count   float64
			counted bool
		}
		all := map[string]*series{}
		get := func(s sample) *series {
			l := map[string]string{}
			for k, v := range s.labels {
				if k != "le" {
					l[k] = v
				}
			}
			k := fmt.Sprint(l)
			if all[k] == nil {
				all[k] = &series{}
			}
			return all[k]
		}
		for _, s := range e.samples {
			switch s.name {
			case family + "_bucket":
				le, ok := s.labels["le"]
				if !ok {
					return fmt.Errorf("%s bucket without le", family)
				}
				v, err := strconv.ParseFloat(le, 64)
				if err != nil {
					return fmt.Errorf("%s: le %q: %w", family, le, err)
				}
				h := get(s)
				h.les = append(h.les, v)
				h.buckets = append(h.buckets, s.value)
			case family + "_sum":
				get(s).sum = true
			case family + "_count":
				h := get(s)
				h.count, h.counted = s.value, true
			}
		}
		for k, h := range all {
			if len(h.les) == 0 || !math.IsInf(h.les[len(h.les)-1], 1) {
				return fmt.Errorf("%s%s: buckets do not end with le=\"+Inf\"", family, k)
			}
			for i := 1; i < len(h.les); i++ {
				if h.les[i] <= h.les[i-1] {
					return fmt.Errorf("%s%s: le not increasing", family, k)
				}
				if h.buckets[i] < h.buckets[i-1] {
					return fmt.Errorf("%s%s: buckets not cumulative: %v", family, k, h.buckets)
				}
			}
			if !h.sum || !h.counted {
				return fmt.Errorf("%s%s: _sum or _count missing", family, k)
			}
			if inf := h.buckets[len(h.buckets)-1]; inf != h.count {
				return fmt.Errorf("%s%s: +Inf bucket %v != _count %v", family, k, inf, h.count)
			}
		}
	}
	return nil
}

// parseSample parses `name{label="value",...} value`.
func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, fmt.Errorf("no value in %q", line)
	}
	s.name = line[:i]
	if !validMetricName(s.name) {
		return s, fmt.Errorf("bad metric name in %q", line)
	}
	rest := line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		var last string
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, fmt.Errorf("bad labels in %q", line)
			}
			name := rest[:eq]
			if !validLabelName(name) {
				return s, fmt.Errorf("bad label name %q in %q", name, line)
			}
			if _, dup := s.labels[name]; dup {
				return s, fmt.Errorf("label %s repeated in %q", name, line)
			}
			// Label names are sorted, except that le comes last.
			if name != "le" && last != "" && name <= last {
				return s, fmt.Errorf("labels not sorted in %q", line)
			}
			last = name
			rest = rest[eq+2:]
			end := closingQuote(rest)
			if end < 0 {
				return s, fmt.Errorf("unterminated label value in %q", line)
			}
			v, err := unescape(rest[:end], true)
			if err != nil {
				return s, fmt.Errorf("label %s in %q: %w", name, line, err)
			}
			s.labels[name] = v
			rest = rest[end+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return s, fmt.Errorf("bad label separator in %q", line)
			}
		}
		rest = rest[1:]
	}
	v, ok := strings.CutPrefix(rest, " ")
	if !ok || strings.Contains(v, " ") {
		return s, fmt.Errorf("bad value part in %q", line)
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return s, fmt.Errorf("value in %q: %w", line, err)
	}
	s.value = f
	return s, nil
}

func validLabelName(n string) bool {
	return n != "" && !strings.Contains(n, ":") && validMetricName(n)
}

// closingQuote finds the unescaped '"' that ends a label value.
func closingQuote(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// unescape undoes the format's escaping, rejecting escapes it does not
// define, and raw newlines or (in label values) raw quotes.
func unescape(s string, label bool) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n', c == '"' && label:
			return "", fmt.Errorf("unescaped %q in %q", c, s)
		case c != '\\':
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			return "", fmt.Errorf("trailing backslash in %q", s)
		}
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case '"':
			if !label {
				return "", fmt.Errorf("escaped quote in help %q", s)
			}
			b.WriteByte('"')
		default:
			return "", fmt.Errorf("unknown escape \\%c in %q", s[i], s)
		}
	}
	return b.String(), nil
}

// TestExpositionValid checks a scrape with every kind of series against
// the format, line by line, and that families come sorted by name.
func TestExpositionValid(t *testing.T) {
	m := New()
	for i, d := range []time.Duration{0, 5 * time.Millisecond, 7 * time.Millisecond, time.Second, 3 * time.Minute} {
		m.ObserveRequest(Request{Service: Service{"1", "svc"}, Model: "gpt-4o", Protocol: "openai", Status: 200 + i, Duration: d, TTFB: d / 2,
			Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 5, CachedInputTokens: int64(i)}, Cost: 99, Priced: i%2 == 0})
		m.ObserveRequest(Request{Service: Service{"1", "other"}, Model: "claude", Protocol: "anthropic", Status: 429, Duration: d})
	}
	m.UpstreamError(Service{"1", "svc"}, "timeout")
	m.UpstreamError(Service{"1", "other"}, "connect")
	m.BudgetRefusal(Service{"1", "svc"})
	m.BudgetContended(Service{"1", "other"})
	m.Gauge("sluice_usage_queue_depth", "Usage records waiting to be written.", func() float64 { return 4 })
	m.Gauge("weird_gauge", "help with \\ and\na newline", func() float64 { return math.NaN() })
	e := scrape(t, m)

	for _, name := range []string{
		"sluice_requests_total", "sluice_request_duration_seconds", "sluice_upstream_ttfb_seconds",
		"sluice_tokens_total", "sluice_cost_micro_usd_total", "sluice_upstream_errors_total",
		"sluice_budget_refusals_total", "sluice_budget_contended_total", "sluice_usage_queue_depth", "weird_gauge",
	} {
		if e.typ[name] == "" {
			t.Errorf("family %s missing", name)
		}
	}
	if got := e.help["weird_gauge"]; got != "help with \\ and\na newline" {
		t.Errorf("help round trip: %q", got)
	}
	var names []string
	for _, s := range e.samples {
		n := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_sum"), "_count")
		if e.typ[n] != "histogram" {
			n = s.name
		}
		if len(names) == 0 || names[len(names)-1] != n {
			names = append(names, n)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("families not sorted: %v", names)
	}
	// 3 minutes is beyond the last bound: only +Inf holds it.
	if v, _ := e.value("sluice_request_duration_seconds_bucket", "protocol", "openai", "organization", "1", "service", "svc", "le", "120"); v != 4 {
		t.Errorf("le=120 bucket = %v, want 4", v)
	}
	if v, _ := e.value("sluice_request_duration_seconds_bucket", "protocol", "openai", "organization", "1", "service", "svc", "le", "+Inf"); v != 5 {
		t.Errorf("le=+Inf bucket = %v, want 5", v)
	}
}

// TestEmptyExposition checks that a fresh Metrics, and a nil one, still
// serve a valid scrape, without empty Sluice families.
func TestEmptyExposition(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Metrics
	}{{"new", New()}, {"nil", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			e := scrape(t, tc.m)
			for name := range e.typ {
				if strings.HasPrefix(name, "sluice_") {
					t.Errorf("empty family %s written", name)
				}
			}
			if v, ok := e.value("go_info", "version", runtime.Version()); !ok || v != 1 {
				t.Errorf("go_info = %v, %v", v, ok)
			}
		})
	}
}

// TestLabelEscaping checks that label values are escaped as the format
// requires and read back unchanged.
func TestLabelEscaping(t *testing.T) {
	for _, tc := range []struct {
		name, service, line, want string
	}{
		{"plain", "svc", `sluice_budget_refusals_total{organization="1",service="svc"} 1`, "svc"},
		{"quote backslash newline", "a\"b\\c\nd", `sluice_budget_refusals_total{organization="1",service="a\"b\\c\nd"} 1`, "a\"b\\c\nd"},
		{"trailing backslash", `x\`, `sluice_budget_refusals_total{organization="1",service="x\\"} 1`, `x\`},
		{"braces and comma", `a},b="c`, `sluice_budget_refusals_total{organization="1",service="a},b=\"c"} 1`, `a},b="c`},
		{"invalid UTF-8", "bad\xffname", `sluice_budget_refusals_total{organization="1",service="bad` + "\uFFFD" + `name"} 1`, "bad\uFFFDname"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := New()
			m.BudgetRefusal(Service{"1", tc.service})
			body := string(m.appendExposition(nil))
			if !strings.Contains(body, tc.line+"\n") {
				t.Errorf("want line %s in\n%s", tc.line, body)
			}
			e := scrape(t, m)
			if v, ok := e.value("sluice_budget_refusals_total", "organization", "1", "service", tc.want); !ok || v != 1 {
				t.Errorf("service %q did not read back: %v %v", tc.want, v, ok)
			}
		})
	}
}

// TestFormatFloat pins the number format to client_golang's.
func TestFormatFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {-1, "-1"}, {0.005, "0.005"}, {2.5, "2.5"}, {120, "120"},
		{1234, "1234"}, {1e6, "1e+06"}, {1234567, "1.234567e+06"},
		{math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	} {
		if got := formatFloat(tc.v); got != tc.want {
			t.Errorf("formatFloat(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	want := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60", "120", "+Inf"}
	if !slices.Equal(bucketLabels[:], want) {
		t.Errorf("bucket labels %v, want %v", bucketLabels, want)
	}
}
