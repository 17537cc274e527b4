package proxy

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/ratelimits"
)

// testClock is the proxy's clock in routing tests: frozen until moved.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// targetSpec is one credential a routed service calls.
type targetSpec struct {
	baseURL  string
	weight   int
	modelMap map[string]string
}

// addRoutedService creates an OpenAI service whose traffic goes to
// targets, each with a credential of its own, and a client key; it returns
// the service, the targets in order and the key.
func (f *fixture) addRoutedService(name string, models []string, specs ...targetSpec) (*ent.Service, []*ent.ServiceTarget, string) {
	f.t.Helper()
	ctx := context.Background()
	c := f.db.Client
	svc := c.Service.Create().SetOrganizationID(f.org.ID).SetServiceName(name).SetProvider("openai").
		SetModelsEnabled(models).SaveX(ctx)
	var targets []*ent.ServiceTarget
	for i, s := range specs {
		cred := c.ProviderCredential.Create().SetOrganizationID(f.org.ID).SetProvider("openai").
			SetAccountKey(fmt.Sprintf("%s-%d", name, i)).SetDisplayName(fmt.Sprintf("%s-%d", name, i)).SetBaseURL(s.baseURL).SaveX(ctx)
		secret := fmt.Sprintf("sk-provider-%s-%d", name, i)
		if err := credentials.SetKey(ctx, f.keyring, c.ProviderCredential.UpdateOneID(cred.ID), cred.ID, secret); err != nil {
			f.t.Fatal(err)
		}
		f.secrets = append(f.secrets, secret)
		targets = append(targets, c.ServiceTarget.Create().SetOrganizationID(f.org.ID).SetServiceID(svc.ID).SetCredentialID(cred.ID).
			SetPosition(i).SetWeight(max(s.weight, 1)).SetModelMap(s.modelMap).SaveX(ctx))
	}
	return svc, targets, f.addKey(svc, name+"-key", nil)
}

// switchable answers with whichever handler is current.
type switchable struct {
	mu sync.Mutex
	fn func(w http.ResponseWriter, r *http.Request, body []byte)
}

func (s *switchable) set(fn func(w http.ResponseWriter, r *http.Request, body []byte)) {
	s.mu.Lock()
	s.fn = fn
	s.mu.Unlock()
}

func (s *switchable) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	fn := s.fn
	s.mu.Unlock()
	fn(w, r, body)
}

var (
	answerOK = func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) }
	answer   = func(status int, header ...string) func(w http.ResponseWriter, r *http.Request, body []byte) {
		return func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, status, `{"error":{"message":"upstream trouble","type":"server_error"}}`, header...)
		}
	}
)

const chatRequest = `{"model":"gpt-test","messages":[{"role":"user","content":"Hi"}]}`

// TestRoutingWeights: over 1,000 requests two healthy targets weighted 3:1
// share the traffic 75/25 within ±5 points (more than 3.5 standard
// deviations of a fair draw), and no request is retried.
func TestRoutingWeights(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		a := newUpstream(t, answerOK)
		b := newUpstream(t, answerOK)
		_, _, key := f.addRoutedService("weighted", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 3}, targetSpec{baseURL: b.srv.URL, weight: 1})
		const total = 1000
		var wg sync.WaitGroup
		var failed atomic.Int32
		reqs := make(chan struct{}, total)
		for range total {
			reqs <- struct{}{}
		}
		close(reqs)
		for range 8 {
			wg.Go(func() {
				for range reqs {
					req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(chatRequest))
					req.Header.Set("Authorization", "Bearer "+key)
					resp, err := http.DefaultClient.Do(req)
					if err != nil || resp.StatusCode != 200 {
						failed.Add(1)
					}
					if resp != nil {
						resp.Body.Close()
					}
				}
			})
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.Fatalf("%d requests failed", failed.Load())
		}
		if a.count()+b.count() != total {
			t.Fatalf("upstreams got %d + %d requests for %d", a.count(), b.count(), total)
		}
		if share := float64(a.count()) / total; share < 0.70 || share > 0.80 {
			t.Fatalf("the weight-3 target got %.1f%% of the traffic, want 75%% ± 5", share*100)
		}
	})
}

