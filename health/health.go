// Package health answers the probes of whoever runs the gateway: liveness
// (the process is up) and readiness (this replica should get traffic).
//
// Readiness is not the database's health. The proxy answers from its
// caches while the database is away and records usage once it is back, so
// an outage, which every replica sees at once, taking them all out of their
// load balancer would turn a degraded gateway into no gateway. The database
// is reported in the answer's body, and how long it has been unreachable,
// for people and alerts to read; only a shutdown under way makes a replica
// unready, so that the load balancer stops sending it new requests while it
// drains the ones it has.
package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Live is the liveness probe: 200 while the process answers HTTP at all.
func Live(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = io.WriteString(w, "ok\n")
}

// Readiness is the readiness probe of one replica. The gateway mounts it
// only once it has started (migrations applied, the price catalog
// synced): before that nothing listens.
type Readiness struct {
	// Ping checks the database; it is reported, never a reason to fail.
	Ping func(context.Context) error
	// PingTimeout bounds one check, so that a probe with a short timeout
	// of its own still gets an answer during an outage; 1s when zero.
	PingTimeout time.Duration
	Log         *slog.Logger

	mu       sync.Mutex
	draining bool
	// downSince is when the database first failed a check since it last
	// answered one; zero while it answers.
	downSince time.Time
}

// Drain makes the replica unready for good: its shutdown has begun.
func (r *Readiness) Drain() {
	r.mu.Lock()
	r.draining = true
	r.mu.Unlock()
}

// Draining reports whether Drain was called.
func (r *Readiness) Draining() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.draining
}

// ServeHTTP answers 200 "ready", or 503 "draining" once the shutdown has
// begun, each followed by a line on the database.
func (r *Readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	dbLine := r.checkDatabase(req.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if r.Draining() {
		// Tell the client not to reuse this connection either.
		w.Header().Set("Connection", "close")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "draining: shutting down, finishing the requests in flight\n"+dbLine)
		return
	}
	_, _ = io.WriteString(w, "ready\n"+dbLine)
}

// checkDatabase pings the database and describes the outcome in one line,
// logging only when the database goes away and when it comes back.
func (r *Readiness) checkDatabase(ctx context.Context) string {
	timeout := r.PingTimeout
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := r.Ping(ctx)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if !r.downSince.IsZero() && r.Log != nil {
			r.Log.Info("readiness: the database answers again", "unreachable_for", now.Sub(r.downSince).Round(time.Second))
		}
		r.downSince = time.Time{}
		return "database: ok\n"
	}
	if r.downSince.IsZero() {
		r.downSince = now
		if r.Log != nil {
			r.Log.Warn("readiness: the database does not answer; still ready, the proxy serves from its caches", "err", err)
		}
	}
	return fmt.Sprintf("database: unreachable for %s (the proxy answers from its caches)\n", now.Sub(r.downSince).Round(time.Second))
}
