// Command bench measures what Sluice costs on the request path, side by
// side with the least any Go proxy costs, in one run on one machine:
//
//  1. direct: the mock upstream (OpenAI-compatible, plain and SSE) alone;
//  2. floor: net/http/httputil.ReverseProxy in front of the mock, in a
//     process of its own (`bench floor`);
//  3. Sluice: the real binary, built from this repository, with governance
//     on (a real sk_ key, a service with budgets on a priced model), on
//     SQLite and, with --postgres, on PostgreSQL;
//  4. Sluice translating: the same binary on SQLite, its service's provider
//     Anthropic, so the load generator's OpenAI chat requests are
//     translated to Anthropic Messages and the answers back.
//
// Every target runs the same closed-loop steps; the concurrency-1 steps,
// whose latencies are compared across targets, take turns so that every
// target sees the same stretch of the machine's background load. CPU and
// memory are read from /proc for the target's process only, so they hold
// on a noisy machine.
//
//	go run ./bench                                   # 10 s a step
//	go run ./bench --quick                           # 1 s a step (smoke)
//	go run ./bench --postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' --write docs/benchmarks.md
//
// `bench mock` and `bench floor` are the helper processes the run starts.
//
// `bench admin` measures the admin plane instead: it loads months of
// traffic into a fresh database (SQLite, and PostgreSQL with --postgres),
// starts Sluice on it and times the dashboard's GraphQL queries:
//
//	go run ./bench admin --keys 10000 --records 1000000 --postgres 'postgres://…' --write docs/benchmarks.md
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	// Ctrl-C or SIGTERM ends a run early; what it started is stopped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "mock":
		err = runMockCommand(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "floor":
		err = runFloorCommand(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "admin":
		err = runAdminCommand(ctx, os.Args[2:])
	default:
		err = runBench(ctx, os.Args[1:])
	}
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// config is the command line of a benchmark run.
type config struct {
	args            []string // as given, for the published command line
	duration        time.Duration
	warmup          time.Duration
	requests        int
	quick           bool
	postgres        string
	only            []string
	write           string
	streams         int
	idleWait        time.Duration
	upstreamLatency time.Duration
	repo            string
	sluiceBin       string
	keep            bool
	perf            bool
	rounds          int
	revision        string // of the Sluice tree built, for the results file
}

// Target names, as --only takes them.
const (
	targetDirect = "direct"
	targetFloor  = "floor"
	targetSluice = "sluice"
	// targetTranslated is Sluice between an OpenAI caller and an
	// Anthropic-speaking upstream.
	targetTranslated = "sluice-translated"
)

// allTargets are the targets --only takes, in the order they are measured.
var allTargets = []string{targetDirect, targetFloor, targetSluice, targetTranslated}

func parseConfig(args []string) (*config, error) {
	cfg := &config{args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench [flags]\n\nMeasures the mock upstream directly, a bare httputil.ReverseProxy (the floor) and Sluice, and prints a Markdown table.\n\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "measured time of each step")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up before each step")
	fs.IntVar(&cfg.requests, "requests", 0, "measure this many requests a step instead of --duration")
	fs.BoolVar(&cfg.quick, "quick", false, "short run for a smoke test: 1 s steps, 200 ms warm-up")
	fs.StringVar(&cfg.postgres, "postgres", "", "also measure Sluice on PostgreSQL at this DSN (a fresh schema is created and dropped)")
	only := fs.String("only", "", "comma-separated targets to measure: "+strings.Join(allTargets, ", ")+" (default all; direct's concurrency-1 baselines always run)")
	fs.StringVar(&cfg.write, "write", "", "write the results into this Markdown file (e.g. docs/benchmarks.md), keeping text outside the generated section")
	fs.DurationVar(&cfg.idleWait, "idle-wait", 3*time.Second, "quiet time after set-up before idle RSS is read")
	fs.IntVar(&cfg.streams, "streams", 1000, "concurrent open streams for the memory step (0 skips it)")
	fs.DurationVar(&cfg.upstreamLatency, "upstream-latency", 0, "delay the mock adds before each answer")
	fs.StringVar(&cfg.repo, "repo", "", "Sluice repository to build (default: the module the harness runs in)")
	fs.StringVar(&cfg.sluiceBin, "sluice-bin", "", "use this Sluice binary instead of building one")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work folder (binary, data, logs of every process)")
	fs.IntVar(&cfg.rounds, "rounds", 5, "turns the concurrency-1 steps take across targets (each turn is --duration/rounds)")
	fs.BoolVar(&cfg.perf, "perf", false, "profile Sluice with Linux perf during its plain c=32 step (implies --keep; perf costs CPU, so do not publish such a run)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (subcommands are admin, mock and floor)", fs.Arg(0))
	}
	if cfg.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			cfg.duration = time.Second
		}
		if !set["warmup"] {
			cfg.warmup = 200 * time.Millisecond
		}
	}
	if *only == "" {
		cfg.only = allTargets
	} else {
		for t := range strings.SplitSeq(*only, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(allTargets, t) {
				return nil, fmt.Errorf("--only: unknown target %q (want one of %s)", t, strings.Join(allTargets, ", "))
			}
			cfg.only = append(cfg.only, t)
		}
	}
	if cfg.perf {
		cfg.keep = true
	}
	if cfg.duration <= 0 && cfg.requests <= 0 {
		return nil, errors.New("--duration or --requests must be positive")
	}
	return cfg, nil
}