// TestRoutingRateLimitedTarget: a target that answered 429 with
// Retry-After is skipped until then, the request that met the 429 fails
// over, and after the reset one probe puts the target back.
func TestRoutingRateLimitedTarget(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		aMode := &switchable{fn: answer(429, "Retry-After", "20")}
		a := newUpstream(t, aMode.serve)
		b := newUpstream(t, answerOK)
		_, targets, key := f.addRoutedService("limited", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
		for a.count() == 0 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
		}
		rec := f.lastRecord()
		if len(rec.Attempts) != 2 || rec.Attempts[0].TargetID != targets[0].ID || rec.Attempts[0].Status != 429 ||
			rec.Attempts[1].TargetID != targets[1].ID || rec.Attempts[1].Status != 200 || rec.Status != 200 || *rec.CredentialID != targets[1].CredentialID {
			t.Fatalf("record of the failed-over request: %+v", rec)
		}
		st := f.proxy.Health(targets[0].ID)
		if st.Healthy || !st.CoolingDownUntil.Equal(clock.Now().Add(20*time.Second)) || !strings.Contains(st.LastError, "429") {
			t.Fatalf("state of the rate-limited target: %+v", st)
		}

		aMode.set(answerOK)
		clock.advance(19 * time.Second)
		for range 20 {
			f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		if a.count() != 1 {
			t.Fatalf("the rate-limited target got %d requests before its reset", a.count()-1)
		}
		clock.advance(2 * time.Second)
		for i := 0; a.count() == 1; i++ {
			if i == 20 {
				t.Fatal("the target was not tried again after its reset")
			}
			f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		if st := f.proxy.Health(targets[0].ID); !st.Healthy || !st.CoolingDownUntil.IsZero() || st.ConsecutiveFailures != 0 {
			t.Fatalf("state after a successful probe: %+v", st)
		}
	})
}

// TestRoutingDownTargetProbe: a target that fails gets no traffic during
// its back-off (1 s, then 2 s), exactly one probe request when it ends
// even under concurrent load, and its share back once a probe succeeds.
func TestRoutingDownTargetProbe(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		aMode := &switchable{fn: answer(503)}
		a := newUpstream(t, aMode.serve)
		b := newUpstream(t, answerOK)
		_, targets, key := f.addRoutedService("down", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
		send := func(n int) {
			t.Helper()
			for range n {
				if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
			}
		}
		for a.count() == 0 {
			send(1)
		}
		send(10)
		if a.count() != 1 {
			t.Fatalf("the failing target got %d requests during its back-off", a.count()-1)
		}
		clock.advance(1500 * time.Millisecond) // past the 1 s back-off: one probe, which fails
		send(10)
		if a.count() != 2 {
			t.Fatalf("the failing target got %d probes after its back-off, want 1", a.count()-1)
		}
		st := f.proxy.Health(targets[0].ID)
		if st.Healthy || st.ConsecutiveFailures != 2 || !st.CoolingDownUntil.Equal(clock.Now().Add(2*time.Second)) {
			t.Fatalf("state after a failed probe: %+v (back-off should be 2 s)", st)
		}

		// Back up, but slow: while the probe is in flight, nothing else goes there.
		release := make(chan struct{})
		aMode.set(func(w http.ResponseWriter, r *http.Request, body []byte) {
			<-release
			answerJSON(w, 200, openAIChatBody)
		})
		clock.advance(2500 * time.Millisecond)
		var wg sync.WaitGroup
		var done atomic.Int32
		for range 10 {
			wg.Go(func() {
				f.call("POST", "/v1/chat/completions", key, chatRequest)
				done.Add(1)
			})
		}
		// Nine answers come from the other target; the probe, held by the
		// upstream, may reach it after them on a loaded machine.
		deadline := time.Now().Add(5 * time.Second)
		for (done.Load() < 9 || a.count() < 3) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if a.count() != 3 {
			t.Fatalf("%d requests reached the target while its probe was in flight, want 1", a.count()-2)
		}
		close(release)
		wg.Wait()
		if !f.proxy.Health(targets[0].ID).Healthy {
			t.Fatalf("the target is not healthy after a successful probe: %+v", f.proxy.Health(targets[0].ID))
		}
		before := a.count()
		send(20)
		if a.count()-before < 15 {
			t.Fatalf("the recovered target got %d of 20 requests; its weight is 1000:1", a.count()-before)
		}
	})
}

