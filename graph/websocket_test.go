package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/livefeed"
)

const usageSubscription = `subscription { usageEvents { requestId } }`

// TestSubscriptionEndsWithItsCredential: a live subscription whose
// credential stops authenticating (a management key disabled or past its
// expiry, a user removed from the organization) ends with an
// UNAUTHENTICATED error saying why, gets no event after that, and its
// connection starts no new subscription.
func TestSubscriptionEndsWithItsCredential(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarnessWith(t, db, graph.Options{Introspection: true, Websocket: graph.WebsocketOptions{Recheck: 100 * time.Millisecond}})
		ctx := context.Background()
		newKey := func(name string) (id int, key string) {
			res := h.as(admin, `mutation($n: String!) { createAPIKey(input: {name: $n, isManagementKey: true}) { key apiKey { id } } }`,
				map[string]any{"n": name}).ok(t)
			return res.id("createAPIKey.apiKey.id"), res.str("createAPIKey.key")
		}
		cases := []struct {
			name  string
			setup func() (credential string, revoke func())
		}{
			{"management key disabled", func() (string, func()) {
				id, key := newKey("disabled-live")
				return key, func() {
					h.as(admin, `mutation($id: ID!) { updateAPIKey(id: $id, input: {isActive: false}) { isActive } }`, map[string]any{"id": id}).ok(t)
				}
			}},
			{"management key expired", func() (string, func()) {
				id, key := newKey("expiring-live")
				// The expiry passes without any change being announced:
				// only the periodic check can see it.
				return key, func() { h.client.APIKey.UpdateOneID(id).SetExpiresAt(time.Now().Add(-time.Second)).ExecX(ctx) }
			}},
			{"user removed from the organization", func() (string, func()) {
				if err := auth.CreateUser(ctx, h.client, "leaving", "leaving password", h.org.ID, auth.RoleMember); err != nil {
					t.Fatal(err)
				}
				token := h.login("leaving", "leaving password")
				return token, func() {
					h.client.Membership.Delete().
						Where(membership.OrganizationID(h.org.ID), membership.UserID(h.userID("leaving"))).ExecX(ctx)
				}
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				credential, revoke := tc.setup()
				c, err := h.subscribe(credential, usageSubscription, nil)
				if err != nil {
					t.Fatal(err)
				}
				publish := func() { h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "live", OrgID: h.org.ID}) }
				if msg := c.until(publish); msg["type"] != "next" {
					t.Fatalf("before revocation: %v", msg)
				}
				revoke()
				var end map[string]any
				for deadline := time.Now().Add(15 * time.Second); end == nil && time.Now().Before(deadline); {
					publish()
					if m, ok := c.readWithin(200 * time.Millisecond); ok && m["type"] != "next" {
						end = m
					}
				}
				raw := string(mustJSON(end))
				const want = "subscription ended: the credential was revoked, disabled or expired; authenticate again and resubscribe"
				if end["type"] != "error" || end["id"] != "1" || !strings.Contains(raw, "UNAUTHENTICATED") || !strings.Contains(raw, want) {
					t.Fatalf("the subscription did not end with a clear error: %s", raw)
				}
				for _, internal := range []string{"look up", "lookup", "sql", "ent:"} {
					if strings.Contains(strings.ToLower(raw), internal) {
						t.Fatalf("the error shows internals (%q): %s", internal, raw)
					}
				}
				for i := 0; i < 5; i++ {
					publish()
				}
				if m, ok := c.readWithin(500 * time.Millisecond); ok {
					t.Fatalf("a message after the subscription ended: %s", mustJSON(m))
				}
				c.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": usageSubscription}})
				if m := mustJSON(c.read()); !strings.Contains(string(m), `"id":"2"`) || !strings.Contains(string(m), "UNAUTHENTICATED") {
					t.Fatalf("a new subscription on the connection: %s", m)
				}
			})
		}
	})
}

