package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sluicehq/sluice/database"
)

// adminConfig is the command line of `bench admin`.
type adminConfig struct {
	args      []string
	size      adminSize
	postgres  string
	noSQLite  bool
	write     string
	runs      int
	warmups   int
	budget    time.Duration
	repo      string
	sluiceBin string
	keep      bool
	revision  string
}

func parseAdminConfig(args []string) (*adminConfig, error) {
	cfg := &adminConfig{args: args}
	fs := flag.NewFlagSet("bench admin", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./bench admin [flags]\n\nLoads months of traffic into a fresh database, starts Sluice on it and times the dashboard's GraphQL queries.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&cfg.size.Keys, "keys", 100_000, "API keys")
	fs.IntVar(&cfg.size.Services, "services", 1_000, "services the keys are spread over")
	fs.IntVar(&cfg.size.Records, "records", 10_000_000, "usage records")
	fs.IntVar(&cfg.size.Days, "days", 90, "days the usage records span, ending now")
	fs.StringVar(&cfg.postgres, "postgres", "", "also measure on PostgreSQL at this DSN (a fresh schema is created and dropped)")
	fs.BoolVar(&cfg.noSQLite, "no-sqlite", false, "skip SQLite (with --postgres: PostgreSQL only)")
	fs.StringVar(&cfg.write, "write", "", "write the results into this Markdown file's \"Admin plane at scale\" section (e.g. docs/benchmarks.md)")
	fs.IntVar(&cfg.runs, "runs", 50, "measured runs of each query")
	fs.IntVar(&cfg.warmups, "warmups", 5, "unmeasured runs of each query first")
	fs.DurationVar(&cfg.budget, "query-time", time.Minute, "stop measuring a query after this long, once it has 3 measured runs (its row says how many)")
	fs.StringVar(&cfg.repo, "repo", "", "Sluice repository to build (default: the module the harness runs in)")
	fs.StringVar(&cfg.sluiceBin, "sluice-bin", "", "use this Sluice binary instead of building one")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the work folder (binary, databases, logs) and the PostgreSQL schema, whose settings go to postgres.env in the folder")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	s := cfg.size
	if s.Keys < 1 || s.Services < 1 || s.Records < 1 || s.Days < 1 || cfg.runs < 1 || cfg.warmups < 0 {
		return nil, errors.New("--keys, --services, --records, --days and --runs must be positive")
	}
	if cfg.noSQLite && cfg.postgres == "" {
		return nil, errors.New("--no-sqlite leaves nothing to measure without --postgres")
	}
	return cfg, nil
}

// adminResult is the admin step on one database.
type adminResult struct {
	DB      string // "SQLite" or "PostgreSQL"
	Size    adminSize
	Loaded  *adminLoaded
	Timings []adminTiming
	Paging  adminPaging
	DBSize  *dbSize
	Err     string
}

// adminRun is everything one `bench admin` measured.
type adminRun struct {
	cfg               *adminConfig
	started, finished time.Time
	loadAvg           string
	results           []*adminResult
}

func runAdminCommand(ctx context.Context, args []string) error {
	cfg, err := parseAdminConfig(args)
	if err != nil {
		return err
	}
	work, cleanup, err := workFolder("sluice-bench-admin-", cfg.keep)
	if err != nil {
		return err
	}
	defer cleanup()
	run := &adminRun{cfg: cfg, started: time.Now(), loadAvg: loadAverage()}
	bin, docs, err := prepareAdmin(ctx, cfg, work)
	if err != nil {
		return err
	}
	var dbs []string
	if !cfg.noSQLite {
		dbs = append(dbs, "SQLite")
	}
	if cfg.postgres != "" {
		dbs = append(dbs, "PostgreSQL")
	}
	for _, label := range dbs {
		res, err := runAdmin(ctx, adminSpec{bin: bin, work: work, db: label, postgres: cfg.postgres, size: cfg.size,
			docs: docs, runs: cfg.runs, warmups: cfg.warmups, budget: cfg.budget, keep: cfg.keep})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			slog.Error("admin step failed", "db", label, "err", err)
			res = &adminResult{DB: label, Size: cfg.size, Err: err.Error()}
		}
		run.results = append(run.results, res)
	}
	run.finished = time.Now()
	for _, r := range run.results {
		fmt.Println(r.markdown())
	}
	if cfg.write != "" {
		if err := writeAdminDoc(cfg.write, run); err != nil {
			return err
		}
		slog.Info("wrote the results", "file", cfg.write)
	}
	for _, r := range run.results {
		if r.Err != "" {
			return fmt.Errorf("%s: %s", r.DB, r.Err)
		}
	}
	return nil
}