// TestRoutingFailoverChargesOnce: a 500 before the first byte fails over;
// the client gets the second target's answer, and there is one usage
// record with both attempts, the cost of the answer only, and budget spend
// equal to it with nothing left reserved. The second target's model map
// renames the model upstream.
func TestRoutingFailoverChargesOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		var bud budget.Ledger
		f := newFixture(t, db, func(o *Options) {
			o.Now = clock.Now
			bud = budget.New(db, budget.Options{Log: o.Log})
			o.Budget = Budgets(bud)
		})
		f.price("openai", "gpt-test", 2_500_000, 10_000_000, 1_250_000, modelprice.KindText)
		a := newUpstream(t, answer(500))
		b := newUpstream(t, answerOK)
		svc, targets, key := f.addRoutedService("failover", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1, modelMap: map[string]string{"gpt-test": "deploy-b"}})
		var resp *http.Response
		var body string
		for a.count() == 0 {
			resp, body = f.call("POST", "/v1/chat/completions", key, chatRequest)
		}
		if resp.StatusCode != 200 || body != openAIChatBody || resp.Header.Get("X-Sluice-Cost-USD") != "0.007250" {
			t.Fatalf("status %d cost %q body %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cost-USD"), body)
		}
		if got := string(b.last(t).Body); !strings.Contains(got, `"model":"deploy-b"`) {
			t.Errorf("the mapped model did not reach the upstream: %s", got)
		}
		recs := f.records()
		rec := recs[len(recs)-1]
		if len(recs) != b.count() {
			t.Fatalf("%d usage records for %d answered requests", len(recs), b.count())
		}
		if rec.Cost != 7250 || rec.Model != "gpt-test" || rec.Status != 200 || len(rec.Attempts) != 2 ||
			rec.Attempts[0].Status != 500 || rec.Attempts[0].Error != "upstream answered 500" || rec.Attempts[0].TargetID != targets[0].ID ||
			rec.Attempts[1].Status != 200 || rec.Attempts[1].TargetID != targets[1].ID {
			t.Fatalf("record %+v", rec)
		}
		var total int64
		for _, r := range recs {
			total += int64(r.Cost)
		}
		if err := bud.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		w := f.db.Client.SpendWindow.Query().Where(spendwindow.ScopeEQ(spendwindow.ScopeService), spendwindow.ScopeID(svc.ID),
			spendwindow.WindowEQ(spendwindow.WindowTotal)).OnlyX(context.Background())
		if w.Spent != total || w.Reserved != 0 {
			t.Fatalf("service spend %d reserved %d, want spend %d (the answers' cost) and nothing reserved", w.Spent, w.Reserved, total)
		}
	})
}

// TestRoutingNoRetryAfterFirstByte: a stream that breaks after its first
// event is not retried elsewhere; the client gets what was streamed and an
// error event, and the record says the stream failed.
func TestRoutingNoRetryAfterFirstByte(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now })
		a := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sseEvents(w, openAIStream[0])
			panic(http.ErrAbortHandler) // the connection drops mid-stream
		})
		b := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { sseEvents(w, openAIStream...) })
		_, targets, key := f.addRoutedService("broken", []string{"gpt-test"},
			targetSpec{baseURL: a.srv.URL, weight: 1000}, targetSpec{baseURL: b.srv.URL, weight: 1})
		stream := `{"model":"gpt-test","stream":true}`
		var resp *http.Response
		var body string
		for a.count() == 0 {
			resp, body = f.call("POST", "/v1/chat/completions", key, stream)
		}
		if b.count() != 0 {
			t.Skip("the weight-1 target was drawn first; rerun")
		}
		if resp.StatusCode != 200 || !strings.HasPrefix(body, openAIStream[0]) {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
		sc := bufio.NewScanner(strings.NewReader(strings.TrimPrefix(body, openAIStream[0])))
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), `data: {"error":{"message":"the upstream stream failed after the answer began`) ||
			!strings.Contains(sc.Text(), `"code":"upstream_stream_failed"`) {
			t.Fatalf("the stream does not end with an error event: %q", body)
		}
		rec := f.lastRecord()
		if !rec.Partial || !strings.HasPrefix(rec.Error, "upstream stream failed") || len(rec.Attempts) != 1 ||
			rec.Attempts[0].TargetID != targets[0].ID || rec.Attempts[0].Error == "" {
			t.Fatalf("record %+v", rec)
		}
		if st := f.proxy.Health(targets[0].ID); st.Healthy {
			t.Errorf("a target whose stream broke stays in rotation: %+v", st)
		}
	})
}

