package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// targetResult is everything measured on one target. A nil step was not
// run; Note says why a target was not (fully) measured.
type targetResult struct {
	Name   string
	Note   string
	Sluice bool // judged against the performance targets
	// Translated is judged against the translation's target.
	Translated bool
	Baseline   bool // only the concurrency-1 steps ran (direct under --only)

	Plain1, Plain32, Plain256, Stream1, Stream32 *loadResult

	// SetupRSS is read right after the target was set up and probed;
	// IdleRSS after --idle-wait without requests.
	SetupRSS, IdleRSS, PeakRSS int64
	// IdleAnon and IdleFile split IdleRSS into heap and stacks, and pages
	// of the executable and other files.
	IdleAnon, IdleFile int64
	Streams            openStreamsResult
	StreamsRSS         int64
}

// errorCount sums the failed requests of every step that ran.
func (t *targetResult) errorCount() (errs, total int) {
	for _, s := range []*loadResult{t.Plain1, t.Plain32, t.Plain256, t.Stream1, t.Stream32} {
		if s != nil {
			errs += s.Errors
			total += s.Requests
		}
	}
	return errs + t.Streams.Errors, total + t.Streams.Wanted
}

// report is one run of the harness: its settings and every target.
type report struct {
	cfg               *config
	started, finished time.Time
	loadAvg           string // /proc/loadavg when the run started
	targets           []*targetResult
}

func (r *report) add(t *targetResult) { r.targets = append(r.targets, t) }

