// Command sluice is a self-hosted LLM API gateway: a GraphQL admin API and
// dashboard to configure it, and a proxy that applications call with their
// own sk_ keys. This file wires the parts together: configuration, the
// database and its migrations, the HTTP routes, and graceful shutdown.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/bodycapture"
	"github.com/sluicehq/sluice/bodyread"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/connlimit"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/gcpace"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/health"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/logbound"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/pace"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/proxy"
	"github.com/sluicehq/sluice/rollup"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/tracing"
	"github.com/sluicehq/sluice/upstream"
	"github.com/sluicehq/sluice/usageexport"
	"github.com/sluicehq/sluice/usagefeed"
	"github.com/sluicehq/sluice/usagelog"
	"github.com/sluicehq/sluice/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code and writes only
// to the writers it is given, so tests can drive every command.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		err = migrate(ctx, args, getenv, stdout, stderr)
	case "admin":
		err = adminCommand(ctx, args, getenv, stdout, stderr)
	case "backup":
		err = backup(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, args, getenv, stdout)
	case "rotate-master-key":
		err = rotateMasterKey(ctx, args, getenv, stdout, stderr)
	case "apply":
		err = applyCommand(ctx, args, getenv, stdout, stderr)
	case "export":
		err = exportCommand(ctx, args, getenv, stdout, stderr)
	case "help":
		config.Usage(stdout, "sluice")
	default:
		err = fmt.Errorf("unknown command %q; see sluice --help", cmd)
	}
	switch {
	case err == nil:
		return 0
	case config.IsHelp(err):
		return 0
	default:
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return 1
	}
}

// gateway is a started Sluice minus its listener: what tests and the serve
// command share.
type gateway struct {
	cfg     *config.Config
	db      *database.DB
	log     *slog.Logger
	keyring *secrets.Keyring
	auth    *auth.Authenticator
	// credentialTests limits testProviderCredential to 10 a minute per caller.
	credentialTests *auth.Limiter
	budgets         budget.Ledger
	pace            pace.Limiter
	prober          *headroom.Prober
	metrics         *metrics.Metrics
	feed            *livefeed.Hub
	changes         changefeed.Feed
	usage           *usagelog.Writer
	// bodies writes the captured request and response bodies.
	bodies  *bodycapture.Writer
	proxy   *proxy.Proxy
	handler http.Handler
	// ready is /readyz: unready once the shutdown begins.
	ready *health.Readiness
	// stop ends the background work (reservation sweeper, alert webhook).
	stop context.CancelFunc

	// access is the access log; nil when off.
	access *accesslog.Writer
	// sso is single sign-on; nil when off.
	sso *auth.OIDC
	// tracer traces proxied requests; nil when tracing is off.
	tracer trace.Tracer
}