// prepareAdmin builds (or finds) the Sluice binary and reads the
// dashboard's documents from the repository it was built from.
func prepareAdmin(ctx context.Context, cfg *adminConfig, work string) (bin string, docs *dashboardDocs, err error) {
	repo := cfg.repo
	if repo == "" {
		if repo, err = moduleRoot(ctx); err != nil {
			return "", nil, err
		}
	}
	bc := &config{repo: repo, sluiceBin: cfg.sluiceBin}
	if bin, err = sluiceBinary(ctx, bc, work); err != nil {
		return "", nil, err
	}
	cfg.revision = bc.revision
	docs, err = readDashboardDocs(filepath.Join(repo, "web", "src", "gql", "graphql.ts"))
	return bin, docs, err
}

// adminSpec is one admin step: a database, a data set, and the binary and
// documents to time it with.
type adminSpec struct {
	bin, work string
	db        string // "SQLite" or "PostgreSQL"
	postgres  string
	size      adminSize
	docs      *dashboardDocs
	runs      int
	warmups   int
	budget    time.Duration // per query; see timeQuery
	// keep leaves the PostgreSQL schema in place, its settings written to
	// postgres.env in the work folder, to start Sluice on it again.
	keep bool
	// check, when set, runs against the loaded gateway before the queries
	// are timed.
	check func(ctx context.Context, c *adminClient, l *adminLoaded) error
}

