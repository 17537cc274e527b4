package graph_test

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/tokens"
)

// wsClient speaks graphql-transport-ws to the harness.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	// msgs receives every message but pings from a reader goroutine: a
	// timed-out Read would close the connection, a timed-out select does not.
	msgs chan map[string]any
}

func (h *harness) subscribe(credential, query string, vars map[string]any) (*wsClient, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.srv.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: h.t, conn: conn, msgs: make(chan map[string]any, 64)}
	h.t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	go func() {
		defer close(c.msgs)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			if m["type"] != "ping" && m["type"] != "ka" {
				c.msgs <- m
			}
		}
	}()
	init := map[string]any{"type": "connection_init"}
	if credential != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + credential}
	}
	c.send(init)
	if msg := c.read(); msg["type"] != "connection_ack" {
		return nil, errorf("no ack: %v", msg)
	}
	c.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return c, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func errorf(format string, args ...any) error {
	b, _ := json.Marshal(args)
	return errorString(format + " " + string(b))
}

func (c *wsClient) send(v any) {
	b, _ := json.Marshal(v)
	if err := c.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsClient) read() map[string]any {
	m, ok := c.readWithin(5 * time.Second)
	if !ok {
		c.t.Error("no websocket message within 5s")
		runtime.Goexit()
	}
	return m
}

// readWithin returns the next message, or false after d.
func (c *wsClient) readWithin(d time.Duration) (map[string]any, bool) {
	select {
	case m, ok := <-c.msgs:
		return m, ok
	case <-time.After(d):
		return nil, false
	}
}

// until calls trigger until a message arrives (the subscription may not be
// registered yet when the first trigger fires), for at most 5 s.
func (c *wsClient) until(trigger func()) map[string]any {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		trigger()
		if m, ok := c.readWithin(200 * time.Millisecond); ok {
			return m
		}
	}
	c.t.Error("no websocket message within 5s of triggering")
	runtime.Goexit()
	return nil
}

// TestSubscriptions: a subscriber of the organization receives its usage
// events, filtered by service; another organization's subscriber and an
// anonymous one receive nothing.
func TestSubscriptions(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		q := `subscription($s: ID) { usageEvents(serviceId: $s) { requestId model inputTokens outputTokens cost priced latencyMs status } }`
		mine, err := h.subscribe(h.creds[member], q, map[string]any{"s": 5})
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := h.subscribe(h.creds[otherOrg], q, nil)
		if err != nil {
			t.Fatal(err)
		}
		anon, err := h.subscribe("", q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if msg := anon.read(); !strings.Contains(string(mustJSON(msg)), "UNAUTHENTICATED") {
			t.Fatalf("anonymous subscription: %v", msg)
		}
		msg := mine.until(func() {
			h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "other-service", OrgID: h.org.ID, ServiceID: 6, Model: "x"})
			h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "req-1", OrgID: h.org.ID, ServiceID: 5, APIKeyID: 9, Model: "gpt-4o",
				Status: 200, Tokens: tokens.Tokens{InputTokens: 12, OutputTokens: 3}, Cost: 2500, Priced: true, Latency: 1500 * time.Microsecond})
		})
		data, _ := json.Marshal(msg["payload"])
		if msg["type"] != "next" || !strings.Contains(string(data), `"requestId":"req-1"`) || !strings.Contains(string(data), `"cost":0.0025`) ||
			!strings.Contains(string(data), `"latencyMs":1.5`) {
			t.Fatalf("subscriber got %v", msg)
		}
		if msg := theirs.until(func() {
			h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "other-org", OrgID: h.other.ID, ServiceID: 1, Model: "y"})
		}); !strings.Contains(string(mustJSON(msg)), "other-org") {
			t.Fatalf("the other organization got %v, want only its own event", msg)
		}
	})
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// checkSubscription runs one role-matrix row of a subscription: a refused
// role gets the error code at once; an allowed one gets the event that
// trigger causes.
func (h *harness) checkSubscription(t *testing.T, op operation, trigger func(*harness, fixtures, string), f fixtures, role, want string) {
	t.Helper()
	c, err := h.subscribe(h.creds[role], op.query, op.vars(h, f))
	if err != nil {
		t.Fatal(err)
	}
	if want != ok {
		msg := mustJSON(c.read())
		if !strings.Contains(string(msg), `"code":"`+want+`"`) {
			t.Fatalf("%s as %s: got %s, want %s", op.field, role, msg, want)
		}
		return
	}
	msg := c.until(func() { trigger(h, f, role) })
	if msg["type"] != "next" || strings.Contains(string(mustJSON(msg)), `"errors"`) {
		t.Fatalf("%s as %s: got %s, want an event", op.field, role, mustJSON(msg))
	}
}