// openGateway opens and migrates the database, completes the secrets and
// builds the HTTP routes.
func openGateway(ctx context.Context, cfg *config.Config, log *slog.Logger, access *accesslog.Writer, tracer trace.Tracer) (*gateway, error) {
	target, secretsPath, err := databaseTarget(cfg)
	if err != nil {
		return nil, err
	}
	created, err := cfg.EnsureSecrets(secretsPath, target.Dialect == dialect.SQLite)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("generated a master key and JWT secret for the embedded database; back this file up with it", "file", secretsPath)
	}
	keyring, err := gatewayKeyring(cfg)
	if err != nil {
		return nil, err
	}

	db, _, err := openDatabase(ctx, target, log, true)
	if err != nil {
		return nil, err
	}
	log.Info("database ready", "dialect", db.Dialect, "file", target.Path)

	password, err := auth.Bootstrap(ctx, db.Client, cfg.AdminPassword)
	if err != nil {
		db.Close()
		return nil, err
	}
	if password != "" && cfg.AdminPassword == "" {
		// Printed once, at the only moment it exists in clear.
		log.Warn("created the first admin; this password is shown only now, change it or keep it safe",
			"username", "admin", "password", password)
	} else if password != "" {
		log.Info("created the first admin with SLUICE_ADMIN_PASSWORD", "username", "admin")
	}
	added, updated, err := pricing.Sync(ctx, db.Client)
	if err != nil {
		db.Close()
		return nil, err
	}
	log.Info("price catalog loaded", "added", added, "updated", updated)
	tokens, err := auth.NewTokens(cfg.JWTSecret, cfg.TokenTTL)
	if err != nil {
		db.Close()
		return nil, err
	}

	g := &gateway{cfg: cfg, db: db, log: log, keyring: keyring, access: access, tracer: tracer, auth: auth.NewAuthenticator(db.Client, tokens, log),
		credentialTests: auth.NewLimiter("credential-test", 10, time.Minute),
		ready:           &health.Readiness{Ping: db.Ping, Log: log}}
	g.auth.PasswordLoginOff = !cfg.PasswordLogin
	if cfg.OIDC.Enabled() {
		g.sso = auth.NewOIDC(g.auth, keyring, cfg.OIDC)
	}
	g.auth.Keyring = keyring // two-factor secrets are sealed like provider keys
	if db.Dialect == dialect.Postgres {
		// Replicas count failed logins and credential tests together; the
		// one process on an SQLite file counts them in memory.
		marks := auth.NewMarks(db.SQL, db.Dialect)
		g.auth.ShareLimits(marks)
		g.credentialTests.Shared = marks
	}
	// One process owns an SQLite file: budgets in memory, written behind.
	// Replicas share PostgreSQL: each leases slices of the headroom.
	alerts := make(chan budget.Alert, 1024)
	g.budgets = budget.New(db, budget.Options{Log: log, Alerts: alerts})
	// Pace limits follow the budgets' policy when the database is down.
	g.pace = pace.New(db, pace.Options{Log: log, FailOpen: cfg.BudgetFailOpen})
	g.prober = headroom.New(g.outbound())
	if cfg.ProviderRefreshInterval > 0 {
		g.prober.MinRefresh = cfg.ProviderRefreshInterval
	}
	g.metrics = metrics.New()
	g.feed = livefeed.New()
	g.prober.OnChange = g.feed.PublishRateLimits
	if err := g.startProxy(ctx); err != nil {
		db.Close()
		return nil, err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	g.stop = stop
	go g.budgets.Run(bg)
	go g.pace.Run(bg)
	go (&budget.Webhook{Client: db.Client, Outbound: g.outbound(), Log: log}).Run(bg, alerts)
	go g.pruneUsage(bg)
	g.handler = g.bodyLimits().Handler(g.routes())
	// Start-up (migrations, the catalog, the first admin's password hash)
	// is the process's memory peak; hand that back to the OS now instead of
	// idling at it.
	debug.FreeOSMemory()
	return g, nil
}