func (r *report) find(name string) *targetResult {
	for _, t := range r.targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// shown is the targets that get a column: direct's baseline-only run is
// used for the added latencies but is not a column of its own.
func (r *report) shown() []*targetResult {
	var out []*targetResult
	for _, t := range r.targets {
		if !t.Baseline {
			out = append(out, t)
		}
	}
	return out
}

const na = "n/a"

func us(d time.Duration) string { return fmt.Sprintf("%d", d.Microseconds()) }

// signedUS renders an added latency; a difference can be negative on a
// noisy machine and is shown as such rather than clamped.
func signedUS(d time.Duration) string { return fmt.Sprintf("%+d", d.Microseconds()) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// mb renders bytes as decimal megabytes, the unit the performance targets use.
func mb(b int64) string { return fmt.Sprintf("%.1f", float64(b)/1e6) }

func ratio(a, b float64) string {
	if b == 0 {
		return na
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// metricRow is one line of the results table: a label and how to render a
// target's cell (ok false renders n/a).
type metricRow struct {
	label string
	cell  func(t *targetResult) (string, bool)
}

func (r *report) rows() []metricRow {
	direct := r.find(targetDirect)
	floor := r.find(targetFloor)
	added := func(get func(*targetResult) *loadResult, p float64, ttfb bool) func(*targetResult) (time.Duration, bool) {
		return func(t *targetResult) (time.Duration, bool) {
			if direct == nil || t.Name == targetDirect {
				return 0, false
			}
			a, b := get(t), get(direct)
			if a == nil || b == nil {
				return 0, false
			}
			if ttfb {
				return a.TTFBP(p) - b.TTFBP(p), true
			}
			return a.P(p) - b.P(p), true
		}
	}
	pair := func(f func(*targetResult) (time.Duration, bool), g func(*targetResult) (time.Duration, bool), render func(time.Duration) string) func(*targetResult) (string, bool) {
		return func(t *targetResult) (string, bool) {
			a, ok1 := f(t)
			b, ok2 := g(t)
			if !ok1 || !ok2 {
				return "", false
			}
			return render(a) + " / " + render(b), true
		}
	}
	step := func(get func(*targetResult) *loadResult, f func(*loadResult) string) func(*targetResult) (string, bool) {
		return func(t *targetResult) (string, bool) {
			s := get(t)
			if s == nil || s.Requests == 0 {
				return "", false
			}
			return f(s), true
		}
	}
	cpu := func(s *loadResult) string {
		if s.CPUErr != nil {
			return na
		}
		return us(s.CPUPerRequest())
	}
	vsFloor := func(get func(*targetResult) *loadResult, f func(*loadResult) float64) func(*targetResult) (string, bool) {
		return func(t *targetResult) (string, bool) {
			if floor == nil || t.Name == targetFloor || t.Name == targetDirect || get(t) == nil || get(floor) == nil {
				return "", false
			}
			return ratio(f(get(t)), f(get(floor))), true
		}
	}
	plain1 := func(t *targetResult) *loadResult { return t.Plain1 }
	plain32 := func(t *targetResult) *loadResult { return t.Plain32 }
	plain256 := func(t *targetResult) *loadResult { return t.Plain256 }
	stream1 := func(t *targetResult) *loadResult { return t.Stream1 }
	stream32 := func(t *targetResult) *loadResult { return t.Stream32 }
	cpuPerReq := func(s *loadResult) float64 { return float64(s.CPUPerRequest()) }
	rps := func(s *loadResult) float64 { return s.RPS() }
	mem := func(v func(*targetResult) int64) func(*targetResult) (string, bool) {
		return func(t *targetResult) (string, bool) {
			if v(t) == 0 {
				return "", false
			}
			return mb(v(t)), true
		}
	}
	rows := []metricRow{
		{"latency p50 / p99, c=1 (µs)", step(plain1, func(s *loadResult) string { return us(s.P(50)) + " / " + us(s.P(99)) })},
		{"**added** p50 / p99 over direct, c=1 (µs)", pair(added(plain1, 50, false), added(plain1, 99, false), signedUS)},
		{"req/s, c=32", step(plain32, func(s *loadResult) string { return fmt.Sprintf("%.0f", s.RPS()) })},
		{"p99, c=32 (ms)", step(plain32, func(s *loadResult) string { return ms(s.P(99)) })},
		{"req/s, c=256", step(plain256, func(s *loadResult) string { return fmt.Sprintf("%.0f", s.RPS()) })},
		{"p99, c=256 (ms)", step(plain256, func(s *loadResult) string { return ms(s.P(99)) })},
		{"**CPU µs/request**, c=32 plain", step(plain32, cpu)},
		{"**CPU µs/request**, c=32 streamed", step(stream32, cpu)},
		{"CPU µs/request, c=256 plain", step(plain256, cpu)},
		{"database server CPU µs/request, c=32 plain / streamed", func(t *targetResult) (string, bool) {
			if t.Plain32 == nil || t.Plain32.DBCPU == 0 {
				return "", false
			}
			s := us(t.Plain32.DBCPUPerRequest())
			if t.Stream32 != nil && t.Stream32.DBCPU > 0 {
				s += " / " + us(t.Stream32.DBCPUPerRequest())
			}
			return s, true
		}},
		{"streamed req/s, c=32", step(stream32, func(s *loadResult) string { return fmt.Sprintf("%.0f", s.RPS()) })},
		{"stream first event p50 / p99, c=1 (µs)", step(stream1, func(s *loadResult) string { return us(s.TTFBP(50)) + " / " + us(s.TTFBP(99)) })},
		{"**added** time to first event p50 / p99 (µs)", pair(added(stream1, 50, true), added(stream1, 99, true), signedUS)},
		{"errors / requests, all steps", func(t *targetResult) (string, bool) {
			e, n := t.errorCount()
			return fmt.Sprintf("%d / %d", e, n), n > 0
		}},
		{"RSS right after set-up (MB)", mem(func(t *targetResult) int64 { return t.SetupRSS })},
		{fmt.Sprintf("idle RSS, %s without requests (MB)", r.cfg.idleWait), mem(func(t *targetResult) int64 { return t.IdleRSS })},
		{"idle RSS: anonymous / file pages (MB)", func(t *targetResult) (string, bool) {
			if t.IdleAnon == 0 && t.IdleFile == 0 {
				return "", false
			}
			return mb(t.IdleAnon) + " / " + mb(t.IdleFile), true
		}},
		{"peak RSS, load steps (MB)", mem(func(t *targetResult) int64 { return t.PeakRSS })},
		{fmt.Sprintf("RSS with %d open streams (MB)", r.cfg.streams), func(t *targetResult) (string, bool) {
			if t.StreamsRSS == 0 {
				return "", false
			}
			s := mb(t.StreamsRSS)
			if t.Streams.Open < t.Streams.Wanted {
				s += fmt.Sprintf(" (%d open)", t.Streams.Open)
			}
			return s, true
		}},
		{"CPU/request ÷ floor, c=32 plain / streamed", func(t *targetResult) (string, bool) {
			a, ok1 := vsFloor(plain32, cpuPerReq)(t)
			b, ok2 := vsFloor(stream32, cpuPerReq)(t)
			return a + " / " + b, ok1 && ok2
		}},
		{"req/s ÷ floor, c=32 / c=256", func(t *targetResult) (string, bool) {
			a, ok1 := vsFloor(plain32, rps)(t)
			b, ok2 := vsFloor(plain256, rps)(t)
			return a + " / " + b, ok1 && ok2
		}},
	}
	if r.cfg.streams == 0 {
		rows = slices.DeleteFunc(rows, func(m metricRow) bool { return strings.Contains(m.label, "open streams") })
	}
	return rows
}

// markdown renders the results table, the performance targets for every
// Sluice column, and why any target was not measured.
func (r *report) markdown() string {
	var b strings.Builder
	cols := r.shown()
	b.WriteString("| metric |")
	for _, t := range cols {
		b.WriteString(" " + t.Name + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(cols)) + "\n")
	for _, row := range r.rows() {
		b.WriteString("| " + row.label + " |")
		for _, t := range cols {
			s, ok := row.cell(t)
			if !ok {
				s = na
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
	if checks := r.targetChecks(); checks != "" {
		b.WriteString("\n" + checks)
	}
	for _, t := range r.targets {
		if t.Note != "" {
			fmt.Fprintf(&b, "\n- **%s not measured**: %s", t.Name, oneLine(t.Note))
		}
	}
	for _, t := range r.targets {
		if e, _ := t.errorCount(); e > 0 {
			fmt.Fprintf(&b, "\n- %s: %d errors; first: %s", t.Name, e, oneLine(firstError(t)))
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func firstError(t *targetResult) string {
	for _, s := range []*loadResult{t.Plain1, t.Plain32, t.Plain256, t.Stream1, t.Stream32} {
		if s != nil && s.FirstError != "" {
			return s.FirstError
		}
	}
	return t.Streams.FirstError
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// check is one of the performance targets, judged for one Sluice result against
// the floor measured in the same run.
type check struct {
	label string
	// judge reports ok false when a step it needs was not measured.
	judge func(s, floor *targetResult) (pass bool, value string, ok bool)
}

// performanceTargets are the performance targets Sluice is held to.
var performanceTargets = []check{
	{"CPU/request at c=32 ≤ 1.3 × floor, plain", func(s, f *targetResult) (bool, string, bool) {
		return cpuRatio(s.Plain32, f.Plain32)
	}},
	{"CPU/request at c=32 ≤ 1.3 × floor, streamed", func(s, f *targetResult) (bool, string, bool) {
		return cpuRatio(s.Stream32, f.Stream32)
	}},
	{"added p50 at c=1 ≤ floor's + 50 µs", func(s, f *targetResult) (bool, string, bool) {
		return latencyOver(s.Plain1, f.Plain1, 50, 50*time.Microsecond)
	}},
	{"added p99 at c=1 ≤ floor's + 150 µs", func(s, f *targetResult) (bool, string, bool) {
		return latencyOver(s.Plain1, f.Plain1, 99, 150*time.Microsecond)
	}},
	{"req/s at c=32 ≥ 0.85 × floor", func(s, f *targetResult) (bool, string, bool) {
		if s.Plain32 == nil || f.Plain32 == nil || f.Plain32.RPS() == 0 {
			return false, "", false
		}
		x := s.Plain32.RPS() / f.Plain32.RPS()
		return x >= 0.85, fmt.Sprintf("%.2f×", x), true
	}},
	{"zero errors", func(s, _ *targetResult) (bool, string, bool) {
		e, n := s.errorCount()
		return e == 0, fmt.Sprintf("%d", e), n > 0
	}},
	{"idle RSS ≤ 40 MB", func(s, _ *targetResult) (bool, string, bool) {
		return s.IdleRSS <= 40e6, mb(s.IdleRSS) + " MB", s.IdleRSS > 0
	}},
	{"RSS ≤ 150 MB with 1,000 open streams", func(s, _ *targetResult) (bool, string, bool) {
		if s.StreamsRSS == 0 {
			return false, "", false
		}
		v := mb(s.StreamsRSS) + " MB"
		if s.Streams.Open < 1000 {
			return false, v + fmt.Sprintf(" (only %d open)", s.Streams.Open), true
		}
		return s.StreamsRSS <= 150e6, v, true
	}},
}

func cpuRatio(s, f *loadResult) (bool, string, bool) { return cpuWithin(s, f, 1.3) }

// cpuWithin judges s's CPU per request against limit times the floor's f.
func cpuWithin(s, f *loadResult, limit float64) (bool, string, bool) {
	if s == nil || f == nil || s.CPUErr != nil || f.CPUErr != nil || f.CPUPerRequest() == 0 {
		return false, "", false
	}
	x := float64(s.CPUPerRequest()) / float64(f.CPUPerRequest())
	return x <= limit, fmt.Sprintf("%.2f× (%s vs %s µs)", x, us(s.CPUPerRequest()), us(f.CPUPerRequest())), true
}

// translationTargets are the target of a translated request: an OpenAI
// caller on an Anthropic provider costs at most 1.5 times the floor's CPU.
var translationTargets = []check{
	{"CPU/request at c=32 ≤ 1.5 × floor, plain", func(s, f *targetResult) (bool, string, bool) {
		return cpuWithin(s.Plain32, f.Plain32, 1.5)
	}},
	{"CPU/request at c=32 ≤ 1.5 × floor, streamed", func(s, f *targetResult) (bool, string, bool) {
		return cpuWithin(s.Stream32, f.Stream32, 1.5)
	}},
	{"zero errors", func(s, _ *targetResult) (bool, string, bool) {
		e, n := s.errorCount()
		return e == 0, fmt.Sprintf("%d", e), n > 0
	}},
}

// latencyOver compares two targets' percentile latency at c=1; both are
// measured against the same direct run, so the difference of added
// latencies is the difference of latencies.
func latencyOver(s, f *loadResult, p float64, budget time.Duration) (bool, string, bool) {
	if s == nil || f == nil || len(s.Latencies) == 0 || len(f.Latencies) == 0 {
		return false, "", false
	}
	d := s.P(p) - f.P(p)
	return d <= budget, fmt.Sprintf("%s µs over the floor", signedUS(d)), true
}

// targetChecks renders the performance targets for every passthrough
// Sluice result and the translation's for every translated one, "" when
// there is no such result to judge.
func (r *report) targetChecks() string {
	var parts []string
	for _, c := range []struct {
		title  string
		is     func(*targetResult) bool
		checks []check
	}{
		{"performance target", func(t *targetResult) bool { return t.Sluice }, performanceTargets},
		{"translation target", func(t *targetResult) bool { return t.Translated }, translationTargets},
	} {
		if s := r.checkTable(c.title, c.is, c.checks); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// checkTable judges every result that is against checks, in a table
// titled title.
func (r *report) checkTable(title string, is func(*targetResult) bool, checks []check) string {
	floor := r.find(targetFloor)
	var sluices []*targetResult
	for _, t := range r.targets {
		if is(t) {
			sluices = append(sluices, t)
		}
	}
	if len(sluices) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("| " + title + " |")
	for _, t := range sluices {
		b.WriteString(" " + t.Name + " |")
	}
	b.WriteString("\n| --- |" + strings.Repeat(" --- |", len(sluices)) + "\n")
	for _, c := range checks {
		b.WriteString("| " + c.label + " |")
		for _, t := range sluices {
			cell := "— not measured"
			f := floor
			if f == nil {
				f = &targetResult{} // no floor: checks against it find no steps
			}
			if pass, v, ok := c.judge(t, f); ok {
				mark := "❌ fail"
				if pass {
					mark = "✅ pass"
				}
				cell = mark + " " + v
			}
			b.WriteString(" " + cell + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Markers around the part of the results file the harness owns; text
// outside them (what changed, what it bought) is kept on every --write.
const (
	docBegin = "<!-- bench:begin (generated by go run ./bench --write; edits inside are replaced) -->"
	docEnd   = "<!-- bench:end -->"
)

const docIntro = `# Benchmarks

What Sluice costs on the request path, measured side by side with the least
any Go proxy costs. One command measures, in the same run on the
same machine:

1. **direct**: the mock upstream alone (OpenAI-compatible, fixed answer with
   usage; SSE with five content events, a usage event and ` + "`[DONE]`" + `);
2. **floor**: ` + "`net/http/httputil.ReverseProxy`" + ` in front of the mock, in a
   process of its own, with a keep-alive pool and the upstream key swapped in;
3. **sluice**: the real binary built from this repository with governance on:
   a real ` + "`sk_`" + ` key, a service with day and month budgets on
   ` + "`gpt-4o-mini`" + ` (priced, so every request reserves and settles a
   cost), configured through ` + "`/graphql`" + `, on SQLite and on PostgreSQL;
4. **sluice translated**: the same binary on SQLite, its service's provider
   Anthropic (the mock also speaks Anthropic Messages, with the same text,
   usage and number of text deltas), sent the same OpenAI chat requests for
   ` + "`claude-haiku-4-5`" + `: each is translated to Anthropic Messages and its
   answer or stream back.

` + "```sh" + `
go run ./bench --quick                      # smoke: 1 s a step
go run ./bench --postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' --write docs/benchmarks.md
go run ./bench --only sluice --duration 5s  # iterate on Sluice (direct's c=1 baselines still run)
` + "```" + `

How it measures: closed-loop workers over one keep-alive transport, a warm-up
before every step, every request's latency kept (nearest-rank percentiles);
CPU is the target process's utime+stime from ` + "`/proc/<pid>/stat`" + ` over the
measured window divided by the requests in it (the load generator and the
mock are other processes, so a busy machine changes latency and req/s but
hardly CPU/request); memory is VmRSS/VmHWM (and RssAnon/RssFile) from
` + "`/proc/<pid>/status`" + `; idle RSS is read after 3 s without requests, following the
set-up (admin login, services, keys) and one probe request.
"Added" latencies are the target's percentile minus direct's. Everything
shares the machine's cores with the load generator, so req/s is a property
of the whole box; the ratios to the floor are what compare. On PostgreSQL
the database server's own CPU is not in Sluice's CPU/request (it is another
process, possibly another machine); when it runs on this machine its CPU per
request is reported on a row of its own. ` + "`--perf`" + ` records where Sluice's CPU
goes during its c=32 step with Linux perf (perf costs CPU: do not publish
such a run).

`

// writeDoc writes the run into path between the markers, creating the file
// with an introduction if it does not exist and appending the section if
// the file has no markers yet.
func writeDoc(path string, r *report) error {
	section := docBegin + "\n" + r.docSection() + docEnd + "\n"
	old, err := os.ReadFile(path)
	var out string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		out = docIntro + section
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	default:
		out = spliceSection(string(old), section)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// spliceSection replaces the generated section of doc with section, or
// appends section when doc has none.
func spliceSection(doc, section string) string {
	i := strings.Index(doc, docBegin)
	j := strings.Index(doc, docEnd)
	if i < 0 || j < i {
		return strings.TrimRight(doc, "\n") + "\n\n" + section
	}
	rest := strings.TrimPrefix(doc[j+len(docEnd):], "\n")
	return doc[:i] + section + rest
}

// docSection is the generated part of the results file: when, where, how,
// and the tables.
func (r *report) docSection() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Latest run\n\n")
	writeRunFacts(&b, r.started, r.finished, r.cfg.revision, r.loadAvg, r.commandLine())
	steps := fmt.Sprintf("%s measured after %s warm-up", r.cfg.duration, r.cfg.warmup)
	if r.cfg.requests > 0 {
		steps = fmt.Sprintf("%d requests after %s warm-up", r.cfg.requests, r.cfg.warmup)
	}
	fmt.Fprintf(&b, "- **Steps**: %s each; concurrency 1 plain and streamed, each in %d turns taken by the targets in rotation; "+
		"then, one target at a time, concurrency 32 and 256 plain, 32 streamed, and %d streams held open at once\n\n", steps, max(r.cfg.rounds, 1), r.cfg.streams)
	b.WriteString(r.markdown())
	b.WriteString("\n")
	return b.String()
}

// writeRunFacts writes the lines a results section starts with: when,
// on what machine, from which tree, how busy the machine was, and the
// command.
func writeRunFacts(b *strings.Builder, started, finished time.Time, revision, loadAvg, command string) {
	fmt.Fprintf(b, "- **Date**: %s (took %s)\n", started.UTC().Format("2006-01-02 15:04 MST"), finished.Sub(started).Round(time.Second))
	fmt.Fprintf(b, "- **Machine**: %s\n", machine())
	if revision != "" {
		fmt.Fprintf(b, "- **Sluice**: built from %s\n", revision)
	}
	if loadAvg != "" {
		fmt.Fprintf(b, "- **Load average at start** (1, 5, 15 min; the box is shared): %s\n", loadAvg)
	}
	fmt.Fprintf(b, "- **Command**: `%s`\n", command)
}

// commandLine is the command as run, with any database password hidden.
func (r *report) commandLine() string {
	args := []string{"go", "run", "./bench"}
	for i := 0; i < len(r.cfg.args); i++ {
		a := r.cfg.args[i]
		switch {
		case a == "--postgres" || a == "-postgres":
			args = append(args, a)
			if i+1 < len(r.cfg.args) {
				i++
				args = append(args, "'"+redactDSN(r.cfg.args[i])+"'")
			}
		case strings.HasPrefix(a, "--postgres=") || strings.HasPrefix(a, "-postgres="):
			k, v, _ := strings.Cut(a, "=")
			args = append(args, k+"='"+redactDSN(v)+"'")
		default:
			args = append(args, a)
		}
	}
	return strings.Join(args, " ")
}

// loadAverage returns the 1, 5 and 15 minute load averages, which say how
// busy the machine was besides the benchmark ("" where /proc has none).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], ", ")
}

// machine describes the box from /proc: CPU model, cores, memory, kernel,
// and the Go that built the harness.
func machine() string {
	model, cores := "unknown CPU", 0
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				model = strings.TrimSpace(v)
			case "processor":
				cores++
			}
		}
		f.Close()
	}
	if cores == 0 {
		cores = runtime.NumCPU()
	}
	s := fmt.Sprintf("%s, %d cores", model, cores)
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscan(strings.TrimSpace(v), &kb); err == nil {
					s += fmt.Sprintf(", %.1f GB RAM", float64(kb)/(1<<20))
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		s += ", Linux " + strings.TrimSpace(string(b))
	}
	return s + ", " + runtime.Version()
}
