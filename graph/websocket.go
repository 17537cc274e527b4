package graph

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/sluicehq/sluice/auth"
)

// The websocket defaults: none of them cuts a dashboard, which opens one
// connection per tab with a few small subscriptions on it.
const (
	defaultWebsocketInitTimeout    = 10 * time.Second
	defaultWebsocketMaxMessage     = 64 << 10
	defaultWebsocketMaxPerCaller   = 32
	defaultSubscriptionsPerConn    = 64
	defaultSubscriptionRecheck     = 5 * time.Second
	closeTooManyConnections        = 4429 // graphql-transport-ws leaves 4400-4999 to the server
	closeReasonTooManyConnectionsF = "too many open subscription connections for this caller (limit %d); close one first"
)

// WebsocketOptions bound the subscription transport; zero values take the
// defaults.
type WebsocketOptions struct {
	// InitTimeout closes a connection that sends no connection_init in
	// time. Default 10 s.
	InitTimeout time.Duration
	// MaxMessageBytes closes a connection that sends a larger message.
	// Default 64 KiB.
	MaxMessageBytes int64
	// MaxPerCaller bounds the open connections of one user, one
	// management key, or one address for anonymous ones. Default 32.
	MaxPerCaller int
	// MaxSubscriptions bounds the subscriptions open on one connection.
	// Default 64.
	MaxSubscriptions int
	// Recheck is how often a connection's credential is checked again;
	// a change to keys checks it at once. Default 5 s.
	Recheck time.Duration
}

// websocketTransport is the subscription transport: graphql-transport-ws
// (or graphql-ws) with the connection's credential from its
// connection_init, a deadline for that init, a bound on each message and on
// each caller's open connections.
func websocketTransport(r *Resolver, allowedOrigins []string, opts WebsocketOptions) transport.Websocket {
	opts = opts.withDefaults()
	readLimit := opts.MaxMessageBytes
	return transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           opts.InitTimeout,
		PayloadReadLimit:      &readLimit,
		// Same-origin connections are always allowed; the configured
		// origins (the dashboard's dev server) are added by host.
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: coderws.AcceptOptions{OriginPatterns: originHosts(allowedOrigins)},
		},
		InitFunc: websocketAuth(r, newCallerConns(opts.MaxPerCaller), opts),
	}
}

func (o WebsocketOptions) withDefaults() WebsocketOptions {
	if o.InitTimeout == 0 {
		o.InitTimeout = defaultWebsocketInitTimeout
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = defaultWebsocketMaxMessage
	}
	if o.MaxPerCaller == 0 {
		o.MaxPerCaller = defaultWebsocketMaxPerCaller
	}
	if o.MaxSubscriptions == 0 {
		o.MaxSubscriptions = defaultSubscriptionsPerConn
	}
	if o.Recheck == 0 {
		o.Recheck = defaultSubscriptionRecheck
	}
	return o
}

// websocketAuth authenticates a subscription connection from its
// connection_init payload ({"Authorization": "Bearer <token>"}, or
// authToken), since browsers cannot set headers on a websocket; a client
// that can may send the header on the upgrade request instead. The
// connection counts against its caller's limit until it closes, and its
// credential is checked again for as long as it is open.
func websocketAuth(r *Resolver, conns *callerConns, opts WebsocketOptions) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := payload.Authorization()
		if token == "" {
			token = payload.GetString("authToken")
		}
		if t, ok := strings.CutPrefix(token, "Bearer "); ok {
			token = t
		}
		token = strings.TrimSpace(token)
		if token == "" {
			token, _ = ctx.Value(upgradeCredentialKey{}).(string)
		}
		ctx = context.WithValue(ctx, websocketKey{}, true)
		ctx = auth.WithViewer(ctx, nil) // only the credential checked here counts
		var v *auth.Viewer
		if token != "" {
			var err error
			if v, err = r.Auth.Resolve(ctx, token); err != nil {
				return ctx, nil, fmt.Errorf("subscription refused: %w", err)
			}
			ctx = auth.WithViewer(ctx, v)
		}
		caller := callerKey(v, auth.ClientIPFrom(ctx))
		if !conns.open(caller) {
			ctx = transport.WithWebsocketCloseCode(ctx, closeTooManyConnections)
			ctx = transport.AppendCloseReason(ctx, fmt.Sprintf(closeReasonTooManyConnectionsF, conns.max))
			return ctx, nil, fmt.Errorf(closeReasonTooManyConnectionsF, conns.max)
		}
		context.AfterFunc(ctx, func() { conns.close(caller) })
		s := &wsSession{ended: make(chan struct{}), maxSubs: opts.MaxSubscriptions}
		if v != nil {
			go s.watch(ctx, r, token, opts.Recheck)
		}
		return context.WithValue(ctx, wsSessionKey{}, s), nil, nil
	}
}

type (
	websocketKey         struct{}
	wsSessionKey         struct{}
	upgradeCredentialKey struct{}
)

// rememberUpgradeCredential keeps the bearer credential of a websocket
// upgrade request, so that the connection can check it again later.
func rememberUpgradeCredential(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
			if ok && strings.EqualFold(scheme, "bearer") && strings.TrimSpace(token) != "" {
				r = r.WithContext(context.WithValue(r.Context(), upgradeCredentialKey{}, strings.TrimSpace(token)))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// callerKey names whom a connection counts against: its user or
// management key, or its address when it is anonymous.
func callerKey(v *auth.Viewer, ip string) string {
	switch {
	case v == nil:
		return "ip:" + ip
	case v.IsManagementKey():
		return fmt.Sprintf("key:%d", v.ManagementKeyID)
	}
	return fmt.Sprintf("user:%d", v.UserID)
}

// callerConns counts each caller's open websocket connections.
type callerConns struct {
	max   int
	mu    sync.Mutex
	count map[string]int
}

func newCallerConns(max int) *callerConns { return &callerConns{max: max, count: map[string]int{}} }

// open counts a new connection of caller, or reports false at the limit.
func (c *callerConns) open(caller string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[caller] >= c.max {
		return false
	}
	c.count[caller]++
	return true
}

func (c *callerConns) close(caller string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.count[caller]--; c.count[caller] <= 0 {
		delete(c.count, caller)
	}
}