// gatewayKeyring seals under the master key and opens what it or the
// previous master key (during a rotation) sealed.
func gatewayKeyring(cfg *config.Config) (*secrets.Keyring, error) {
	master, err := secrets.ParseMasterKey(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	var old [][]byte
	if cfg.PreviousMasterKey != "" {
		previous, err := secrets.ParseMasterKey(cfg.PreviousMasterKey)
		if err != nil {
			return nil, fmt.Errorf("SLUICE_PREVIOUS_MASTER_KEY: %w", err)
		}
		old = append(old, previous)
	}
	return secrets.NewKeyring(master, old...)
}

// outbound is the one policy every outbound connection follows: the
// proxy's to providers, the live-usage probe's and the budget webhook's.
func (g *gateway) outbound() upstream.Policy {
	return upstream.Policy{DenyPrivate: g.cfg.DenyPrivateUpstreams, ConnectTimeout: g.cfg.UpstreamConnectTimeout}
}

// routes mounts every endpoint of the binary.
func (g *gateway) routes() http.Handler {
	mux := http.NewServeMux()
	gql := graph.NewHandler(&graph.Resolver{Client: g.db.Client, DB: g.db, Log: g.log, Auth: g.auth, Keyring: g.keyring, Budgets: g.budgets, Pace: g.pace,
		Prober: g.prober, CredentialTests: g.credentialTests, Feed: g.feed,
		Changes: g.changes, DenyPrivateUpstreams: g.cfg.DenyPrivateUpstreams, TargetHealth: g.proxy, SSO: g.sso}, graph.Options{
		Introspection:  g.cfg.Playground,
		AllowedOrigins: g.cfg.CORSOrigins,
		Limits: graph.QueryLimits{MaxTokens: g.cfg.GraphQLMaxTokens, MaxFields: g.cfg.GraphQLMaxFields,
			MaxRepeats: g.cfg.GraphQLMaxRepeats, MaxDirectives: g.cfg.GraphQLMaxDirectives},
		QueryCacheBytes:         int64(g.cfg.GraphQLQueryCacheMiB) << 20,
		MaxPageSize:             g.cfg.MaxPageSize,
		AuditAnonymousPerMinute: g.cfg.AuditAnonymousPerMinute,
		Websocket: graph.WebsocketOptions{InitTimeout: g.cfg.WebsocketInitTimeout, MaxMessageBytes: g.cfg.WebsocketMaxMessage,
			MaxPerCaller: g.cfg.WebsocketMaxPerCaller, MaxSubscriptions: g.cfg.WebsocketMaxSubscriptions, Recheck: g.cfg.SubscriptionRecheck},
	})
	// One bucket per address covers anonymous GraphQL and the REST login.
	// Only these routes key anything on the client's address (limits, the
	// audit log), so only they resolve it; the proxy does not pay for it.
	anonymous := auth.NewThrottle(g.cfg.AnonymousRate, g.cfg.AnonymousBurst)
	byAddress := g.cfg.TrustedProxies.Middleware
	mux.Handle("/graphql", byAddress(g.cors().Handler(g.auth.Middleware(anonymous.GraphQL(gql)))))
	mux.Handle("POST /api/admin/auth/login", byAddress(g.cors().Handler(anonymous.REST(g.auth.LoginHandler()))))
	if g.sso != nil {
		// Single sign-on is the browser's own navigation and its cookies:
		// same origin only, so no CORS.
		mux.Handle("GET "+auth.OIDCLoginPath, byAddress(anonymous.REST(g.sso.LoginHandler())))
		mux.Handle("GET "+auth.OIDCCallbackPath, byAddress(anonymous.REST(g.sso.CallbackHandler())))
		mux.Handle("POST "+auth.OIDCSessionPath, byAddress(anonymous.REST(g.sso.SessionHandler())))
	}
	// The usage log as CSV, to the same callers as the API: the address
	// bucket also bounds how often one address starts an export.
	mux.Handle("GET /api/admin/usage.csv", byAddress(g.cors().Handler(g.auth.Middleware(anonymous.REST(usageexport.Handler(g.db.Client, g.log))))))
	if g.cfg.Playground {
		explorer := web.Playground()
		mux.Handle("GET /playground", explorer)
		mux.Handle("GET /playground/", explorer)
	}
	mux.HandleFunc("GET "+health.LivePath, health.Live)
	mux.Handle("GET "+health.ReadyPath, g.ready)
	g.proxy.Mount(mux)
	mux.Handle("GET /metrics", g.mainMetrics())
	mux.Handle("/", web.Handler())
	return proxy.CanonicalPaths(mux)
}

// bodyLimits bounds how request bodies arrive: in time, in rate, and in
// bytes held across requests in flight. A body cut short is answered in
// the GraphQL error shape on /graphql, elsewhere in the shape of the
// protocol the path belongs to.
func (g *gateway) bodyLimits() *bodyread.Limiter {
	return bodyread.New(bodyread.Options{
		Timeout: g.cfg.BodyReadTimeout, MinRate: g.cfg.BodyMinRate, Grace: g.cfg.BodyRateGrace,
		MaxInFlight: g.cfg.BodyBufferLimit,
		Refuse: func(w http.ResponseWriter, r *http.Request, status int, msg string) {
			if r.URL.Path != "/graphql" {
				// The proxy's own codes for a body too large and for no room.
				code := map[int]string{http.StatusServiceUnavailable: "gateway_busy", http.StatusRequestEntityTooLarge: "request_too_large"}[status]
				proxy.WriteError(w, r, status, cmp.Or(code, "request_body_timeout"), msg)
				return
			}
			// The codes the endpoint gives these cases itself: a body too large
			// is the caller's input, one too slow a bad HTTP request, no room
			// the gateway's state.
			code := graph.CodeBadRequest
			switch status {
			case http.StatusRequestEntityTooLarge:
				code = graph.CodeBadUserInput
			case http.StatusServiceUnavailable:
				code = graph.CodeUnavailable
			}
			graph.WriteError(w, status, code, msg)
		},
	})
}

// metricsHandler is /metrics, behind the metrics token when one is set.
func (g *gateway) metricsHandler() http.Handler {
	if g.cfg.MetricsToken == "" {
		return g.metrics.Handler()
	}
	return metrics.RequireToken(g.cfg.MetricsToken, g.metrics.Handler())
}

// mainMetrics is /metrics on the main listener, which anyone can reach:
// served only with a token, as the series name every organization's
// services and their costs.
func (g *gateway) mainMetrics() http.Handler {
	if g.cfg.MetricsToken != "" && g.cfg.MetricsAddr != "off" {
		return g.metricsHandler()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "metrics are not served here: set --metrics-token (SLUICE_METRICS_TOKEN) or read them on --metrics-addr", http.StatusNotFound)
	})
}