func (c *config) wants(target string) bool { return slices.Contains(c.only, target) }

// chatBody is the request every step sends: a priced model and a small
// max_tokens, so Sluice reserves and settles a real (small) cost. The
// translated target gets the same OpenAI chat request for a priced
// Anthropic model.
var (
	chatBody             = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16}`)
	streamBody           = []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":16,"stream":true}`)
	translatedChatBody   = []byte(`{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"max_tokens":16}`)
	translatedStreamBody = []byte(`{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}],"max_tokens":16,"stream":true}`)
)

// body is the request t's steps send.
func (t target) body(stream bool) []byte {
	switch {
	case stream && t.streamBody != nil:
		return t.streamBody
	case stream:
		return streamBody
	case t.plainBody != nil:
		return t.plainBody
	}
	return chatBody
}

// target is one thing under measurement.
type target struct {
	name string
	pid  int // the process whose CPU and memory are read
	// chatURL takes the benchmark's requests with auth as Authorization;
	// slowURL/slowAuth reach the upstream that holds streams open ("" skips
	// the open-streams step).
	chatURL, auth     string
	slowURL, slowAuth string
	// plainBody and streamBody, when set, replace chatBody and streamBody.
	plainBody, streamBody []byte
	// profile, when set, is the path prefix of a perf profile of the
	// plain c=32 step.
	profile string
	// dbCPU, when set, reads the CPU time of the target's database server
	// (PostgreSQL on this machine).
	dbCPU func() (time.Duration, error)
}

