package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	_ "github.com/lib/pq"

	"github.com/sluicehq/sluice/internal/testenv"
)

const (
	testMasterKey = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="
	testJWT       = "replica-jwt-secret-replica-jwt-secret"
)

// slowStream is an OpenAI-compatible upstream whose streams send n content
// events gap apart, then the usage chunk; plain calls answer at once.
func slowStream(t *testing.T, n int, gap time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":10,"completion_tokens":1000,"total_tokens":1010}}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok%d \"}}]}\n\n", i)
			fl.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(gap):
			}
		}
		io.WriteString(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":10,\"total_tokens\":20}}\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestTwoReplicasActAsOne starts two gateway processes on one PostgreSQL
// database: a key created through one works through the other, disabling
// it through one refuses it on the other within a second, one budget holds
// across both, and the audit log is shared.
func TestTwoReplicasActAsOne(t *testing.T) {
	target := testenv.Target(t, "postgres")
	env := map[string]string{"DATABASE_URL": target.DSN, "SLUICE_MASTER_KEY": testMasterKey, "SLUICE_JWT_SECRET": testJWT, "SLUICE_ADMIN_PASSWORD": "pw-replicas"}
	a := startProcess(t, env)
	b := startProcess(t, env)
	upstream := slowStream(t, 1, 0)

	// gpt-4o-mini: 10 in + 1000 out = $0.0006015 a call; a $0.0075 total block affords 12.
	token, key, _ := setupService(t, a.base, "pw-replicas", upstream.URL, ", limitCostTotalBlock: 0.0075")
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`

	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(base string) {
			defer wg.Done()
			resp, body := post(t, base+"/v1/chat/completions", key, chat)
			switch resp.StatusCode {
			case 200:
				ok.Add(1)
			case 429:
				refused.Add(1)
			default:
				t.Errorf("status %d: %s", resp.StatusCode, body)
			}
		}([]string{a.base, b.base}[i%2])
	}
	wg.Wait()
	if t.Failed() {
		t.Fatalf("replica logs:\nA:\n%s\nB:\n%s", a.logs.String(), b.logs.String())
	}
	db, err := sql.Open("postgres", target.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var spent int64
	db.QueryRow(`SELECT COALESCE(SUM(spent),0) FROM spend_windows WHERE scope = 'service' AND "window" = 'total'`).Scan(&spent)
	if spent > 7500 || ok.Load() == 0 || refused.Load() == 0 {
		t.Fatalf("across two replicas: %d passed, %d refused, service spent %d micro-USD; the block is 7500", ok.Load(), refused.Load(), spent)
	}

	// A request through A reaches a usage subscriber on B.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close(websocket.StatusNormalClosure, "")
	wsSend(t, ws, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
	wsRead(t, ws)
	wsSend(t, ws, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { usageEvents { requestId status } }`}})
	time.Sleep(200 * time.Millisecond)
	resp, _ := post(t, a.base+"/v1/chat/completions", key, chat)
	// Events of the earlier burst may still be arriving; wait for this one.
	for i := 0; ; i++ {
		ev := wsRead(t, ws)
		if strings.Contains(string(mustJSON(ev)), resp.Header.Get("X-Request-Id")) {
			break
		}
		if i > 50 {
			t.Fatalf("B's subscriber never got the event of A's request %s", resp.Header.Get("X-Request-Id"))
		}
	}

	// Disable through A: B refuses within a second.
	keys := gql(t, b.base, token, `{ apiKeys(where: {name: "app"}) { edges { node { id } } } }`, nil)
	id := dig(keys, "apiKeys", "edges").([]any)[0].(map[string]any)["node"].(map[string]any)["id"]
	gql(t, a.base, token, `mutation($k: ID!) { updateAPIKey(id: $k, input: {isActive: false}) { isActive } }`, map[string]any{"k": id})
	deadline := time.Now().Add(time.Second)
	for {
		resp, _ := post(t, b.base+"/v1/chat/completions", key, chat)
		if resp.StatusCode == 403 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica B still accepts the key disabled through A after 1s (status %d)", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Failed logins count across replicas: five wrong passwords split
	// between A and B lock the address out of both.
	for i := range 5 {
		if code := loginCode(t, []string{a.base, b.base}[i%2], "wrong"); code != "UNAUTHENTICATED" {
			t.Fatalf("wrong password %d: %s, want UNAUTHENTICATED", i+1, code)
		}
	}
	if code := loginCode(t, a.base, "pw-replicas"); code != "RATE_LIMITED" {
		t.Fatalf("the right password after five failures across replicas: %s, want RATE_LIMITED", code)
	}

	// The audit log written through A reads the same through B.
	audit := gql(t, b.base, token, `{ auditEvents(where: {action: "updateAPIKey"}) { totalCount } }`, nil)
	if dig(audit, "auditEvents", "totalCount") != 1.0 {
		t.Fatalf("audit through B: %v", audit)
	}
	for _, p := range []*process{a, b} {
		if err := p.stop(t, 30*time.Second); err != nil {
			t.Fatalf("exit: %v\n%s", err, p.logs.String())
		}
	}
	var records int
	db.QueryRow(`SELECT COUNT(*) FROM usage_records`).Scan(&records)
	if records < 41 {
		t.Fatalf("usage records = %d, want one per request (at least 41)", records)
	}
}