// pruneUsage deletes raw usage records older than the retention period,
// at start and then daily; hourly roll-ups keep the history. It deletes
// the captured bodies whose own retention ended likewise. Then it
// refreshes SQLite's planner statistics, which the usage log's filters
// need to pick their indexes as the data grows.
func (g *gateway) pruneUsage(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		n, err := rollup.Prune(ctx, g.db, time.Now().Add(-g.cfg.UsageRetention))
		if err != nil {
			g.log.Warn("prune usage records", "err", err)
		} else if n > 0 {
			g.log.Info("pruned usage records past retention", "count", n, "retention", g.cfg.UsageRetention)
		}
		if n, err := bodycapture.Prune(ctx, g.db, time.Now()); err != nil {
			g.log.Warn("prune captured bodies", "err", err)
		} else if n > 0 {
			g.log.Info("pruned captured bodies past their retention", "count", n)
		}
		if err := g.db.Optimize(ctx); err != nil {
			g.log.Warn("refresh planner statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// cors lets the configured browser origins (the dashboard's dev server)
// call the admin API. Tokens travel in the Authorization header, not
// cookies, so credentials mode stays off.
func (g *gateway) cors() *cors.Cors {
	return cors.New(cors.Options{
		AllowedOrigins: g.cfg.CORSOrigins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"Authorization", "Content-Type"},
		MaxAge:         600,
	})
}

// startProxy builds the proxy and what it feeds: the change feed that
// keeps its key cache fresh (LISTEN/NOTIFY on PostgreSQL, so every replica
// hears every admin change), and the usage writer, whose batches also
// update the hourly roll-ups, the live subscriptions and the metrics.
func (g *gateway) startProxy(ctx context.Context) error {
	g.changes = changefeed.NewLocal()
	if g.db.Dialect == dialect.Postgres {
		feed, err := changefeed.NewPostgres(ctx, g.db.SQL, g.db.DSN, g.log)
		if err != nil {
			return fmt.Errorf("listen for admin changes: %w", err)
		}
		g.changes = feed
	}
	// Live usage events reach subscribers on every replica: this one's
	// directly, the others' through the feed's messages (PostgreSQL).
	messenger, _ := g.changes.(changefeed.Messenger)
	derived := usagefeed.New(usagefeed.Options{
		DB: g.db, Budgets: g.budgets, Live: g.feed, Metrics: g.metrics, Messenger: messenger, Log: g.log,
	})
	go derived.Run(ctx)
	g.usage = usagelog.New(g.db, usagelog.Options{
		Log:      g.log,
		Interval: g.cfg.UsageInterval,
		Ledger:   derived.Ledger(),
		InTx:     derived.InTx,
		OnWrite:  derived.OnWrite,
	})
	g.metrics.Gauge("sluice_usage_queue_depth", "Usage records waiting to be written.", func() float64 { return float64(g.usage.Pending()) })
	g.metrics.Gauge("sluice_usage_dropped_total", "Usage records dropped because the queue was full.", func() float64 { return float64(g.usage.Dropped()) })
	if g.access != nil {
		g.metrics.Gauge("sluice_access_log_dropped_total", "Access log lines dropped because the output could not keep up.", func() float64 { return float64(g.access.Dropped()) })
	}
	redact, err := instanceRedactor(g.cfg.BodyRedactFile)
	if err != nil {
		return err
	}
	g.bodies = bodycapture.NewWriter(g.db, g.keyring, bodycapture.Options{Redact: redact, Log: g.log})
	g.metrics.Gauge("sluice_body_capture_dropped_total", "Captured request and response bodies dropped because their queue was full or their write failed.", func() float64 { return float64(g.bodies.Dropped()) })
	px, err := proxy.New(proxy.Options{
		DB: g.db, Keyring: g.keyring, Feed: g.changes, Usage: g.usage, Log: g.log, AccessLog: g.access, Bodies: g.bodies,
		Budget: proxy.Budgets(g.budgets), BudgetFailOpen: g.cfg.BudgetFailOpen,
		Pace: g.pace, OnPaceRefusal: g.metrics.PaceRefusal,
		Browser:              web.Handler(),
		OnRateLimits:         g.prober.Observe,
		DenyPrivateUpstreams: g.outbound().DenyPrivate,
		ConnectTimeout:       g.outbound().ConnectTimeout,
		FirstByteTimeout:     g.cfg.UpstreamFirstByteTimeout,
		StreamIdleTimeout:    g.cfg.StreamIdleTimeout,
		MaxAttempts:          g.cfg.MaxAttempts,
		Tracer:               g.tracer,
	})
	if err != nil {
		return err
	}
	g.proxy = px
	return nil
}

// instanceRedactor compiles the patterns of the body redaction file, one
// a line (blank lines skipped); nil without a file.
func instanceRedactor(path string) (*bodycapture.Redactor, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("body redaction file: %w", err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimRight(line, "\r"); line != "" {
			patterns = append(patterns, line)
		}
	}
	r, err := bodycapture.NewRedactor("body-redact-file", patterns)
	if err != nil {
		return nil, fmt.Errorf("body redaction file %s: %w", path, err)
	}
	return r, nil
}

// Close stops the proxy, writes every queued usage record, stops the
// background work and releases the database, in that order, so that
// nothing in flight is lost. Call it after the HTTP server has drained.
func (g *gateway) Close() error {
	g.proxy.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.usage.Close(ctx); err != nil {
		g.log.Error("write the last usage records", "err", err)
	}
	if err := g.bodies.Close(ctx); err != nil {
		g.log.Error("write the last captured bodies", "err", err)
	}
	if err := g.budgets.Flush(ctx); err != nil {
		g.log.Error("write the last budget spend", "err", err)
	}
	if err := g.pace.Close(ctx); err != nil {
		g.log.Error("hand back the pace limits' leases", "err", err)
	}
	g.changes.Close()
	g.stop()
	return g.db.Close()
}

// openAccessLog opens --access-log: nil for off, else a writer to stdout,
// stderr or the file appended to. close writes the lines still queued
// and closes the file; call it once the proxy has served its last request.
func openAccessLog(dest string, stdout, stderr io.Writer) (w *accesslog.Writer, close func(), err error) {
	var out io.Writer
	var file *os.File
	switch dest {
	case "", "off":
		return nil, func() {}, nil
	case "stdout":
		out = stdout
	case "stderr":
		out = stderr
	default:
		file, err = os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("open the access log: %w", err)
		}
		out = file
	}
	w = accesslog.New(out, 0)
	return w, func() {
		// Bounded: an output that stopped draining must not hold the exit.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			fmt.Fprintln(stderr, err)
		}
		if file != nil {
			_ = file.Close()
		}
	}, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	// No value a client sends makes a line longer than a few KiB.
	return slog.New(logbound.New(h, logbound.DefaultMax))
}

