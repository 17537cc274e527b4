package main

import (
	"database/sql"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// cuttable forwards TCP connections to a database and can cut them all and
// refuse new ones for a while: a database outage without stopping the
// shared server.
type cuttable struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newCuttable(t *testing.T, target string) *cuttable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cuttable{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns[in], c.conns[out] = true, true
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

// cut closes every forwarded connection and refuses new ones.
func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for conn := range c.conns {
		conn.Close()
	}
	c.conns = map[net.Conn]bool{}
}

func (c *cuttable) restore() {
	c.mu.Lock()
	c.down = false
	c.mu.Unlock()
}

// TestDatabaseOutage cuts the database for three seconds under load. With
// fail-open budgets, requests with cached keys keep working, and every
// usage record queued meanwhile reaches the database when it returns; with
// fail-closed budgets requests pass while the replica's budget leases
// (granted by the database before the cut) cover them, then get a clear
// 503, and are all recorded.
func TestDatabaseOutage(t *testing.T) {
	for _, failOpen := range []string{"true", "false"} {
		t.Run("fail_open="+failOpen, func(t *testing.T) {
			target := testenv.Target(t, "postgres")
			u, _ := url.Parse(target.DSN)
			proxyDB := newCuttable(t, u.Host)
			u.Host = proxyDB.ln.Addr().String()
			p := startProcess(t, map[string]string{"DATABASE_URL": u.String(), "SLUICE_MASTER_KEY": testMasterKey, "SLUICE_JWT_SECRET": testJWT,
				"SLUICE_ADMIN_PASSWORD": "pw-outage", "SLUICE_BUDGET_FAIL_OPEN": failOpen})
			upstream := slowStream(t, 1, 0)
			// Each answer reports 1,000 output tokens, about $0.0006, which
			// max_tokens 1000 reserves. A block of $0.02 caps a lease at a
			// quarter of the headroom, about eight such answers, so the
			// leases run out during the outage whatever the lease size in
			// requests.
			_, key, _ := setupService(t, p.base, "pw-outage", upstream.URL, ", limitCostMonthBlock: 0.02")
			chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`
			if resp, body := post(t, p.base+"/v1/chat/completions", key, chat); resp.StatusCode != 200 {
				t.Fatalf("before the outage: %d %s", resp.StatusCode, body)
			}

			proxyDB.cut()
			sent, okDuring, refusedDuring := 1, 0, 0
			deadline := time.Now().Add(3 * time.Second)
			for time.Now().Before(deadline) {
				resp, body := post(t, p.base+"/v1/chat/completions", key, chat)
				sent++
				switch {
				case resp.StatusCode == 200:
					okDuring++
				case failOpen == "false" && resp.StatusCode == 503 && strings.Contains(string(body), "could not check the budget"):
					refusedDuring++
				default:
					t.Fatalf("during the outage (fail open %s): %d %s", failOpen, resp.StatusCode, body)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if failOpen == "true" && okDuring != sent-1 {
				t.Fatalf("fail open: %d of %d requests passed during the outage", okDuring, sent-1)
			}
			if failOpen == "false" && refusedDuring == 0 {
				t.Fatalf("fail closed: all %d requests passed during the outage; the leases should have run out", okDuring)
			}
			proxyDB.restore()

			db, err := sql.Open("postgres", target.DSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var n int
			for wait := time.Now().Add(20 * time.Second); time.Now().Before(wait); time.Sleep(200 * time.Millisecond) {
				db.QueryRow(`SELECT COUNT(*) FROM usage_records`).Scan(&n)
				if n == sent {
					break
				}
			}
			if n != sent {
				t.Fatalf("usage records after the outage = %d, want %d (one per request, none lost)\n%s", n, sent, p.logs.String())
			}
			if resp, body := post(t, p.base+"/v1/chat/completions", key, chat); resp.StatusCode != 200 {
				t.Fatalf("after the outage: %d %s", resp.StatusCode, body)
			}
			if err := p.stop(t, 30*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}
