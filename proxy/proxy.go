// Package proxy is the gateway's data plane: applications call it with their
// sk_ key exactly as they would call OpenAI, Anthropic, Gemini or Cohere, and
// it checks the key and the model allow-list, reserves budget, forwards with
// the provider's own key, streams the answer back event by event, and records
// tokens and cost.
//
// The request path does no database round trip for a known key: keys,
// services, upstreams (with decrypted provider keys) and prices live in an
// in-memory cache that admin changes flush through a changefeed.Feed, on
// every replica. Usage records are queued to a usagelog.Writer; the key's
// last_used_at is written in batches by a background loop.
package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/bodycapture"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/pace"
	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/usagelog"
)

// Options configure a Proxy. DB, Keyring and Usage are required; zero
// durations and sizes take the defaults documented on each field.
type Options struct {
	// DB is the database of keys, services, credentials and prices; its
	// raw connection also writes last_used_at without touching updated_at.
	DB      *database.DB
	Keyring *secrets.Keyring
	// Feed signals admin changes; the key cache flushes on any topic.
	// nil means a private local feed: only the TTL then bounds staleness.
	Feed changefeed.Feed
	// Usage receives one record per request that reached a key and service.
	// The proxy does not close it: close it after the HTTP server drained.
	Usage *usagelog.Writer
	Log   *slog.Logger
	// AccessLog, when set, gets one line for each request that gets a
	// usage record; nil writes none.
	AccessLog *accesslog.Writer
	// Bodies, when set, keeps the bodies of the requests of services
	// whose body capture is on; nil keeps none, whatever the services say.
	Bodies *bodycapture.Writer
	// Browser, when set, serves GET /services requests that carry no key
	// and accept HTML: the dashboard has a /services page of its own, which
	// a reload must still reach. Pass the dashboard's handler.
	Browser http.Handler
	// Budget is consulted before each forward; nil admits everything.
	Budget Budget
	// BudgetFailOpen admits requests when the budget check itself fails
	// (database unreachable) instead of refusing them with 503.
	BudgetFailOpen bool
	// Pace holds each request to its key's, service's and organization's
	// pace limits (requests and tokens per minute, requests in flight);
	// nil admits everything. Its own FailOpen option decides what an
	// unreachable database means.
	Pace pace.Limiter
	// OnPaceRefusal is told of each pace refusal by limit (rpm, tpm,
	// concurrency) and scope (key, service, organization), for the
	// metrics; nil is no one. It must not block.
	OnPaceRefusal func(limit, scope string)

	// OnRateLimits receives each new rate-limit snapshot an upstream sent
	// on real traffic, for the providers' rate-limit view (headroom.Prober.Observe).
	// It is called on the request path: it must not block.
	OnRateLimits func(credentialID int, snap ratelimits.Snapshot, at time.Time)
	// DenyPrivateUpstreams refuses, at connect time, upstream addresses
	// that are loopback, private or link-local (SLUICE_DENY_PRIVATE_UPSTREAMS).
	DenyPrivateUpstreams bool

	// Tracer, when set, traces each proxied request (see trace.go); nil
	// traces nothing and costs nothing.
	Tracer trace.Tracer

	// Transport overrides the pooled upstream transport (tests, custom TLS).
	Transport http.RoundTripper
	// ConnectTimeout bounds dialing and the TLS handshake (default 10 s).
	ConnectTimeout time.Duration
	// FirstByteTimeout bounds the wait for the upstream's response headers
	// (default 5 min: a non-streamed completion answers only when done).
	FirstByteTimeout time.Duration
	// StreamIdleTimeout cuts a response whose upstream sends nothing for
	// this long (default 2 min).
	StreamIdleTimeout time.Duration
	// MaxIdleConnsPerHost sizes the connection pool per upstream (default 256).
	MaxIdleConnsPerHost int
	// MaxBodyBytes limits request bodies (default 10 MiB); more is 413.
	MaxBodyBytes int64
	// MaxResponseBytes bounds the non-streamed answers held whole, so that
	// their cost can precede them as the header X-Sluice-Cost-USD (default
	// 1 MiB): a smaller one is held, a larger one is relayed as it arrives
	// and metered on the way, its cost sent as a trailer.
	MaxResponseBytes int64
	// MaxBufferedBytes bounds the request and answer bodies held in memory
	// at once by all requests (default 256 MiB, at least MaxBodyBytes). A
	// request body that finds no room within BufferWait is refused with
	// 503; an answer that finds none is relayed as it arrives.
	MaxBufferedBytes int64
	// BufferWait is how long a request body may wait for room under
	// MaxBufferedBytes (default 2 s).
	BufferWait time.Duration

	// MaxAttempts is how many targets a request of a routed service (one
	// with targets) may try before the first byte of an answer reaches the
	// client (default 2; SLUICE_MAX_ATTEMPTS). A service with a single
	// credential always makes one attempt.
	MaxAttempts int
	// Now is the clock of target health (rate-limit resets, back-offs);
	// nil means time.Now. Tests move it.
	Now func() time.Time

	// KeyCacheTTL is how long a cached key is trusted without a change
	// signal (default 30 s), a safety net for a lost signal.
	KeyCacheTTL time.Duration
	// NegativeCacheTTL is how long an unknown key is remembered as unknown
	// (default 5 s); a created key flushes it at once through the feed.
	NegativeCacheTTL time.Duration
	// LastUsedInterval is how often last_used_at updates are written
	// (default 10 s); each key is updated at most once a minute.
	LastUsedInterval time.Duration
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.FirstByteTimeout <= 0 {
		o.FirstByteTimeout = 5 * time.Minute
	}
	if o.StreamIdleTimeout <= 0 {
		o.StreamIdleTimeout = 2 * time.Minute
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 256
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 10 << 20
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = maxPooledBuffer
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 256 << 20
	}
	// One body of the largest size must fit, with the step it is read in.
	o.MaxBufferedBytes = max(o.MaxBufferedBytes, o.MaxBodyBytes+bufferStep)
	if o.BufferWait <= 0 {
		o.BufferWait = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeyCacheTTL <= 0 {
		o.KeyCacheTTL = 30 * time.Second
	}
	if o.NegativeCacheTTL <= 0 {
		o.NegativeCacheTTL = 5 * time.Second
	}
	if o.LastUsedInterval <= 0 {
		o.LastUsedInterval = 10 * time.Second
	}
}

// Proxy serves the provider-compatible routes. Create it with New, add its
// routes with Mount, and Close it at shutdown.
type Proxy struct {
	opts     Options
	db       *database.DB
	keyring  *secrets.Keyring
	log      *slog.Logger
	usage    *usagelog.Writer
	budget   Budget
	rt       http.RoundTripper
	keys     *keyCache
	lastUsed *lastUsed
	bufs     *buffers
	limits   rateLimitStore
	room     headrooms
	// peers is nil when the feed reaches no other replica.
	peers *peers

	// health is every routed target's state by ServiceTarget id; see
	// routing.go.
	healthMu sync.Mutex
	health   map[int]*targetHealth

	ownFeed bool
	feed    changefeed.Feed
	unsub   []func()
	stop    context.CancelFunc
	wg      sync.WaitGroup
	closed  sync.Once
}

// New builds a proxy and starts its background work: cache invalidation
// from the feed and the last_used_at writer.
func New(opts Options) (*Proxy, error) {
	if opts.DB == nil || opts.Keyring == nil || opts.Usage == nil {
		return nil, errors.New("proxy: Options.DB, Keyring and Usage are required")
	}
	opts.defaults()
	p := &Proxy{
		opts: opts, db: opts.DB, keyring: opts.Keyring, log: opts.Log, usage: opts.Usage, budget: opts.Budget,
		rt: opts.Transport, feed: opts.Feed,
	}
	if p.rt == nil {
		p.rt = newTransport(opts)
	}
	if p.feed == nil {
		p.feed, p.ownFeed = changefeed.NewLocal(), true
	}
	p.bufs = newBuffers(opts.MaxBufferedBytes, opts.BufferWait)
	p.keys = newKeyCache(opts.KeyCacheTTL, opts.NegativeCacheTTL, p.loadKey)
	p.limits.m = make(map[int]rateLimitEntry)
	p.health = make(map[int]*targetHealth)
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	p.lastUsed = newLastUsed(opts.DB, opts.Log)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.lastUsed.run(ctx, opts.LastUsedInterval)
	}()
	// Flush synchronously, so that once an admin mutation has returned no
	// request to this replica is served from data older than it.
	// Sessions and memberships are the admin API's, never in a key's entry:
	// ending a login must not make every replica reload every key.
	p.unsub = append(p.unsub, p.feed.Watch(func(topic string) {
		if topic != changefeed.TopicSessions {
			p.keys.flush()
		}
	}))
	if m, ok := p.feed.(changefeed.Messenger); ok {
		p.peers = &peers{m: m, queue: make(chan string, 64), log: opts.Log}
		m.OnMessage(p.heard)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.peers.run(ctx)
		}()
	}
	return p, nil
}