// serve runs the gateway until ctx is cancelled (SIGINT, SIGTERM), then
// stops accepting connections and waits up to the shutdown timeout for
// requests in flight.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse("sluice", args, getenv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	access, closeAccess, err := openAccessLog(cfg.AccessLog, stdout, stderr)
	if err != nil {
		return err
	}
	defer closeAccess()
	traces, err := tracing.Start(ctx, tracing.Config{Endpoint: cfg.OTelEndpoint, SampleRatio: cfg.OTelSampleRatio, Log: log}, getenv)
	if err != nil {
		return err
	}
	if traces != nil {
		log.Info("tracing: exporting spans over OTLP/HTTP", "sample_ratio", cfg.OTelSampleRatio)
	}
	// Deferred before the gateway's Close, so it runs after it: the spans
	// of the requests the drain let finish are flushed too.
	defer flushTraces(traces, cfg.ShutdownTimeout, log)
	g, err := openGateway(ctx, cfg, log, access, traces.Tracer())
	if err != nil {
		return err
	}
	defer g.Close()
	if gcpace.Start(ctx, gcpace.DefaultHeadroom) {
		log.Debug("garbage collector paced for a small live heap", "headroom_mb", gcpace.DefaultHeadroom>>20)
	}

	tcp, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	ln := connlimit.Wrap(tcp, cfg.MaxConns)
	g.metrics.Gauge("sluice_connections_open", "Client connections open on the main listener.", func() float64 { return float64(ln.Active()) })
	g.metrics.Gauge("sluice_connections_refused", "Client connections refused since start because --max-conns were open.", func() float64 { return float64(ln.Refused()) })
	// No ReadTimeout or WriteTimeout: bodyread bounds request bodies, and
	// an answer such as a stream may rightly last minutes.
	// Every request's context derives from base, so that the shutdown can
	// cut the requests still open once the drain has waited long enough.
	base, cut := context.WithCancelCause(context.Background())
	defer cut(nil)
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return base },
		Handler:           g.handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if a := cfg.MetricsAddr; a != "" && a != "off" {
		mln, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("listen for metrics on %s: %w", a, err)
		}
		msrv := &http.Server{Handler: g.metricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- msrv.Serve(mln) }()
		defer msrv.Close()
		log.Info("metrics are served separately", "addr", mln.Addr().String())
	}
	log.Info("sluice is listening", "addr", ln.Addr().String(),
		"dashboard", "http://"+displayAddr(ln.Addr())+"/", "graphql", "/graphql", "playground", cfg.Playground)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Unready first: a load balancer polling /readyz stops sending new
	// requests while those already sent are still served.
	g.ready.Drain()
	if cfg.DrainDelay > 0 {
		log.Info("shutting down; /readyz answers 503 while the load balancer notices", "drain_delay", cfg.DrainDelay)
		srv.SetKeepAlivesEnabled(false)
		time.Sleep(cfg.DrainDelay)
	}
	log.Info("shutting down; draining requests in flight", "timeout", cfg.ShutdownTimeout)
	if err := drain(srv, cut, cfg.ShutdownTimeout, cfg.ShutdownGrace, log); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// flushTraces exports the spans still queued, waiting at most timeout.
