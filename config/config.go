// Package config reads Sluice's configuration from flags and the
// environment (a flag wins over its variable) and supplies the secrets the
// embedded default needs when the operator gave none.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/connlimit"
)

// Config is everything the gateway needs to start.
type Config struct {
	Addr        string
	DatabaseURL string
	MasterKey   string // base64 or hex, see secrets.ParseMasterKey
	// PreviousMasterKey still opens provider keys sealed before a
	// rotation; new ones are sealed under MasterKey.
	PreviousMasterKey string
	JWTSecret         string
	LogFormat         string // text or json
	LogLevel          string // debug, info, warn, error
	CORSOrigins       []string
	Playground        bool // serve /playground and allow introspection
	ShutdownTimeout   time.Duration
	// DrainDelay is how long, once a shutdown begins, the gateway keeps
	// serving with /readyz answering 503, before it stops accepting
	// connections: time for a load balancer to stop sending it requests.
	DrainDelay time.Duration
	// ShutdownGrace is how long the requests still open when the
	// shutdown timeout passes get, once cut, to record their usage.
	ShutdownGrace time.Duration
	TokenTTL      time.Duration // how long an admin login lasts
	// UsageInterval is how often usage records, with the budget spend of
	// their requests, are written: what a crash can lose.
	UsageInterval time.Duration
	// UsageRetention is how long raw usage records are kept; hourly
	// roll-ups are kept for good.
	UsageRetention time.Duration
	// BodyRedactFile names a file of regular expressions, one a line,
	// redacted from every captured body; empty for none.
	BodyRedactFile string
	// MetricsAddr is a separate listener for /metrics (host:port), empty
	// for none, or off to serve /metrics nowhere.
	MetricsAddr string
	// MetricsToken is the bearer token /metrics asks for. Without one,
	// /metrics is not served on the main listener.
	MetricsToken string
	// AccessLog is where one JSON line per proxied request goes: off
	// (none), stdout, stderr or a file appended to.
	AccessLog string
	// OTelEndpoint is the OTLP/HTTP base URL traces are exported to;
	// empty leaves it to the standard OTEL_EXPORTER_OTLP_* variables,
	// and tracing is off when they name none either.
	OTelEndpoint string
	// OTelSampleRatio is the share of new traces sampled; a request that
	// carries a traceparent follows its caller's decision.
	OTelSampleRatio float64
	// AnonymousRate and AnonymousBurst limit, per client address, the
	// GraphQL requests without a valid credential and the logins: a token
	// bucket refilled at AnonymousRate a second; 0 turns it off.
	AnonymousRate  float64
	AnonymousBurst int
	// TrustedProxies are the load balancers whose X-Forwarded-For names
	// the client that per-address limits count; empty trusts nobody.
	TrustedProxies auth.Proxies
	// MaxConns caps the connections open at once on the main listener;
	// 0 is no cap.
	MaxConns int
	// A request body must arrive within BodyReadTimeout, and at
	// BodyMinRate bytes a second or more once BodyRateGrace has passed;
	// BodyBufferLimit bounds the bytes of bodies held by requests in
	// flight.
	BodyReadTimeout, BodyRateGrace time.Duration
	BodyMinRate, BodyBufferLimit   int64
	// ReadHeaderTimeout bounds reading a request's headers, IdleTimeout
	// how long a kept-alive connection may wait for its next request.
	ReadHeaderTimeout, IdleTimeout time.Duration
	// DenyPrivateUpstreams refuses provider base URLs on loopback, private
	// or link-local addresses at save time, and every outbound connection
	// (proxy, live-usage probe, budget webhook) to them at connect time.
	DenyPrivateUpstreams bool
	// BudgetFailOpen admits requests when the budget or pace check cannot
	// reach the database; fail closed (503) otherwise.
	BudgetFailOpen bool
	// Upstream timeouts: connecting, waiting for response headers, and
	// silence between stream events.
	UpstreamConnectTimeout, UpstreamFirstByteTimeout, StreamIdleTimeout time.Duration
	// MaxAttempts is how many targets a request of a routed service may
	// try before its answer begins.
	MaxAttempts int
	// AdminPassword is the bootstrap admin's password (environment only:
	// a flag would show in the process list).
	AdminPassword string
	// DBMaxConns caps one replica's PostgreSQL connections.
	DBMaxConns int
	// DataDir is where the embedded SQLite database and its generated
	// secrets file live when DATABASE_URL is empty.
	DataDir string
	// GraphQL documents are measured against these before validation:
	// tokens, fields with fragments expanded, repeats of one response name
	// in a selection, directives in one place.
	GraphQLMaxTokens, GraphQLMaxFields, GraphQLMaxRepeats, GraphQLMaxDirectives int
	// GraphQLQueryCacheMiB bounds the memory of cached parsed queries.
	GraphQLQueryCacheMiB int
	// GraphQL admin API bounds: the largest page of a connection, the
	// audit rows a minute one address without a login may cause, and how
	// often a live provider-usage refresh may call the provider.
	MaxPageSize, AuditAnonymousPerMinute int
	ProviderRefreshInterval              time.Duration
	// Subscription websockets: the connection_init deadline, the largest
	// message, connections per caller, subscriptions per connection, and
	// how often a connection's credential is checked again.
	WebsocketInitTimeout                             time.Duration
	WebsocketMaxMessage                              int64
	WebsocketMaxPerCaller, WebsocketMaxSubscriptions int
	SubscriptionRecheck                              time.Duration
	// OIDC is single sign-on with an OpenID Connect provider; off without
	// an issuer.
	OIDC auth.OIDCConfig
	// OIDCClientSecretFile is a file holding the client secret, read when
	// the secret itself is not given.
	OIDCClientSecretFile string
	// PasswordLogin allows logging in with a password; turned off, only
	// single sign-on logs in (the admin command still works).
	PasswordLogin bool
}