// Close stops the background work, writing pending last_used_at updates,
// and closes idle upstream connections. Requests in flight are the HTTP
// server's to drain first.
func (p *Proxy) Close() {
	p.closed.Do(func() {
		for _, u := range p.unsub {
			u()
		}
		if p.ownFeed {
			_ = p.feed.Close()
		}
		p.stop()
		p.wg.Wait()
		if t, ok := p.rt.(interface{ CloseIdleConnections() }); ok {
			t.CloseIdleConnections()
		}
	})
}

// rateLimitEntry is one credential's latest rate-limit snapshot.
type rateLimitEntry struct {
	snap ratelimits.Snapshot
	at   time.Time
}

// rateLimitStore keeps the latest rate-limit snapshot each credential's
// upstream reported, for the live-usage view.
type rateLimitStore struct {
	mu sync.RWMutex
	m  map[int]rateLimitEntry
}

// RateLimits returns the latest rate-limit headers the upstream of
// credentialID sent on real traffic through this replica, and when; false
// when none has been seen.
func (p *Proxy) RateLimits(credentialID int) (ratelimits.Snapshot, time.Time, bool) {
	p.limits.mu.RLock()
	defer p.limits.mu.RUnlock()
	e, ok := p.limits.m[credentialID]
	return e.snap, e.at, ok
}