func flushTraces(p *tracing.Provider, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := p.Shutdown(ctx); err != nil {
		log.Error("tracing: spans lost at shutdown", "err", err)
	}
}

// drain stops srv in two steps: it waits up to timeout for the requests in
// flight to end, then cuts those still open (their contexts end with
// proxy.ErrShutdown: each tells its client, records what it delivered and
// settles its budget) and waits up to grace for them to do so. The usage
// writer and the budgets are closed after drain returns, so every request
// that ended in time is recorded. Cutting is part of a clean stop; only a
// request still open after the grace is an error, since its usage may be
// lost.
func drain(srv *http.Server, cut context.CancelCauseFunc, timeout, grace time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	err := srv.Shutdown(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
	log.Warn("requests still open after the shutdown timeout; cutting them and recording what they delivered", "timeout", timeout, "grace", grace)
	cut(proxy.ErrShutdown)
	ctx, cancel = context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests were still open %v after they were cut; their usage may be lost: %w", grace, err)
	}
	return nil
}

// displayAddr makes a listener address clickable: ":8080" listens on all
// interfaces, which a browser reaches as localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" {
		return "localhost:" + port
	}
	return a.String()
}

// healthcheck exits 0 when the gateway listening on --addr (or at --url)
// answers its readiness probe with 200 within --timeout: the container
// image's HEALTHCHECK, which has no curl to run.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var url string
	var timeout time.Duration
	cfg, err := config.ParseCommand("sluice healthcheck", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&url, "url", "", "readiness URL to check (default: /readyz on --addr, over loopback)")
		fs.DurationVar(&timeout, "timeout", 3*time.Second, "how long the check may take")
	})
	if err != nil {
		return err
	}
	if url == "" {
		if url, err = health.LocalURL(cfg.Addr); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	line, err := health.Check(ctx, url)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// backup copies the embedded SQLite database, while the gateway runs, into
// a new file: a consistent snapshot (VACUUM INTO reads in one
// transaction), compacted, that the gateway opens as it is. PostgreSQL is
// backed up with pg_dump.
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	cfg, err := config.ParseCommand("sluice backup", args, getenv, stdout, nil)
	if err != nil {
		return err
	}
	if file == "" {
		return errors.New("backup needs a file: sluice backup FILE")
	}
	target, secretsPath, err := databaseTarget(cfg)
	if err != nil {
		return err
	}
	if target.Dialect != dialect.SQLite || target.Path == "" {
		return errors.New("backup copies the embedded SQLite file; back PostgreSQL up with pg_dump (see docs/deploy.md)")
	}
	if _, err := os.Stat(target.Path); err != nil {
		return fmt.Errorf("no database to back up: %w", err)
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s exists; backup writes a new file", file)
	}
	db, _, err := openDatabase(ctx, target, newLogger(cfg, stderr), false)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.SQL.ExecContext(ctx, "VACUUM INTO ?", file); err != nil {
		return fmt.Errorf("back up %s: %w", target.Path, err)
	}
	// The copy holds what the database does: private to its owner.
	if err := os.Chmod(file, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", target.Path, file)
	if secretsPath != "" && getenv("SLUICE_MASTER_KEY") == "" {
		fmt.Fprintf(stdout, "keep %s with it: its master key is the only way to read the provider keys in the copy\n", secretsPath)
	}
	return nil
}

// migrate applies pending migrations, or with --dry-run prints their SQL;
// it refuses a database a later release migrated.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var dry bool
	cfg, err := config.ParseCommand("sluice migrate", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "print the pending migrations' SQL instead of applying it")
	})
	if err != nil {
		return err
	}
	target, _, err := databaseTarget(cfg)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, _, err := openDatabase(ctx, target, log, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := refuseAhead(ctx, db); err != nil {
		return err
	}
	if dry {
		pending, err := migrations.Pending(ctx, db.SQL, db.Dialect)
		if err != nil {
			return err
		}
		if len(pending) == 0 {
			fmt.Fprintln(stdout, "-- no pending migrations")
		}
		for _, m := range pending {
			fmt.Fprintf(stdout, "-- migration %s_%s\n%s\n", m.Version, m.Name, m.SQL)
		}
		return nil
	}
	ran, err := applyMigrations(ctx, db, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d migration(s) applied\n", len(ran))
	return nil
}

// adminCommand manages people from the command line: `admin create` adds a
// user to an organization (the default one unless --organization names
// another), `admin reset-password` sets a new password and ends the user's
// sessions, `admin reset-two-factor` turns off the two-factor of a user
// who lost the second factor and ends the user's sessions (audited as done
// from the command line), `admin create-organization` makes an organization (with
// --username as its first admin), and `admin add-member` gives an existing
// user a membership. A password comes from SLUICE_ADMIN_PASSWORD, or is
// generated and printed once.
func adminCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const subcommands = "create, reset-password, reset-two-factor, create-organization or add-member"
	if len(args) == 0 {
		return errors.New("admin needs a subcommand: " + subcommands + "; see sluice --help")
	}
	sub, args := args[0], args[1:]
	var username, role, orgName, name string
	cfg, err := config.ParseCommand("sluice admin", args, getenv, stdout, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "the user's name")
		fs.StringVar(&role, "role", string(auth.RoleAdmin), "admin or member")
		fs.StringVar(&orgName, "organization", "", "the organization's name (default: the default organization)")
		fs.StringVar(&name, "name", "", "the new organization's name (create-organization)")
	})
	if err != nil {
		return err
	}
	switch {
	case sub == "create-organization" && name == "":
		return errors.New("admin create-organization needs --name NAME")
	case sub != "create-organization" && username == "":
		return errors.New("admin " + sub + " needs --username NAME")
	}
	if role != string(auth.RoleAdmin) && role != string(auth.RoleMember) {
		return fmt.Errorf("role %q: use admin or member", role)
	}
	target, _, err := databaseTarget(cfg)
	if err != nil {
		return err
	}
	db, _, err := openDatabase(ctx, target, newLogger(cfg, stderr), true)
	if err != nil {
		return err
	}
	defer db.Close()
	org := func() (*ent.Organization, error) {
		if orgName == "" {
			return auth.DefaultOrganization(ctx, db.Client)
		}
		return auth.OrganizationNamed(ctx, db.Client, orgName)
	}
	password := cfg.AdminPassword
	generated := false
	switch sub {
	case "create", "reset-password":
		if generated = password == ""; generated {
			password = auth.GeneratePassword()
		}
	}
	switch sub {
	case "create":
		o, err := org()
		if err != nil {
			return err
		}
		if err := auth.CreateUser(ctx, db.Client, username, password, o.ID, auth.Role(role)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s %q in organization %q\n", role, username, o.Name)
	case "reset-password":
		if err := auth.ResetPassword(ctx, db.Client, username, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %q reset; its sessions ended\n", username)
	case "reset-two-factor":
		if _, err := auth.ResetTwoFactorNamed(ctx, db.Client, username, "command line"); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "two-factor of %q turned off, its recovery codes deleted; its sessions ended\n", username)
	case "create-organization":
		adminID := 0
		if username != "" {
			u, err := db.Client.User.Query().Where(user.Username(username)).Only(ctx)
			if err != nil {
				return fmt.Errorf("look up user %q: %w", username, err)
			}
			adminID = u.ID
		}
		o, err := auth.CreateOrganizationWithAdmin(ctx, db.Client, name, adminID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created organization %q (id %d)\n", o.Name, o.ID)
	case "add-member":
		o, err := org()
		if err != nil {
			return err
		}
		u, err := db.Client.User.Query().Where(user.Username(username)).Only(ctx)
		if err != nil {
			return fmt.Errorf("look up user %q: %w", username, err)
		}
		if _, err := auth.AddMember(ctx, db.Client, u.ID, o.ID, auth.Role(role)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %q to organization %q as %s\n", username, o.Name, role)
	default:
		return fmt.Errorf("unknown admin subcommand %q: use %s", sub, subcommands)
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown only now)\n", password)
	}
	return nil
}

// resealed is what resealAll re-sealed: provider keys and two-factor
// secrets, and captured request bodies.
type resealed struct{ secrets, bodies int }

// String is the count for the command's output.
func (r resealed) String() string {
	bodies := "bodies"
	if r.bodies == 1 {
		bodies = "body"
	}
	return fmt.Sprintf("%d provider key(s) and two-factor secret(s), and %d captured request %s", r.secrets, r.bodies, bodies)
}

// resealAll re-seals, in one transaction, every provider key and
// two-factor secret and captured body that keyring's primary key did not
// seal, and says how many of each.
func resealAll(ctx context.Context, target database.Target, keyring *secrets.Keyring, log *slog.Logger) (resealed, error) {
	db, _, err := openDatabase(ctx, target, log, true)
	if err != nil {
		return resealed{}, err
	}
	defer db.Close()
	var n resealed
	err = database.InTx(ctx, db.Client, func(tx *ent.Tx) error {
		keys, err := credentials.Rotate(ctx, tx.Client(), keyring)
		if err != nil {
			return err
		}
		totp, err := auth.ResealTwoFactor(ctx, tx.Client(), keyring)
		if err != nil {
			return err
		}
		n.secrets = keys + totp
		n.bodies, err = bodycapture.Rotate(ctx, tx.Client(), keyring)
		return err
	})
	if err != nil {
		return resealed{}, fmt.Errorf("rotate master key (nothing changed): %w", err)
	}
	return n, nil
}

// rotateMasterKey re-encrypts every stored provider key under a new master
// key, in one transaction: SLUICE_MASTER_KEY (or the embedded secrets
// file) is the current key, SLUICE_NEW_MASTER_KEY the new one (generated
// when unset). With the embedded default the secrets file is updated; with
// PostgreSQL the operator then sets SLUICE_MASTER_KEY to the new key on
// every replica.
func rotateMasterKey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Parse("sluice rotate-master-key", args, getenv, stdout)
	if err != nil {
		return err
	}
	target, secretsPath, err := databaseTarget(cfg)
	if err != nil {
		return err
	}
	if _, err := cfg.EnsureSecrets(secretsPath, target.Dialect == dialect.SQLite); err != nil {
		return err
	}
	if cfg.PreviousMasterKey != "" && getenv("SLUICE_NEW_MASTER_KEY") == "" {
		// The replicas already run on the new master key, opening the
		// rest with the previous one: re-seal the rest.
		keyring, err := gatewayKeyring(cfg)
		if err != nil {
			return err
		}
		n, err := resealAll(ctx, target, keyring, newLogger(cfg, stderr))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "re-encrypted %s, under master key %s; SLUICE_PREVIOUS_MASTER_KEY can now be removed from every replica\n", n, keyring.PrimaryID())
		return nil
	}
	oldKey, err := secrets.ParseMasterKey(cfg.MasterKey)
	if err != nil {
		return err
	}
	newEncoded := getenv("SLUICE_NEW_MASTER_KEY")
	generated := newEncoded == ""
	if generated {
		if newEncoded, err = secrets.GenerateMasterKey(); err != nil {
			return err
		}
	}
	newKey, err := secrets.ParseMasterKey(newEncoded)
	if err != nil {
		return fmt.Errorf("SLUICE_NEW_MASTER_KEY: %w", err)
	}
	keyring, err := secrets.NewKeyring(newKey, oldKey)
	if err != nil {
		return err
	}
	n, err := resealAll(ctx, target, keyring, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted %s, under master key %s\n", n, secrets.KeyID(newKey))
	if secretsPath != "" && getenv("SLUICE_MASTER_KEY") == "" {
		if err := config.ReplaceMasterKey(secretsPath, newEncoded); err != nil {
			return fmt.Errorf("the keys are re-encrypted but %s still holds the old master key; set SLUICE_MASTER_KEY to the new one: %w", secretsPath, err)
		}
		fmt.Fprintf(stdout, "updated %s\n", secretsPath)
		return nil
	}
	if generated {
		fmt.Fprintf(stdout, "new master key (set SLUICE_MASTER_KEY to it on every replica; shown only now):\n%s\n", newEncoded)
	} else {
		fmt.Fprintln(stdout, "set SLUICE_MASTER_KEY to the new key on every replica before restarting them")
	}
	return nil
}