// TestSubscriptionSurvivesFailedLookups: while the credential's lookup
// fails (a busy or slow database) with the database still answering pings,
// a live subscription is kept, and it delivers events once lookups work.
func TestSubscriptionSurvivesFailedLookups(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarnessWith(t, db, graph.Options{Introspection: true, Websocket: graph.WebsocketOptions{Recheck: 50 * time.Millisecond}})
		key := h.as(admin, `mutation { createAPIKey(input: {name: "flaky", isManagementKey: true}) { key } }`, nil).ok(t).str("createAPIKey.key")
		var failing atomic.Bool
		var failed atomic.Int64
		h.client.Intercept(ent.InterceptFunc(func(next ent.Querier) ent.Querier {
			return ent.QuerierFunc(func(ctx context.Context, q ent.Query) (ent.Value, error) {
				if _, ok := q.(*ent.APIKeyQuery); ok && failing.Load() {
					failed.Add(1)
					return nil, errors.New("database is locked (5) (SQLITE_BUSY)")
				}
				return next.Query(ctx, q)
			})
		}))
		c, err := h.subscribe(key, usageSubscription, nil)
		if err != nil {
			t.Fatal(err)
		}
		publish := func() { h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "live", OrgID: h.org.ID}) }
		if msg := c.until(publish); msg["type"] != "next" {
			t.Fatalf("before the failures: %v", msg)
		}
		failing.Store(true)
		for deadline := time.Now().Add(15 * time.Second); failed.Load() < 3; {
			if time.Now().After(deadline) {
				t.Fatalf("the credential was looked up %d times in 15 s: the recheck stopped after a failed lookup", failed.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		failing.Store(false)
		for {
			m, ok := c.readWithin(200 * time.Millisecond)
			if !ok {
				break
			}
			if m["type"] != "next" {
				t.Fatalf("the subscription ended on a failed lookup: %s", mustJSON(m))
			}
		}
		if msg := c.until(publish); msg["type"] != "next" {
			t.Fatalf("after the failures: %s", mustJSON(msg))
		}
	})
}

func (h *harness) userID(username string) int {
	h.t.Helper()
	u, err := h.client.User.Query().All(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	for _, x := range u {
		if x.Username == username {
			return x.ID
		}
	}
	h.t.Fatalf("no user %q", username)
	return 0
}

// dial opens a graphql-transport-ws connection without initialising it.
func (h *harness) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// closedWith reads conn until it closes, for at most 10 s, and returns its
// close status and reason.
func closedWith(t *testing.T, conn *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			if ctx.Err() != nil {
				t.Fatal("the connection was not closed within 10 s")
			}
			return -1, err.Error()
		}
	}
}

func initConn(t *testing.T, conn *websocket.Conn, credential string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + credential}})
	if err := conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

// TestWebsocketLimits: a connection that never initialises is closed after
// the init timeout; an oversized message closes its connection; a caller's
// connection over the limit is refused with 4429 while other callers still
// connect, and a closed connection frees its place; a connection's
// subscription over the limit is refused.
func TestWebsocketLimits(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarnessWith(t, db, graph.Options{Introspection: true, Websocket: graph.WebsocketOptions{
			InitTimeout: 300 * time.Millisecond, MaxMessageBytes: 4096, MaxPerCaller: 2, MaxSubscriptions: 2,
		}})

		t.Run("init timeout", func(t *testing.T) {
			if code, reason := closedWith(t, h.dial(t)); code != websocket.StatusProtocolError || !strings.Contains(reason, "timeout") {
				t.Fatalf("closed with %d %q, want the init timeout", code, reason)
			}
		})

		t.Run("oversized message", func(t *testing.T) {
			c, err := h.subscribe(h.creds[admin], `subscription { usageEvents { requestId } }`, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": "subscription { usageEvents { requestId " + strings.Repeat(" ", 8192) + "} }"}})
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
				if _, ok := c.readWithin(time.Second); !ok {
					if c.conn.Ping(context.Background()) != nil {
						return // closed
					}
				}
			}
			t.Fatal("the connection stayed open after an 8 KiB message")
		})

		t.Run("connections per caller", func(t *testing.T) {
			var open []*wsClient
			for i := 0; i < 2; i++ {
				c, err := h.subscribe(h.creds[member], usageSubscription, nil)
				if err != nil {
					t.Fatalf("connection %d: %v", i+1, err)
				}
				open = append(open, c)
			}
			third := h.dial(t)
			initConn(t, third, h.creds[member])
			if code, reason := closedWith(t, third); code != 4429 || !strings.Contains(reason, "too many") {
				t.Fatalf("the third connection closed with %d %q, want 4429", code, reason)
			}
			if _, err := h.subscribe(h.creds[otherOrg], usageSubscription, nil); err != nil {
				t.Fatalf("another caller was refused: %v", err)
			}
			open[0].conn.Close(websocket.StatusNormalClosure, "")
			for deadline := time.Now().Add(10 * time.Second); ; {
				conn := h.dial(t)
				initConn(t, conn, h.creds[member])
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, b, err := conn.Read(ctx)
				cancel()
				if err == nil && strings.Contains(string(b), "connection_ack") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a closed connection did not free its place: %v %s", err, b)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})

		t.Run("subscriptions per connection", func(t *testing.T) {
			c, err := h.subscribe(h.creds[admin], usageSubscription, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": usageSubscription}})
			c.send(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": usageSubscription}})
			// The three start concurrently (subscribe does not wait for
			// the first to start): any one of them is the third.
			m := mustJSON(c.read())
			if !strings.Contains(string(m), "RATE_LIMITED") {
				t.Fatalf("the third subscription on a connection: %s", m)
			}
		})
	})
}