// noteRateLimits remembers the upstream's rate-limit headers, and what
// they say of the credential's room. Parsing is skipped within a second of
// the last snapshot (the numbers move slowly and this runs on every
// response) except on a 429, which must be seen and whose snapshot is
// returned (routing reads its reset from it), and when little room was
// left.
func (p *Proxy) noteRateLimits(credID *int, room *headroom, h http.Header, status int, now time.Time) ratelimits.Snapshot {
	if credID == nil {
		if status == http.StatusTooManyRequests {
			return ratelimits.Parse(h, now)
		}
		return ratelimits.Snapshot{}
	}
	p.limits.mu.RLock()
	last, ok := p.limits.m[*credID]
	p.limits.mu.RUnlock()
	if ok && status != http.StatusTooManyRequests && now.Sub(last.at) < time.Second && !room.low() {
		return ratelimits.Snapshot{}
	}
	snap := ratelimits.Parse(h, now)
	if room.note(snap, now) {
		p.peers.spent(room, room.exhaustedUntil.Load())
	}
	if snap.Family == ratelimits.FamilyNone && snap.RetryAfter == nil {
		return snap
	}
	p.limits.mu.Lock()
	p.limits.m[*credID] = rateLimitEntry{snap: snap, at: now}
	p.limits.mu.Unlock()
	if p.opts.OnRateLimits != nil {
		p.opts.OnRateLimits(*credID, snap, now)
	}
	return snap
}