// TestSIGTERMDrainsOpenStreams opens 100 streams, sends SIGTERM while they
// run, and checks every stream finished and every request was recorded.
func TestSIGTERMDrainsOpenStreams(t *testing.T) {
	dir := t.TempDir()
	p := startProcess(t, map[string]string{"SLUICE_DATA_DIR": dir, "SLUICE_ADMIN_PASSWORD": "pw-drain", "SLUICE_SHUTDOWN_TIMEOUT": "20s"})
	upstream := slowStream(t, 10, 100*time.Millisecond)
	_, key, _ := setupService(t, p.base, "pw-drain", upstream.URL, "")

	const streams = 100
	results := openStreams(t, p.base, key, streams)
	if err := p.stop(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.logs.String())
	}
	for i := 0; i < streams; i++ {
		if r := <-results; !strings.HasSuffix(r, "data: [DONE]\n\n") || !strings.Contains(r, "tok9") {
			t.Fatalf("stream %d did not finish: %.200q", i, r)
		}
	}
	db, err := sql.Open("sqlite", "file:"+dir+"/sluice.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, partial int
	db.QueryRowContext(context.Background(), `SELECT COUNT(*), COALESCE(SUM(partial), 0) FROM usage_records WHERE streamed = 1`).Scan(&n, &partial)
	if n != streams || partial != 0 {
		t.Fatalf("recorded %d streams (%d partial), want %d complete", n, partial, streams)
	}
}