// setting is one configuration entry: its flag, its variable, its default
// and what it does, so that --help and the README table say the same.
type setting struct {
	flag, env, def, usage string
	set                   func(c *Config, v string) error
}

var settings = []setting{
	{"addr", "SLUICE_ADDR", ":8080", "address to listen on (dashboard, /graphql, /playground, the proxy)",
		func(c *Config, v string) error { c.Addr = v; return nil }},
	{"database-url", "DATABASE_URL", "", "postgres://user:password@host:5432/db for PostgreSQL; empty for the embedded SQLite file sluice.db in --data-dir",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{"data-dir", "SLUICE_DATA_DIR", ".", "folder of the embedded SQLite database and its generated secrets file",
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"master-key", "SLUICE_MASTER_KEY", "", "32-byte key (base64 or hex) that encrypts provider keys at rest; generated into sluice.secrets for the embedded default, required with PostgreSQL",
		func(c *Config, v string) error { c.MasterKey = v; return nil }},
	{"previous-master-key", "SLUICE_PREVIOUS_MASTER_KEY", "", "the master key before a rotation: provider keys it sealed still open while replicas move to the new --master-key; sluice rotate-master-key then re-seals them and it can go",
		func(c *Config, v string) error { c.PreviousMasterKey = v; return nil }},
	{"jwt-secret", "SLUICE_JWT_SECRET", "", "secret that signs admin login tokens; generated into sluice.secrets for the embedded default, required with PostgreSQL",
		func(c *Config, v string) error { c.JWTSecret = v; return nil }},
	{"log-format", "SLUICE_LOG_FORMAT", "text", "log format: text or json",
		func(c *Config, v string) error {
			if v != "text" && v != "json" {
				return fmt.Errorf("log format %q: use text or json", v)
			}
			c.LogFormat = v
			return nil
		}},
	{"log-level", "SLUICE_LOG_LEVEL", "info", "log level: debug, info, warn or error",
		func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return fmt.Errorf("log level %q: use debug, info, warn or error", v)
		}},
	{"cors-origins", "SLUICE_CORS_ORIGINS", "http://localhost:5173", "comma-separated origins allowed to call /graphql from a browser (the dashboard's dev server by default)",
		func(c *Config, v string) error { c.CORSOrigins = splitList(v); return nil }},
	{"playground", "SLUICE_PLAYGROUND", "true", "serve the GraphQL playground at /playground and allow introspection",
		func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("playground %q: use true or false", v)
			}
			c.Playground = b
			return nil
		}},
	{"graphql-max-tokens", "SLUICE_GRAPHQL_MAX_TOKENS", "10000", "most lexical tokens in a GraphQL document (the standard introspection query has about 400)",
		intSetting(100, 1_000_000, func(c *Config, n int) { c.GraphQLMaxTokens = n })},
	{"graphql-max-fields", "SLUICE_GRAPHQL_MAX_FIELDS", "2000", "most fields in a GraphQL document with its fragments expanded, checked before validation",
		intSetting(100, 1_000_000, func(c *Config, n int) { c.GraphQLMaxFields = n })},
	{"graphql-max-repeats", "SLUICE_GRAPHQL_MAX_REPEATS", "50", "most times one field or alias may appear in one GraphQL selection, fragments expanded",
		intSetting(2, 100_000, func(c *Config, n int) { c.GraphQLMaxRepeats = n })},
	{"graphql-max-directives", "SLUICE_GRAPHQL_MAX_DIRECTIVES", "10", "most directives on one GraphQL field, fragment or operation",
		intSetting(1, 1000, func(c *Config, n int) { c.GraphQLMaxDirectives = n })},
	{"graphql-query-cache-mib", "SLUICE_GRAPHQL_QUERY_CACHE_MIB", "32", "memory (MiB, estimated) of parsed GraphQL queries kept for reuse; only queries that passed every limit are kept",
		intSetting(1, 4096, func(c *Config, n int) { c.GraphQLQueryCacheMiB = n })},
	{"shutdown-timeout", "SLUICE_SHUTDOWN_TIMEOUT", "30s", "how long a shutdown waits for in-flight requests and streams",
		zeroOrDurationSetting(func(c *Config, d time.Duration) { c.ShutdownTimeout = d })},
	{"drain-delay", "SLUICE_DRAIN_DELAY", "0s", "once a shutdown begins, how long to keep serving with /readyz answering 503 before closing the listener, so that a load balancer polling it stops sending requests first (0 when the platform removes the replica itself, as Kubernetes does with a preStop sleep)",
		zeroOrDurationSetting(func(c *Config, d time.Duration) { c.DrainDelay = d })},
	{"shutdown-grace", "SLUICE_SHUTDOWN_GRACE", "5s", "after the shutdown timeout, how long the requests and streams still open get, once cut, to record what they delivered (partial) and return their budget",
		durationSetting(func(c *Config, d time.Duration) { c.ShutdownGrace = d })},
	{"usage-interval", "SLUICE_USAGE_INTERVAL", "1s", "how often usage records, and the budget spend of the requests they record, are written together; a crash (kill -9) loses at most this long's worth of both, never one without the other",
		durationSetting(func(c *Config, d time.Duration) { c.UsageInterval = d })},
	{"usage-retention", "SLUICE_USAGE_RETENTION", "720h", "how long raw usage records are kept (hourly roll-ups are kept for good)",
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Hour {
				return fmt.Errorf("usage retention %q: use a duration of at least 1h, such as 720h", v)
			}
			c.UsageRetention = d
			return nil
		}},
	{"body-redact-file", "SLUICE_BODY_REDACT_FILE", "", "file of regular expressions (RE2, one a line) whose matches are redacted from every captured request and response body, beside the built-in key shapes",
		func(c *Config, v string) error { c.BodyRedactFile = v; return nil }},
	{"metrics-addr", "SLUICE_METRICS_ADDR", "", "serve Prometheus /metrics on this separate address (e.g. 127.0.0.1:9090); off serves it nowhere",
		func(c *Config, v string) error { c.MetricsAddr = v; return nil }},
	{"metrics-token", "SLUICE_METRICS_TOKEN", "", "bearer token that reading /metrics needs (at least 16 characters; prefer the variable, a flag shows in the process list); without it /metrics is served only on --metrics-addr",
		func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return errors.New("use a token of at least 16 characters")
			}
			c.MetricsToken = v
			return nil
		}},
	{"access-log", "SLUICE_ACCESS_LOG", "off", "one JSON line per proxied request (request id, key and service names, model, status, tokens, cost, latency; never a key or a body): off, stdout, stderr or a file to append to",
		func(c *Config, v string) error {
			if v == "" {
				return errors.New("access log: use off, stdout, stderr or a file path")
			}
			c.AccessLog = v
			return nil
		}},
	{"otel-endpoint", "SLUICE_OTEL_ENDPOINT", "", "OTLP/HTTP base URL to export OpenTelemetry traces to (e.g. http://collector:4318; spans go to its /v1/traces); empty: the standard OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and tracing is off when neither is set",
		func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
				return fmt.Errorf("otel endpoint %q: use an http:// or https:// URL such as http://collector:4318", v)
			}
			c.OTelEndpoint = v
			return nil
		}},
	{"otel-sample-ratio", "SLUICE_OTEL_SAMPLE_RATIO", "1", "share of new traces sampled, from 0 to 1; a request whose client sent a traceparent follows its sampled flag (parent-based)",
		func(c *Config, v string) error {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || !(r >= 0 && r <= 1) {
				return fmt.Errorf("otel sample ratio %q: use a number from 0 to 1", v)
			}
			c.OTelSampleRatio = r
			return nil
		}},
	{"deny-private-upstreams", "SLUICE_DENY_PRIVATE_UPSTREAMS", "false", "refuse provider base URLs that resolve to loopback, private or link-local addresses, and connect to no such address: not the proxy, the live-usage probe or budget alert webhooks",
		boolSetting(func(c *Config, b bool) { c.DenyPrivateUpstreams = b })},
	{"budget-fail-open", "SLUICE_BUDGET_FAIL_OPEN", "false", "admit proxied requests when budgets or pace limits cannot be checked (database down and, on PostgreSQL, the leases used up); by default they get 503",
		boolSetting(func(c *Config, b bool) { c.BudgetFailOpen = b })},
	{"upstream-connect-timeout", "SLUICE_UPSTREAM_CONNECT_TIMEOUT", "10s", "how long connecting to a provider may take",
		durationSetting(func(c *Config, d time.Duration) { c.UpstreamConnectTimeout = d })},
	{"upstream-first-byte-timeout", "SLUICE_UPSTREAM_FIRST_BYTE_TIMEOUT", "5m", "how long a provider may take to start answering",
		durationSetting(func(c *Config, d time.Duration) { c.UpstreamFirstByteTimeout = d })},
	{"stream-idle-timeout", "SLUICE_STREAM_IDLE_TIMEOUT", "2m", "how long a stream may go without an event before it is cut",
		durationSetting(func(c *Config, d time.Duration) { c.StreamIdleTimeout = d })},
	{"max-attempts", "SLUICE_MAX_ATTEMPTS", "2", "how many targets a request of a service with several targets may try before its answer begins (failover on connection errors, 429 and 5xx)",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10 {
				return fmt.Errorf("max attempts %q: use a whole number from 1 to 10", v)
			}
			c.MaxAttempts = n
			return nil
		}},
	{"db-max-conns", "SLUICE_DB_MAX_CONNS", "10", "most connections one replica opens to PostgreSQL (which allows 100 by default, shared by every replica and tool); requests wait for a free one rather than fail",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 2 || n > 1000 {
				return fmt.Errorf("database connections %q: use a whole number from 2 to 1000", v)
			}
			c.DBMaxConns = n
			return nil
		}},
	{"anonymous-rate", "SLUICE_ANONYMOUS_RATE", "20", "requests a second each client address may make to /graphql without a valid credential, and to the logins (logged-in callers are not counted); more get 429; 0 turns the limit off",
		func(c *Config, v string) error {
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
				return fmt.Errorf("%q: use a number of requests a second such as 20, or 0 for no limit", v)
			}
			c.AnonymousRate = r
			return nil
		}},
	{"anonymous-burst", "SLUICE_ANONYMOUS_BURST", "40", "how many requests without a valid credential one address may make at once before --anonymous-rate applies",
		func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("%q: use a whole number of at least 1", v)
			}
			c.AnonymousBurst = n
			return nil
		}},
	{"trusted-proxies", "SLUICE_TRUSTED_PROXIES", "", "comma-separated CIDRs or addresses of the load balancers in front of the gateway; from them, the client address that per-address limits count is the rightmost X-Forwarded-For entry that is not itself one of them (empty: trust nobody and count the connection's peer)",
		func(c *Config, v string) error {
			p, err := auth.ParseProxies(v)
			c.TrustedProxies = p
			return err
		}},
	{"max-conns", "SLUICE_MAX_CONNS", "auto", "most client connections open at once on --addr; more are answered 503 and closed at once (auto: half the process's file descriptor limit, at most 100000; 0: no cap)",
		func(c *Config, v string) error {
			if v == "auto" {
				c.MaxConns = connlimit.Default()
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("%q: use auto, 0 for no cap, or a whole number of connections", v)
			}
			c.MaxConns = n
			return nil
		}},
	{"body-read-timeout", "SLUICE_BODY_READ_TIMEOUT", "60s", "how long a request body may take to arrive, from its headers; a slower one is answered 408 and its connection closed (answers, streams included, are not bound by it)",
		durationSetting(func(c *Config, d time.Duration) { c.BodyReadTimeout = d })},
	{"body-min-rate", "SLUICE_BODY_MIN_RATE", "1024", "slowest average rate, in bytes a second, at which a request body may arrive once --body-rate-grace has passed; 0 turns it off",
		func(c *Config, v string) error {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%q: use a whole number of bytes a second, or 0", v)
			}
			c.BodyMinRate = n
			return nil
		}},
	{"body-rate-grace", "SLUICE_BODY_RATE_GRACE", "10s", "how long a request body may arrive slower than --body-min-rate at first",
		durationSetting(func(c *Config, d time.Duration) { c.BodyRateGrace = d })},
	{"body-buffer-limit", "SLUICE_BODY_BUFFER_LIMIT", "256MiB", "most bytes of request bodies held by requests in flight at once; a body that would pass it waits for room (within --body-read-timeout), then gets 503; 0 is no limit",
		func(c *Config, v string) error {
			n, err := parseBytes(v)
			if err != nil {
				return err
			}
			c.BodyBufferLimit = n
			return nil
		}},
	{"read-header-timeout", "SLUICE_READ_HEADER_TIMEOUT", "10s", "how long a client may take to send a request's headers",
		durationSetting(func(c *Config, d time.Duration) { c.ReadHeaderTimeout = d })},
	{"idle-timeout", "SLUICE_IDLE_TIMEOUT", "120s", "how long a kept-alive client connection may wait for its next request",
		durationSetting(func(c *Config, d time.Duration) { c.IdleTimeout = d })},
	{"token-ttl", "SLUICE_TOKEN_TTL", "12h", "how long an admin login token lasts",
		func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("token TTL %q: use a duration such as 12h", v)
			}
			c.TokenTTL = d
			return nil
		}},
	{"graphql-max-page-size", "SLUICE_GRAPHQL_MAX_PAGE_SIZE", "1000", "largest page (first/last) of a GraphQL connection, and most ids of one nodes query",
		intSetting(1, 1_000_000, func(c *Config, n int) { c.MaxPageSize = n })},
	{"audit-anonymous-per-minute", "SLUICE_AUDIT_ANONYMOUS_PER_MINUTE", "30", "audit rows a minute that one address without a login may cause (one row per refused request; the rest are counted in the log)",
		intSetting(1, 1_000_000, func(c *Config, n int) { c.AuditAnonymousPerMinute = n })},
	{"provider-refresh-interval", "SLUICE_PROVIDER_REFRESH_INTERVAL", "10s", "least time between two live-usage probes of one provider credential; refreshes sooner answer from the last probe",
		durationSetting(func(c *Config, d time.Duration) { c.ProviderRefreshInterval = d })},
	{"websocket-init-timeout", "SLUICE_WEBSOCKET_INIT_TIMEOUT", "10s", "how long a subscription websocket may take to send connection_init before it is closed",
		durationSetting(func(c *Config, d time.Duration) { c.WebsocketInitTimeout = d })},
	{"websocket-max-message", "SLUICE_WEBSOCKET_MAX_MESSAGE", "65536", "largest websocket message in bytes; a larger one closes its connection",
		intSetting(1024, 1<<30, func(c *Config, n int) { c.WebsocketMaxMessage = int64(n) })},
	{"websocket-max-per-caller", "SLUICE_WEBSOCKET_MAX_PER_CALLER", "32", "open subscription websockets per user, management key, or address without a login",
		intSetting(1, 1_000_000, func(c *Config, n int) { c.WebsocketMaxPerCaller = n })},
	{"websocket-max-subscriptions", "SLUICE_WEBSOCKET_MAX_SUBSCRIPTIONS", "64", "subscriptions open at once on one websocket",
		intSetting(1, 1_000_000, func(c *Config, n int) { c.WebsocketMaxSubscriptions = n })},
	{"subscription-recheck", "SLUICE_SUBSCRIPTION_RECHECK", "5s", "how often an open subscription's credential is checked again (a change to keys checks it at once); a revoked, disabled or expired one ends it",
		durationSetting(func(c *Config, d time.Duration) { c.SubscriptionRecheck = d })},
	{"oidc-issuer", "SLUICE_OIDC_ISSUER", "", "OpenID Connect issuer URL for single sign-on, exactly as the provider's discovery document gives it (e.g. https://accounts.google.com); empty turns it off",
		func(c *Config, v string) error { c.OIDC.Issuer = v; return nil }},
	{"oidc-client-id", "SLUICE_OIDC_CLIENT_ID", "", "the OAuth client id registered at the OpenID Connect provider",
		func(c *Config, v string) error { c.OIDC.ClientID = v; return nil }},
	{"oidc-client-secret", "SLUICE_OIDC_CLIENT_SECRET", "", "the OAuth client secret (prefer the variable or --oidc-client-secret-file; a flag shows in the process list)",
		func(c *Config, v string) error { c.OIDC.ClientSecret = v; return nil }},
	{"oidc-client-secret-file", "SLUICE_OIDC_CLIENT_SECRET_FILE", "", "file holding the OAuth client secret (a mounted secret), read when --oidc-client-secret is empty",
		func(c *Config, v string) error { c.OIDCClientSecretFile = v; return nil }},
	{"oidc-redirect-url", "SLUICE_OIDC_REDIRECT_URL", "", "public URL of the single sign-on callback, registered at the provider: https://HOST/api/admin/auth/oidc/callback",
		func(c *Config, v string) error { c.OIDC.RedirectURL = v; return nil }},
	{"oidc-name", "SLUICE_OIDC_NAME", "SSO", "the provider's name on the login screen (\"Sign in with NAME\")",
		func(c *Config, v string) error { c.OIDC.Name = v; return nil }},
	{"oidc-scopes", "SLUICE_OIDC_SCOPES", "openid,email,profile", "comma-separated scopes asked of the provider (add the one that carries the organization claim, e.g. groups)",
		func(c *Config, v string) error { c.OIDC.Scopes = splitList(v); return nil }},
	{"oidc-allowed-domains", "SLUICE_OIDC_ALLOWED_DOMAINS", "", "comma-separated email domains that may sign in (empty: any); the email must be verified by the provider either way",
		func(c *Config, v string) error { c.OIDC.AllowedDomains = splitList(v); return nil }},
	{"oidc-organization-claim", "SLUICE_OIDC_ORGANIZATION_CLAIM", "", "ID token claim (a string or list, e.g. groups) whose values equal to an organization's name choose the organizations of an account created at first sign-in; empty: the default organization",
		func(c *Config, v string) error { c.OIDC.OrganizationClaim = v; return nil }},
	{"oidc-role-claim", "SLUICE_OIDC_ROLE_CLAIM", "", "ID token claim (a string or list) that makes an account created at first sign-in an admin when it holds admin; otherwise, or when absent, a member",
		func(c *Config, v string) error { c.OIDC.RoleClaim = v; return nil }},
	{"oidc-create-accounts", "SLUICE_OIDC_CREATE_ACCOUNTS", "false", "create an account at a first single sign-on; off, only existing users whose email or username equals the verified email may sign in",
		boolSetting(func(c *Config, b bool) { c.OIDC.CreateAccounts = b })},
	{"password-login", "SLUICE_PASSWORD_LOGIN", "true", "allow logging in with a password (GraphQL and REST); false needs --oidc-issuer. sluice admin reset-password and the other admin commands still work",
		boolSetting(func(c *Config, b bool) { c.PasswordLogin = b })},
}