func runBench(ctx context.Context, args []string) error {
	cfg, err := parseConfig(args)
	if err != nil {
		return err
	}
	work, cleanup, err := workFolder("sluice-bench-", cfg.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the harness binary: %w", err)
	}

	// The mock holds /slow/ streams far longer than the open-streams step
	// waits; the step closes them itself.
	mock, mockURL, err := startHelper(ctx, self, work, "mock",
		"--upstream-latency", cfg.upstreamLatency.String(), "--hold", "5m")
	if err != nil {
		return fmt.Errorf("start the mock upstream: %w", err)
	}
	defer mock.stop()
	slog.Info("mock upstream up", "url", mockURL, "pid", mock.Pid())

	run := &report{cfg: cfg, started: time.Now(), loadAvg: loadAverage()}
	// Build first: a broken tree is known before minutes of measuring.
	var bin string
	var buildErr error
	if cfg.wants(targetSluice) || cfg.wants(targetTranslated) {
		if bin, buildErr = sluiceBinary(ctx, cfg, work); buildErr != nil {
			slog.Warn("Sluice will not be measured", "err", buildErr)
		}
	}
	// Every target is started and set up before any is measured, so that
	// the concurrency-1 steps can take turns (see latencyRounds).
	var armed []*armedTarget
	var failed []*targetResult // could not be started; reported after the others
	direct := &armedTarget{t: target{name: targetDirect, pid: mock.Pid(), chatURL: mockURL + "/v1/chat/completions"},
		full: cfg.wants(targetDirect)}
	if !direct.full {
		slog.Info("measuring direct's concurrency-1 baselines only (every added latency is relative to them)")
	}
	armed = append(armed, direct)
	if cfg.wants(targetFloor) {
		floor, floorURL, err := startHelper(ctx, self, work, "floor", "--upstream", mockURL)
		if err != nil {
			return fmt.Errorf("start the floor: %w", err)
		}
		defer floor.stop()
		slog.Info("floor up", "url", floorURL, "pid", floor.Pid())
		armed = append(armed, &armedTarget{full: true, t: target{
			name: targetFloor, pid: floor.Pid(),
			chatURL: floorURL + "/v1/chat/completions", auth: "Bearer sk-client",
			slowURL: floorURL + slowPrefix + "/v1/chat/completions", slowAuth: "Bearer sk-client",
		}})
	}
	var sluices []sluiceSpec
	if cfg.wants(targetSluice) {
		sluices = append(sluices, sluiceSpec{name: "sluice (SQLite)", db: "SQLite", api: passthroughAPI})
		if cfg.postgres != "" {
			sluices = append(sluices, sluiceSpec{name: "sluice (PostgreSQL)", db: "PostgreSQL", api: passthroughAPI})
		}
	}
	if cfg.wants(targetTranslated) {
		// Translation does not touch the database: SQLite, the default, only.
		sluices = append(sluices, sluiceSpec{name: "sluice translated (SQLite)", db: "SQLite", api: anthropicAPI})
	}
	for _, spec := range sluices {
		mark := func(r *targetResult) *targetResult {
			r.Sluice, r.Translated = !spec.api.translated, spec.api.translated
			return r
		}
		if buildErr != nil {
			failed = append(failed, mark(&targetResult{Name: spec.name, Note: buildErr.Error()}))
			continue
		}
		t, stop, err := startSluiceTarget(ctx, cfg, bin, work, spec, mockURL)
		if stop != nil {
			defer stop()
		}
		if err != nil {
			failed = append(failed, mark(&targetResult{Name: spec.name, Note: err.Error()}))
			continue
		}
		armed = append(armed, &armedTarget{t: t, full: true, result: mark})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	measureAll(ctx, cfg, armed)
	for _, a := range armed {
		if a.res != nil {
			run.add(a.res)
		}
	}
	for _, f := range failed {
		run.add(f)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	run.finished = time.Now()

	table := run.markdown()
	fmt.Println(table)
	if cfg.write != "" {
		if err := writeDoc(cfg.write, run); err != nil {
			return err
		}
		slog.Info("wrote the results", "file", cfg.write)
	}
	return nil
}

// workFolder makes the run's temporary folder; cleanup removes it unless
// keep is set.
func workFolder(prefix string, keep bool) (dir string, cleanup func(), err error) {
	dir, err = os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, fmt.Errorf("create work folder: %w", err)
	}
	if keep {
		slog.Info("keeping the work folder", "dir", dir)
		return dir, func() {}, nil
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// sluiceBinary returns the binary to measure: --sluice-bin, or a fresh
// build of the repository.
func sluiceBinary(ctx context.Context, cfg *config, work string) (string, error) {
	if cfg.sluiceBin != "" {
		return cfg.sluiceBin, nil
	}
	repo := cfg.repo
	if repo == "" {
		var err error
		if repo, err = moduleRoot(ctx); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(work, "sluice")
	slog.Info("building Sluice", "repo", repo)
	if err := buildSluice(ctx, repo, bin); err != nil {
		return "", fmt.Errorf("build Sluice: %w", err)
	}
	cfg.revision = revision(ctx, repo)
	return bin, nil
}

// sluiceSpec is one Sluice target: its column's name, its database and
// the API its services' upstream speaks.
type sluiceSpec struct {
	name, db string
	api      upstreamAPI
}

// startSluiceTarget starts a Sluice on the spec's database and configures
// it. stop, when not nil, must be called once the target is measured, even
// after an error.
func startSluiceTarget(ctx context.Context, cfg *config, bin, work string, spec sluiceSpec, mockURL string) (t target, stop func(), err error) {
	label := spec.db
	var db *sluiceDB
	var stops []func()
	stop = func() {
		for _, f := range slices.Backward(stops) {
			f()
		}
	}
	if label == "PostgreSQL" {
		if db, err = postgresDB(ctx, cfg.postgres); err != nil {
			return t, nil, err
		}
		stops = append(stops, db.drop)
	} else {
		db = sqliteDB()
	}
	slog.Info("starting Sluice", "target", spec.name)
	inst, err := startSluice(ctx, bin, work, slug(spec.name), db)
	if err != nil {
		return t, stop, fmt.Errorf("start: %w", err)
	}
	stops = append(stops, inst.proc.stop)
	if err := inst.configure(ctx, mockURL, spec.api); err != nil {
		return t, stop, fmt.Errorf("configure through /graphql: %w", err)
	}
	slog.Info("Sluice up", "target", spec.name, "url", inst.baseURL, "pid", inst.proc.Pid())
	t = target{
		name: spec.name, pid: inst.proc.Pid(),
		chatURL: inst.baseURL + "/v1/chat/completions", auth: "Bearer " + inst.key,
		slowURL: inst.baseURL + "/v1/chat/completions", slowAuth: "Bearer " + inst.slowKey,
		plainBody: spec.api.plainBody, streamBody: spec.api.streamBody,
	}
	if cfg.perf {
		t.profile = filepath.Join(work, "perf-"+slug(spec.name))
	}
	if label == "PostgreSQL" && localDSN(cfg.postgres) {
		t.dbCPU = func() (time.Duration, error) { return readCommandCPU("postgres") }
	}
	return t, stop, nil
}

// armedTarget is a target that is up, with what has been measured of it.
type armedTarget struct {
	t target
	// full runs every step; otherwise only the concurrency-1 baselines.
	full bool
	// result, when set, marks the target's result with the targets it is
	// judged against.
	result func(*targetResult) *targetResult
	res    *targetResult
}

// stepDef is one step of the harness.
type stepDef struct {
	stream      bool
	concurrency int
}

func (s stepDef) mode() string {
	if s.stream {
		return "stream"
	}
	return "plain"
}

// measureAll sets every target up, reads its idle memory, runs the
// concurrency-1 steps in turns across targets, and then the heavy steps
// one target at a time. A target that fails its probe is reported, not
// measured.
func measureAll(ctx context.Context, cfg *config, armed []*armedTarget) {
	var live []*armedTarget
	for _, a := range armed {
		a.res = &targetResult{Name: a.t.name, Baseline: !a.full}
		if a.result != nil {
			a.res = a.result(a.res)
		}
		if err := probe(ctx, a.t.chatURL, a.t.auth, a.t.body(false)); err != nil {
			a.res.Note = err.Error()
			slog.Warn("target cannot be measured", "target", a.t.name, "reason", err)
			continue
		}
		if m, err := readMem(a.t.pid); err == nil {
			a.res.SetupRSS = m.RSS
		}
		live = append(live, a)
	}
	// Idle means quiet for a while, not the instant after the set-up
	// requests: a runtime may hand a burst's garbage back only once
	// traffic stops.
	select {
	case <-time.After(cfg.idleWait):
	case <-ctx.Done():
		return
	}
	for _, a := range live {
		if m, err := readMem(a.t.pid); err == nil {
			a.res.IdleRSS, a.res.IdleAnon, a.res.IdleFile = m.RSS, m.Anon, m.File
		}
	}
	for _, s := range []stepDef{{false, 1}, {true, 1}} {
		results := latencyRounds(ctx, cfg, live, s)
		for i, a := range live {
			r := results[i]
			if r.err != nil {
				a.res.Note = cmp.Or(a.res.Note, fmt.Sprintf("step %s c=1: %v", s.mode(), r.err))
				continue
			}
			if r.load == nil { // interrupted before its first turn
				continue
			}
			if s.stream {
				a.res.Stream1 = r.load
			} else {
				a.res.Plain1 = r.load
			}
			logStep(a.t.name, s, r.load)
		}
	}
	for _, a := range live {
		if a.full && a.res.Note == "" && ctx.Err() == nil {
			heavySteps(ctx, cfg, a)
		}
	}
}

// roundResult is one target's merged concurrency-1 measurement.
type roundResult struct {
	load *loadResult
	err  error
}

// latencyRounds measures step s (concurrency 1) on every target in
// cfg.rounds turns of duration/rounds each, the order rotating between
// rounds, and merges each target's turns. The added latency of a target is
// its percentile minus another's; on a machine whose background load drifts
// over minutes (this one is shared), measuring one target minutes after the
// other compared the drift as much as the targets.
func latencyRounds(ctx context.Context, cfg *config, live []*armedTarget, s stepDef) []roundResult {
	results := make([]roundResult, len(live))
	rounds := max(cfg.rounds, 1)
	duration := cfg.duration / time.Duration(rounds)
	requests := 0
	if cfg.requests > 0 {
		requests = max(cfg.requests/rounds, 1)
	}
	for round := range rounds {
		for k := range live {
			i := (k + round) % len(live)
			if results[i].err != nil || ctx.Err() != nil {
				continue
			}
			// The first turn warms the target up; later turns only need a
			// fresh connection warm.
			warmup := cfg.warmup
			if round > 0 {
				warmup = min(cfg.warmup, 200*time.Millisecond)
			}
			r, err := runStep(ctx, live[i].t, s, warmup, duration, requests)
			if err != nil {
				results[i].err = err
				continue
			}
			results[i].load = mergeLoad(results[i].load, r)
		}
	}
	return results
}

// heavySteps runs the concurrency-32 and -256 steps and the open-streams
// step on one target while the others stay idle.
func heavySteps(ctx context.Context, cfg *config, a *armedTarget) {
	t, res := a.t, a.res
	for _, s := range []stepDef{{false, 32}, {false, 256}, {true, 32}} {
		if ctx.Err() != nil {
			return
		}
		var stopPerf func() (string, error)
		if t.profile != "" && !s.stream && s.concurrency == 32 {
			var err error
			if stopPerf, err = startPerf(ctx, t.pid, t.profile); err != nil {
				slog.Warn("no profile", "target", t.name, "err", err)
			}
		}
		r, err := runStep(ctx, t, s, cfg.warmup, cfg.duration, cfg.requests)
		if stopPerf != nil {
			if _, perr := stopPerf(); perr != nil {
				slog.Warn("no profile", "target", t.name, "err", perr)
			}
		}
		if err != nil {
			res.Note = fmt.Sprintf("step %s c=%d: %v", s.mode(), s.concurrency, err)
			return
		}
		switch {
		case s.stream:
			res.Stream32 = r
		case s.concurrency == 32:
			res.Plain32 = r
		default:
			res.Plain256 = r
		}
		logStep(t.name, s, r)
	}
	if m, err := readMem(t.pid); err == nil {
		res.PeakRSS = m.HWM
	}
	if t.slowURL != "" && cfg.streams > 0 {
		hdr := http.Header{"Authorization": {t.slowAuth}}
		slog.Info("opening streams", "target", t.name, "n", cfg.streams)
		var peak int64
		st := openStreams(ctx, t.slowURL, hdr, t.body(true), cfg.streams, 60*time.Second, func() {
			// All open: sample for a moment, the runtime may still be growing.
			for range 5 {
				if m, err := readMem(t.pid); err == nil {
					peak = max(peak, m.RSS)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		res.Streams, res.StreamsRSS = st, peak
		slog.Info("open streams measured", "target", t.name, "open", st.Open, "rss_mb", mb(peak), "errors", st.Errors)
		if st.Errors > 0 {
			slog.Warn("streams failed", "target", t.name, "errors", st.Errors, "first", st.FirstError)
		}
	}
}

// runStep runs one closed-loop step of s on t.
func runStep(ctx context.Context, t target, s stepDef, warmup, duration time.Duration, requests int) (*loadResult, error) {
	spec := loadSpec{
		URL: t.chatURL, Body: t.body(s.stream), Stream: s.stream, Concurrency: s.concurrency,
		Warmup: warmup, Duration: duration, Requests: requests,
		CPU:   func() (time.Duration, error) { return readCPU(t.pid) },
		DBCPU: t.dbCPU,
	}
	if t.auth != "" {
		spec.Header = http.Header{"Authorization": {t.auth}}
	}
	return runLoad(ctx, spec)
}

// logStep reports a finished step, and its failures, as it happens.
func logStep(name string, s stepDef, r *loadResult) {
	slog.Info("step done", "target", name, "mode", s.mode(), "c", s.concurrency,
		"req/s", fmt.Sprintf("%.0f", r.RPS()), "p50", r.P(50), "p99", r.P(99),
		"cpu/req", r.CPUPerRequest(), "errors", r.Errors)
	if r.Errors > 0 {
		slog.Warn("requests failed", "target", name, "errors", r.Errors, "first", r.FirstError)
	}
}
