package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/tokens"
)

// dashboardFile is the Grafana dashboard shipped for Sluice's metrics.
const dashboardFile = "deploy/grafana/sluice.json"

// exportedSampleNames are the sample names Sluice writes on /metrics,
// read from real scrapes: the binary's (its gauges, process and runtime
// families, always present) and a metrics set that has seen one of every
// observation (families appear only once they have a series).
func exportedSampleNames(t *testing.T) map[string]bool {
	t.Helper()
	base, _ := startBinary(t, env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_ADMIN_PASSWORD", "pw", "SLUICE_METRICS_TOKEN", testMetricsToken))
	scrapes := []string{scrapeMetrics(t, base)}

	m := metrics.New()
	s := metrics.Service{Org: "1", Name: "chat"}
	m.ObserveRequest(metrics.Request{Service: s, Model: "gpt-4o-mini", Protocol: "openai", Status: 200,
		Duration: time.Second, TTFB: time.Millisecond, Priced: true, Cost: 5,
		Tokens: tokens.Tokens{InputTokens: 1, OutputTokens: 1, CachedInputTokens: 1, CacheWriteTokens: 1}})
	m.UpstreamError(s, "timeout")
	m.BudgetRefusal(s)
	m.BudgetContended(s)
	m.PaceRefusal("rpm", "key")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	scrapes = append(scrapes, rec.Body.String())

	names := map[string]bool{}
	for _, scrape := range scrapes {
		for _, line := range strings.Split(scrape, "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			names[line[:strings.IndexAny(line, "{ ")]] = true
		}
	}
	return names
}

// promQL's words that are not metric names: keywords, aggregation
// modifiers and set operators.
var promQLWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "inf", "nan"}

var (
	promString    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers  = regexp.MustCompile(`\{[^}]*\}`)
	promRange     = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promVariable  = regexp.MustCompile(`\$\{?\w+\}?`)
	promIdent     = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(?`)
	promNumberish = regexp.MustCompile(`\b\d+(?:\.\d+)?(?:e[+-]?\d+)?(?:ms|s|m|h|d|w|y)?\b`)
)

// metricNames are the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges, groupings,
// variables, numbers and durations are taken out, that are neither functions nor
// keywords.
func metricNames(expr string) []string {
	for _, re := range []*regexp.Regexp{promString, promMatchers, promRange, promGrouping, promVariable, promNumberish} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var names []string
	for _, id := range promIdent.FindAllString(expr, -1) {
		if strings.HasSuffix(id, "(") {
			continue // a function
		}
		if id = strings.TrimSpace(id); !slices.Contains(promQLWords, strings.ToLower(id)) {
			names = append(names, id)
		}
	}
	return names
}

func TestMetricNames(t *testing.T) {
	cases := []struct {
		expr string
		want []string
	}{
		{`sum by (service) (rate(sluice_requests_total{organization=~"$organization",status=~"5.."}[$__rate_interval]))`, []string{"sluice_requests_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(sluice_request_duration_seconds_bucket{service="a b"}[5m])))`, []string{"sluice_request_duration_seconds_bucket"}},
		{`sum(rate(a_total[1m])) * 3600 / 1e6 / on (x) group_left (y) b`, []string{"a_total", "b"}},
		{`label_values(sluice_requests_total, organization)`, []string{"sluice_requests_total", "organization"}},
		{`go_goroutines and bool process_open_fds offset 5m`, []string{"go_goroutines", "process_open_fds"}},
	}
	for _, c := range cases {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %q, want %q", c.expr, got, c.want)
		}
	}
}

// grafanaDashboard is the part of a dashboard's JSON that holds queries.
type grafanaDashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Type    string `json:"type"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

// TestGrafanaDashboard: every query of the shipped dashboard names only
// metrics Sluice exports, every panel but a row has a query, and every
// family of Sluice's own is on it.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	exported := exportedSampleNames(t)
	used := map[string]bool{}
	check := func(where, expr string) {
		names := metricNames(expr)
		if len(names) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s: %q names %s, which Sluice does not export", where, expr, n)
			}
			used[n] = true
		}
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, _ := v.Query.(map[string]any)["query"].(string)
		// label_values(metric, label): only the first argument is a metric.
		check("variable "+v.Name, strings.SplitN(q, ",", 2)[0]+")")
	}
	for n := range exported {
		family := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if h, ok := strings.CutSuffix(n, suffix); ok && (exported[h+"_bucket"]) {
				family = h
			}
		}
		if !strings.HasPrefix(family, "sluice_") {
			continue
		}
		if !used[n] && !used[family+"_bucket"] {
			t.Errorf("the dashboard shows nothing of %s", n)
		}
	}
}