func boolSetting(set func(*Config, bool)) func(*Config, string) error {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q: use true or false", v)
		}
		set(c, b)
		return nil
	}
}

func intSetting(lo, hi int, set func(*Config, int)) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q: use a whole number from %d to %d", v, lo, hi)
		}
		set(c, n)
		return nil
	}
}

// zeroOrDurationSetting is durationSetting that also takes 0: none.
func zeroOrDurationSetting(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("%q: use a duration such as 30s, or 0s for none", v)
		}
		set(c, d)
		return nil
	}
}

func durationSetting(set func(*Config, time.Duration)) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q: use a positive duration such as 30s", v)
		}
		set(c, d)
		return nil
	}
}

// Parse reads flags from args and, for flags not given, the environment
// through getenv. It returns flag.ErrHelp after printing usage to out when
// asked for help.
func Parse(name string, args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	return ParseCommand(name, args, getenv, out, nil)
}

// ParseCommand is Parse for a command with flags of its own: define adds
// them to the flag set before it parses, so that they are read, and
// refused when malformed, like the settings are.
func ParseCommand(name string, args []string, getenv func(string) string, out io.Writer, define func(*flag.FlagSet)) (*Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	if define != nil {
		define(fs)
	}
	values := make([]*string, len(settings))
	for i, s := range settings {
		values[i] = fs.String(s.flag, "", "")
	}
	fs.Usage = func() { Usage(out, name) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; see %s --help", fs.Arg(0), name)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	c := &Config{}
	for i, s := range settings {
		v := s.def
		if given[s.flag] {
			v = *values[i]
		} else if e := getenv(s.env); e != "" {
			v = e
		}
		if err := s.set(c, v); err != nil {
			return nil, fmt.Errorf("--%s / %s: %w", s.flag, s.env, err)
		}
	}
	c.AdminPassword = getenv("SLUICE_ADMIN_PASSWORD")
	if err := c.completeOIDC(); err != nil {
		return nil, err
	}
	return c, nil
}

// Usage prints every setting with its flag, variable and default.
func Usage(w io.Writer, name string) {
	fmt.Fprintf(w, "Usage: %s [command] [flags]\n\n", name)
	fmt.Fprintf(w, "Sluice is a self-hosted LLM API gateway: a GraphQL admin API, a dashboard and a\n")
	fmt.Fprintf(w, "metered, budgeted proxy to LLM providers, in one binary.\n\n")
	fmt.Fprintf(w, "Commands:\n")
	fmt.Fprintf(w, "  serve               run the gateway (the default)\n")
	fmt.Fprintf(w, "  migrate [--dry-run] apply pending database migrations, or print them\n")
	fmt.Fprintf(w, "  backup FILE         copy the embedded SQLite database, while it serves, into a new FILE\n")
	fmt.Fprintf(w, "  healthcheck [--url URL] [--timeout D]\n")
	fmt.Fprintf(w, "                      exit 0 when the gateway on --addr is ready (GET /readyz), 1 otherwise\n")
	fmt.Fprintf(w, "  rotate-master-key   re-encrypt provider keys under SLUICE_NEW_MASTER_KEY (generated when unset)\n")
	fmt.Fprintf(w, "  admin create --username NAME [--role admin|member] [--organization NAME]\n")
	fmt.Fprintf(w, "                      create a user in an organization (default: the default one)\n")
	fmt.Fprintf(w, "  admin reset-password --username NAME\n")
	fmt.Fprintf(w, "                      set a new password (SLUICE_ADMIN_PASSWORD, or generated and printed); ends the user's sessions\n")
	fmt.Fprintf(w, "  admin reset-two-factor --username NAME\n")
	fmt.Fprintf(w, "                      turn off a user's two-factor and delete their recovery codes; ends the user's sessions\n")
	fmt.Fprintf(w, "  admin create-organization --name NAME [--username ADMIN]\n")
	fmt.Fprintf(w, "                      create an organization, with an existing user as its first admin\n")
	fmt.Fprintf(w, "  admin add-member --username NAME --organization NAME [--role admin|member]\n")
	fmt.Fprintf(w, "                      add an existing user to an organization\n")
	fmt.Fprintf(w, "  apply -f sluice.yaml [--dry-run] [--prune] [--server URL] [--organization NAME]\n")
	fmt.Fprintf(w, "                      make the gateway match a configuration file (see the README)\n")
	fmt.Fprintf(w, "  export [-o FILE] [--server URL] [--organization NAME]\n")
	fmt.Fprintf(w, "                      write the gateway's configuration as such a file\n\n")
	fmt.Fprintf(w, "Flags (each also read from its environment variable; a flag wins):\n")
	for _, s := range settings {
		def := ""
		if s.def != "" {
			def = fmt.Sprintf(" (default %q)", s.def)
		}
		fmt.Fprintf(w, "  --%-18s %-24s %s%s\n", s.flag, s.env, s.usage, def)
	}
	fmt.Fprintf(w, "\nEnvironment only:\n")
	fmt.Fprintf(w, "  %-44s %s\n", "SLUICE_ADMIN_PASSWORD", "password of the admin created at first start (generated and logged once when unset)")
}

// ErrHelp is returned by Parse when --help was asked for.
var ErrHelp = flag.ErrHelp

// IsHelp reports whether err means the user asked for help.
func IsHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseBytes reads a size such as 1048576, 64KiB, 256MiB or 1GiB.
func parseBytes(v string) (int64, error) {
	num, unit := v, int64(1)
	for suffix, u := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			num, unit = n, u
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q: use a number of bytes, optionally with KiB, MiB or GiB, such as 256MiB", v)
	}
	return n * unit, nil
}