// runAdmin loads the data set into a fresh database, starts Sluice on it
// with retention past the data's age, times every query and measures the
// database's size.
func runAdmin(ctx context.Context, spec adminSpec) (*adminResult, error) {
	res := &adminResult{DB: spec.db, Size: spec.size}
	name := "admin-" + strings.ToLower(spec.db)
	var db *sluiceDB
	var target database.Target
	var err error
	if spec.db == "PostgreSQL" {
		if db, err = postgresDB(ctx, spec.postgres); err != nil {
			return nil, err
		}
		if spec.keep {
			// KEY='value' lines, for a shell to source (the URL holds &).
			var env strings.Builder
			for _, e := range db.env {
				k, v, _ := strings.Cut(e, "=")
				fmt.Fprintf(&env, "%s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
			}
			if err := os.WriteFile(filepath.Join(spec.work, "postgres.env"), []byte(env.String()), 0o600); err != nil {
				return nil, fmt.Errorf("keep the PostgreSQL settings: %w", err)
			}
		} else {
			defer db.drop()
		}
		dsn := ""
		for _, e := range db.env {
			if v, ok := strings.CutPrefix(e, "DATABASE_URL="); ok {
				dsn = v
			}
		}
		if target, err = database.ParseURL(dsn, ""); err != nil {
			return nil, err
		}
	} else {
		db = sqliteDB()
		data := filepath.Join(spec.work, "data-"+name)
		if err := os.MkdirAll(data, 0o700); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		if target, err = database.ParseURL("", filepath.Join(data, "sluice.db")); err != nil {
			return nil, err
		}
	}
	slog.Info("loading the admin data set", "db", spec.db, "keys", spec.size.Keys, "services", spec.size.Services,
		"records", spec.size.Records, "days", spec.size.Days)
	if res.Loaded, err = loadAdminData(ctx, target, spec.size, time.Now()); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	// Retention past the data's age, so the gateway prunes none of it.
	retention := time.Duration(spec.size.Days+30) * 24 * time.Hour
	db.env = append(db.env, "SLUICE_USAGE_RETENTION="+retention.String())
	inst, err := startSluice(ctx, spec.bin, spec.work, name, db)
	if err != nil {
		return nil, fmt.Errorf("start Sluice: %w", err)
	}
	defer inst.proc.stop()
	c, err := loginAdmin(ctx, inst.baseURL)
	if err != nil {
		return nil, err
	}
	if spec.check != nil {
		if err := spec.check(ctx, c, res.Loaded); err != nil {
			return nil, err
		}
	}
	qs, err := adminQueries(ctx, c, spec.docs, res.Loaded)
	if err != nil {
		return nil, err
	}
	var mutations []adminQuery
	for _, q := range qs {
		if q.mutation {
			mutations = append(mutations, q)
			continue
		}
		res.Timings = append(res.Timings, timeAndLog(ctx, c, q, spec))
	}
	slog.Info("walking every key", "db", spec.db)
	res.Paging = walkKeys(ctx, c)
	for _, q := range mutations {
		res.Timings = append(res.Timings, timeAndLog(ctx, c, q, spec))
	}
	if res.DBSize, err = measureSize(ctx, target); err != nil {
		return nil, fmt.Errorf("measure the database: %w", err)
	}
	return res, ctx.Err()
}

func timeAndLog(ctx context.Context, c *adminClient, q adminQuery, spec adminSpec) adminTiming {
	t := timeQuery(ctx, c, q, spec.warmups, spec.runs, cmp.Or(spec.budget, time.Minute))
	if t.Err != "" {
		slog.Warn("query failed", "db", spec.db, "query", q.name, "err", t.Err)
	} else {
		slog.Info("query timed", "db", spec.db, "query", q.name, "p50", t.P50, "p99", t.P99)
	}
	return t
}

// title names a result's database and data set.
func (r *adminResult) title() string {
	s := r.Size
	return fmt.Sprintf("%s: %s keys over %s services, %s usage records over %d days",
		r.DB, thousands(s.Keys), thousands(s.Services), thousands(s.Records), s.Days)
}

// markdown renders one result: the load, the query table, the walk
// through every key and the database's size.
func (r *adminResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", r.title())
	if r.Err != "" {
		fmt.Fprintf(&b, "Not measured: %s\n", oneLine(r.Err))
		return b.String()
	}
	l := r.Loaded
	fmt.Fprintf(&b, "Loaded %s services and %s keys in %s; %s usage records with their hourly roll-ups in %s (%s records/s).\n\n",
		thousands(len(l.ServiceIDs)), thousands(len(l.KeyIDs)), l.KeysTook.Round(100*time.Millisecond),
		thousands(l.Records), l.RecordsTook.Round(100*time.Millisecond), thousands(int(float64(l.Records)/l.RecordsTook.Seconds())))
	b.WriteString("| query | p50 ms | p99 ms | runs |\n| --- | ---: | ---: | ---: |\n")
	for _, t := range r.Timings {
		if t.Err != "" {
			fmt.Fprintf(&b, "| %s | error | %s | |\n", t.Name, strings.ReplaceAll(oneLine(t.Err), "|", "\\|"))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", t.Name, ms(t.P50), ms(t.P99), t.Runs)
	}
	p := r.Paging
	if p.Err != "" {
		fmt.Fprintf(&b, "| every key once, `apiKeys(first: 200, after: …)` | error | %s | |\n", oneLine(p.Err))
	} else {
		fmt.Fprintf(&b, "| every key once, `apiKeys(first: 200, after: …)`: %d pages, %s keys in %s | %s a page | | 1 |\n",
			p.Pages, thousands(len(p.Keys)), p.Took.Round(10*time.Millisecond), ms(p.Took/time.Duration(max(p.Pages, 1))))
	}
	if s := r.DBSize; s != nil {
		perM := func(n int64) string { return mb(n * 1_000_000 / int64(max(l.Records, 1))) }
		fmt.Fprintf(&b, "\nDatabase size (live pages): %s MB, %s MB per million usage records.", mb(s.Total), perM(s.Total))
		if u, ok := s.Tables["usage_records"]; ok {
			fmt.Fprintf(&b, " The usage records with their indexes: %s MB, %s MB per million.", mb(u), perM(u))
		}
		b.WriteString("\n")
		if len(s.Tables) > 0 {
			b.WriteString("\n| table (with its indexes) | MB |\n| --- | ---: |\n")
			for _, t := range s.largest(1 << 20) {
				fmt.Fprintf(&b, "| %s | %s |\n", t, mb(s.Tables[t]))
			}
		} else if s.Note != "" {
			fmt.Fprintf(&b, "\n(%s)\n", s.Note)
		}
	}
	return b.String()
}

// thousands renders n with thousands separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// The admin results go in the results file under adminHeading, each
// database and size between markers of its own, so that runs of other
// sizes or databases are kept.
const adminHeading = "## Admin plane at scale"

func adminMarkers(r *adminResult) (begin, end string) {
	key := fmt.Sprintf("%s %d/%d/%d/%d", strings.ToLower(r.DB), r.Size.Keys, r.Size.Services, r.Size.Records, r.Size.Days)
	return "<!-- bench-admin:begin " + key + " (generated by go run ./bench admin --write) -->", "<!-- bench-admin:end " + key + " -->"
}

// writeAdminDoc puts each result of run into path under adminHeading,
// replacing the earlier run of the same database and size.
func writeAdminDoc(path string, run *adminRun) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	doc := string(old)
	if !strings.Contains(doc, adminHeading+"\n") {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + adminHeading + "\n\n" + adminIntro + "\n"
	}
	for _, r := range run.results {
		begin, end := adminMarkers(r)
		section := begin + "\n" + run.about() + "\n" + r.markdown() + end + "\n"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i >= 0 && j > i {
			doc = doc[:i] + section + strings.TrimPrefix(doc[j+len(end):], "\n")
			continue
		}
		// New: at the end of the admin section (before the next "## ").
		h := strings.Index(doc, adminHeading+"\n")
		next := strings.Index(doc[h+len(adminHeading):], "\n## ")
		if next < 0 {
			doc = strings.TrimRight(doc, "\n") + "\n\n" + section
		} else {
			at := h + len(adminHeading) + next + 1
			doc = doc[:at] + section + "\n" + doc[at:]
		}
	}
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

const adminIntro = "`go run ./bench admin` loads months of traffic straight into a fresh database " +
	"(an organization, its admin, services, keys, usage records over the days with the hourly roll-ups " +
	"and budget windows they imply, written by Sluice's own usage writer and roll-up code), starts the real binary " +
	"on it with retention past the data's age, logs in as the admin and times each dashboard query over `/graphql` " +
	"(the dashboard's own documents from `web/src/gql`, where it sends one): p50 and p99 of the measured runs after warm-ups. " +
	"Sizes are live pages: SQLite (page_count − freelist_count) × page_size, split by `dbstat`; PostgreSQL `pg_total_relation_size`."

// about is when, where and how a run was made.
func (run *adminRun) about() string {
	var b strings.Builder
	rep := &report{cfg: &config{args: run.cfg.args}}
	cmd := strings.Replace(rep.commandLine(), "go run ./bench", "go run ./bench admin", 1)
	writeRunFacts(&b, run.started, run.finished, run.cfg.revision, run.loadAvg, cmd)
	fmt.Fprintf(&b, "- **Runs**: %d measured after %d warm-ups a query, fewer (at least %d) where a query's runs passed %s (createAPIKey: new keys, no warm-up)\n",
		run.cfg.runs, run.cfg.warmups, minRuns, run.cfg.budget)
	return b.String()
}