// TestRoutingNoTarget: when every target is backing off, the request is
// refused at once (503, or 429 when all are rate-limited) with
// Retry-After, in the protocol's error shape, and recorded.
func TestRoutingNoTarget(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		clock := newTestClock()
		f := newFixture(t, db, func(o *Options) { o.Now = clock.Now; o.MaxAttempts = 1 })
		a := newUpstream(t, answer(429, "Retry-After", "30"))
		_, _, key := f.addRoutedService("alone", []string{"gpt-test"}, targetSpec{baseURL: a.srv.URL})
		if resp, _ := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 429 {
			t.Fatalf("the upstream's 429 was not passed on when no other target is left: %d", resp.StatusCode)
		}
		resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "30" || !strings.Contains(body, "rate-limited by its provider") || a.count() != 1 {
			t.Fatalf("status %d Retry-After %q upstream calls %d: %s", resp.StatusCode, resp.Header.Get("Retry-After"), a.count(), body)
		}
		if rec := f.lastRecord(); rec.Status != 429 || rec.Error == "" {
			t.Fatalf("record %+v", rec)
		}
	})
}

// TestOpenAISDKWithFailover: the official SDK, with retries off, sees only
// answers while one of the service's two targets is unreachable.
func TestOpenAISDKWithFailover(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 2_500_000, 10_000_000, 1_250_000, modelprice.KindText)
		dead := newUpstream(t, answerOK)
		deadURL := dead.srv.URL + "/v1"
		dead.srv.Close() // connection refused from now on
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"stream":true`) {
				sseEvents(w, openAIStream...)
				return
			}
			answerJSON(w, 200, openAIChatBody)
		})
		_, _, key := f.addRoutedService("sdk", []string{"gpt-test"},
			targetSpec{baseURL: deadURL, weight: 1}, targetSpec{baseURL: up.srv.URL + "/v1", weight: 1})
		client := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
		ctx := t.Context()
		for i := range 10 {
			chat, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
				Model:    "gpt-test",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
			})
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if chat.Choices[0].Message.Content != "Hello!" {
				t.Fatalf("chat answer %+v", chat)
			}
		}
		stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:    "gpt-test",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")},
		})
		var acc openai.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "Hello" {
			t.Fatalf("stream: %v %+v", err, acc.Choices)
		}
		for _, rec := range f.records() {
			if rec.Status != 200 || rec.Cost != 7250 {
				t.Fatalf("record %+v", rec)
			}
		}
		f.checkNoSecrets("logs", f.logs.String())
	})
}

// TestRateLimitReset: a 429's cooldown comes from Retry-After, else the
// exhausted window's reset, else the earliest reset, else 30 s.
func TestRateLimitReset(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"retry-after seconds", map[string]string{"Retry-After": "7"}, 7 * time.Second},
		{"retry-after-ms wins", map[string]string{"Retry-After-Ms": "1500", "x-ratelimit-reset-requests": "20s"}, 1500 * time.Millisecond},
		{"exhausted window", map[string]string{"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "2s",
			"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m0s"}, time.Minute},
		{"earliest reset", map[string]string{"x-ratelimit-reset-requests": "9s", "x-ratelimit-reset-tokens": "40s"}, 9 * time.Second},
		{"nothing said", nil, defaultRateLimitCooldown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range c.header {
				h.Set(k, v)
			}
			if got := rateLimitReset(ratelimits.Parse(h, now), now).Sub(now); got != c.want {
				t.Fatalf("cooldown %v, want %v", got, c.want)
			}
		})
	}
}

// TestBackoff: failures in a row back off 1 s, 2 s, 4 s … up to 5 min,
// and a success clears them.
func TestBackoff(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	h := &targetHealth{}
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		h.failed(now, "boom")
		if got := time.Duration(h.until.Load() - now.UnixNano()); got != want {
			t.Fatalf("failure %d: back-off %v, want %v", i+1, got, want)
		}
	}
	if h.available(now) || !h.available(now.Add(5*time.Minute)) {
		t.Fatal("a target is available during its back-off, or not after it")
	}
	if !h.acquire(now.Add(5*time.Minute)) || h.acquire(now.Add(5*time.Minute)) {
		t.Fatal("after the back-off exactly one probe may go")
	}
	h.succeeded()
	if !h.available(now) || h.failures != 0 {
		t.Fatal("a success did not clear the back-off")
	}
}