// openStreams starts n chat streams with key and returns once each has
// received its first byte; each stream's whole answer (or "error: …")
// arrives on the channel when it ends.
func openStreams(t *testing.T, base, key string, n int) <-chan string {
	t.Helper()
	started := make(chan struct{}, n)
	results := make(chan string, n)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	for i := 0; i < n; i++ {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions",
				strings.NewReader(`{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := client.Do(req)
			if err != nil {
				results <- "error: " + err.Error()
				started <- struct{}{}
				return
			}
			defer resp.Body.Close()
			first := make([]byte, 1)
			_, _ = resp.Body.Read(first)
			started <- struct{}{}
			rest, err := io.ReadAll(resp.Body)
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			results <- string(first) + string(rest)
		}()
	}
	for i := 0; i < n; i++ {
		<-started
	}
	return results
}

// TestTwoReplicasPace: an organization limit of 60 requests a minute,
// set through one replica, holds across two: of 300 concurrent requests
// split between them no more than 60 pass, and no fewer than 45 (each
// replica leases at most a quarter of the headroom it sees at a time, and
// what a replica leased and did not use comes back within a second); the
// rest are 429s with Retry-After; the limiter's refusals are counted.
// A concurrency limit of 5 holds across both under slow streams.
func TestTwoReplicasPace(t *testing.T) {
	target := testenv.Target(t, "postgres")
	env := map[string]string{"DATABASE_URL": target.DSN, "SLUICE_MASTER_KEY": testMasterKey, "SLUICE_JWT_SECRET": testJWT,
		"SLUICE_ADMIN_PASSWORD": "pw-pace", "SLUICE_METRICS_TOKEN": testMetricsToken}
	a := startProcess(t, env)
	b := startProcess(t, env)
	upstream := slowStream(t, 40, 100*time.Millisecond) // a stream lasts 4 s
	token, key, _ := setupService(t, a.base, "pw-pace", upstream.URL, "")
	gql(t, a.base, token, `mutation { updateOrganizationLimits(input: {limitRpm: 60}) { limitRpm } }`, nil)
	time.Sleep(300 * time.Millisecond) // B's key cache hears of the change
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":10}`

	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Go(func() {
			resp, body := post(t, []string{a.base, b.base}[i%2]+"/v1/chat/completions", key, chat)
			switch {
			case resp.StatusCode == 200:
				ok.Add(1)
			case resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "":
				refused.Add(1)
			default:
				t.Errorf("status %d retry-after %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
		})
	}
	wg.Wait()
	t.Logf("60 rpm across two replicas: %d of 300 passed, %d refused", ok.Load(), refused.Load())
	if n := ok.Load(); n > 60 || n < 45 || ok.Load()+refused.Load() != 300 {
		t.Fatalf("60 rpm across two replicas: %d passed, %d refused", n, refused.Load())
	}
	if !regexp.MustCompile(`sluice_pace_refusals_total{limit="rpm",scope="organization"} \d+`).MatchString(scrapeMetrics(t, a.base) + scrapeMetrics(t, b.base)) {
		t.Error("the replicas' metrics do not count the pace refusals")
	}

	// Five streams in flight at most, across both replicas.
	gql(t, b.base, token, `mutation { updateOrganizationLimits(input: {limitRpm: null, limitConcurrency: 5}) { limitConcurrency } }`, nil)
	time.Sleep(300 * time.Millisecond)
	stream := `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}],"max_tokens":10}`
	var streamed, busy atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			resp, _ := post(t, []string{a.base, b.base}[i%2]+"/v1/chat/completions", key, stream)
			switch resp.StatusCode {
			case 200:
				streamed.Add(1)
			case 429:
				busy.Add(1)
			}
		})
	}
	wg.Wait()
	if streamed.Load() > 5 || streamed.Load() == 0 || streamed.Load()+busy.Load() != 20 {
		t.Fatalf("concurrency 5 across two replicas: %d streams ran, %d refused", streamed.Load(), busy.Load())
	}

	// A replica killed with five streams in flight: its slots come back
	// to the other within the slot lease (30 s after its last renewal).
	// B hands its free slots back at its next flush (every 100 ms): a
	// stream refused meanwhile tries again.
	holding := make(chan int, 5)
	for range 5 {
		go func() {
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				req, _ := http.NewRequest(http.MethodPost, a.base+"/v1/chat/completions", strings.NewReader(stream))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					holding <- 0
					return
				}
				if resp.StatusCode == 429 && time.Now().Before(deadline) {
					resp.Body.Close()
					continue
				}
				holding <- resp.StatusCode
				io.Copy(io.Discard, resp.Body) // until the replica dies
				resp.Body.Close()
				return
			}
		}()
	}
	for range 5 {
		if code := <-holding; code != 200 {
			t.Fatalf("a stream on replica A answered %d, want 200", code)
		}
	}
	a.cmd.Process.Kill()
	killed := time.Now()
	if resp, _ := post(t, b.base+"/v1/chat/completions", key, chat); resp.StatusCode != 429 {
		t.Fatalf("B answered %d right after A died holding every slot, want 429", resp.StatusCode)
	}
	for {
		resp, _ := post(t, b.base+"/v1/chat/completions", key, chat)
		if resp.StatusCode == 200 {
			t.Logf("the dead replica's slots came back after %v", time.Since(killed).Round(100*time.Millisecond))
			break
		}
		if time.Since(killed) > 35*time.Second {
			t.Fatalf("B still refused (%d) 35 s after A died", resp.StatusCode)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := b.stop(t, 30*time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, b.logs.String())
	}
}

// loginCode logs in as admin and returns the error code, "" for a login.
func loginCode(t *testing.T, base, password string) string {
	t.Helper()
	return gqlCode(t, base, "", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`, map[string]any{"p": password})
}
