package proxy

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/pace"
)

// paceFixture is a proxy holding requests to pace limits with the
// limiter production runs on db (embedded on SQLite, leased on
// PostgreSQL), and the refusals it counted.
func paceFixture(t *testing.T, db *database.DB) (*fixture, *paceCounts) {
	counts := &paceCounts{}
	l := pace.New(db, pace.Options{})
	f := newFixture(t, db, func(o *Options) { o.Pace = l; o.OnPaceRefusal = counts.add })
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
	f.price("anthropic", "claude-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
	return f, counts
}

type paceCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *paceCounts) add(limit, scope string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[limit+"/"+scope]++
}

func (c *paceCounts) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// TestPaceRequestsPerMinute: a key limited to 3 requests a minute gets 3
// answers, each with its own limit in OpenAI's headers (never the
// provider's), then 429s in its API's shape with Retry-After and the
// headers at zero; nothing more reaches the upstream; an Anthropic caller
// limited by its service reads Anthropic's headers.
func TestPaceRequestsPerMinute(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, counts := paceFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if r.URL.Path == "/v1/messages" {
				answerJSON(w, 200, anthropicBody, "Anthropic-Ratelimit-Requests-Remaining", "4999")
				return
			}
			answerJSON(w, 200, openAIChatBody, "X-Ratelimit-Remaining-Requests", "4999", "X-Ratelimit-Limit-Requests", "5000")
		})
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-PACE", models: []string{"gpt-test"}})
		key := f.addKey(svc, "paced", func(c *ent.APIKeyCreate) { c.SetLimitRpm(3) })
		chat := `{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`
		for i := range 3 {
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 200 {
				t.Fatalf("request %d: %d %s", i+1, resp.StatusCode, body)
			}
			if got, want := resp.Header.Get("X-Ratelimit-Limit-Requests"), "3"; got != want {
				t.Errorf("request %d: x-ratelimit-limit-requests %q, want the key's %s (not the provider's)", i+1, got, want)
			}
			if got, want := resp.Header.Get("X-Ratelimit-Remaining-Requests"), strconv.Itoa(2-i); got != want {
				t.Errorf("request %d: x-ratelimit-remaining-requests %q, want %s", i+1, got, want)
			}
			if d, err := time.ParseDuration(resp.Header.Get("X-Ratelimit-Reset-Requests")); err != nil || d <= 0 || d > 61*time.Second {
				t.Errorf("request %d: x-ratelimit-reset-requests %q", i+1, resp.Header.Get("X-Ratelimit-Reset-Requests"))
			}
		}
		resp, body := f.call("POST", "/v1/chat/completions", key, chat)
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		if resp.StatusCode != 429 || retry < 1 || retry > 61 || resp.Header.Get("X-Ratelimit-Remaining-Requests") != "0" {
			t.Fatalf("the 4th request: %d retry-after %q remaining %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"),
				resp.Header.Get("X-Ratelimit-Remaining-Requests"), body)
		}
		if msg := errorShape(t, "openai", 429, body); !strings.Contains(msg, `key "paced" allows 3 requests per minute`) {
			t.Errorf("refusal message %q", msg)
		}
		if up.count() != 3 || counts.get("rpm/key") != 1 {
			t.Errorf("upstream got %d requests, refusals counted %v", up.count(), counts.n)
		}
		if rec := f.lastRecord(); rec.Status != 429 || !strings.Contains(rec.Error, "requests per minute") {
			t.Errorf("the refusal's record %+v", rec)
		}

		// The service's limit applies to a key without its own, in
		// Anthropic's headers for an Anthropic caller.
		anSvc, anKey := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-PACE", models: []string{"claude-test"}})
		db.Client.Service.UpdateOne(anSvc).SetLimitRpm(100).SetLimitTpm(100_000).ExecX(t.Context())
		f.proxy.keys.flush()
		resp, body = f.call("POST", "/v1/messages", anKey, `{"model":"claude-test","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`)
		if resp.StatusCode != 200 || resp.Header.Get("Anthropic-Ratelimit-Requests-Limit") != "100" || resp.Header.Get("Anthropic-Ratelimit-Requests-Remaining") != "99" ||
			resp.Header.Get("Anthropic-Ratelimit-Tokens-Limit") != "100000" || resp.Header.Get("X-Ratelimit-Limit-Requests") != "" {
			t.Fatalf("anthropic caller: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if _, err := time.Parse(time.RFC3339, resp.Header.Get("Anthropic-Ratelimit-Requests-Reset")); err != nil {
			t.Errorf("anthropic-ratelimit-requests-reset: %v", err)
		}
	})
}

// TestPaceConcurrency: with one request in flight allowed, a second one
// while a slow stream runs is refused, and the slot comes back when the
// stream ends and when its client disconnects.
func TestPaceConcurrency(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, counts := paceFixture(t, db)
		release := make(chan struct{})
		var started atomic.Int32
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"stream":true`) {
				w.Header().Set("Content-Type", "text/event-stream")
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				started.Add(1)
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
				for _, e := range openAIStream {
					_, _ = w.Write([]byte(e))
				}
				return
			}
			answerJSON(w, 200, openAIChatBody)
		})
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-CONC", models: []string{"gpt-test"}})
		key := f.addKey(svc, "one-at-a-time", func(c *ent.APIKeyCreate) { c.SetLimitConcurrency(1) })
		chat := `{"model":"gpt-test","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`
		stream := `{"model":"gpt-test","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"Hi"}]}`

		for _, end := range []string{"finishes", "disconnects"} {
			ctx, cancel := context.WithCancel(t.Context())
			req, _ := http.NewRequestWithContext(ctx, "POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(stream))
			req.Header.Set("Authorization", "Bearer "+key)
			done := make(chan struct{})
			n := started.Load()
			go func() {
				defer close(done)
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					_, _ = resp.Body.Read(make([]byte, 1))
					if end == "finishes" {
						for _, err := resp.Body.Read(make([]byte, 512)); err == nil; _, err = resp.Body.Read(make([]byte, 512)) {
						}
					}
					resp.Body.Close()
				}
			}()
			for started.Load() == n {
				time.Sleep(5 * time.Millisecond)
			}
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "allows 1 request in flight") {
				t.Fatalf("a second request beside a running stream: %d retry-after %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if end == "finishes" {
				release <- struct{}{}
			} else {
				cancel()
			}
			<-done
			cancel()
			ok := false
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if resp, _ := f.call("POST", "/v1/chat/completions", key, chat); resp.StatusCode == 200 {
					ok = true
					break
				}
			}
			if !ok {
				t.Fatalf("the slot did not come back after the stream's client %s", end)
			}
		}
		if counts.get("concurrency/key") < 2 {
			t.Errorf("refusals counted %v", counts.n)
		}
	})
}

// TestPaceSDKBacksOff: the official OpenAI SDK, its default retries on,
// meets a concurrency refusal (429, Retry-After), waits and succeeds once
// the request in flight ended.
func TestPaceSDKBacksOff(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, _ := paceFixture(t, db)
		slow := make(chan struct{})
		var calls atomic.Int32
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if calls.Add(1) == 1 {
				<-slow
			}
			answerJSON(w, 200, openAIChatBody)
		})
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-SDKP", models: []string{"gpt-test"}})
		key := f.addKey(svc, "sdk", func(c *ent.APIKeyCreate) { c.SetLimitConcurrency(1) })
		go func() {
			f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","max_tokens":10,"messages":[]}`)
		}()
		for calls.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		var attempts atomic.Int32
		client := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(2),
			option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
				if attempts.Add(1) == 1 {
					defer close(slow) // the request in flight ends while the SDK backs off
				}
				return next(req)
			}))
		chat, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{
			Model: "gpt-test", MaxTokens: openai.Int(10), Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}})
		if err != nil || chat.Choices[0].Message.Content != "Hello!" {
			t.Fatalf("after backing off: %v", err)
		}
		if attempts.Load() != 2 {
			t.Errorf("%d attempts, want the refused one and one after Retry-After", attempts.Load())
		}
	})
}

// TestPaceTokensPerMinute: a streamed answer's tokens, known only at its
// end, count against the key's tokens-per-minute limit: the next request
// whose estimate (input plus output cap) no longer fits is refused naming
// the limit, and one that fits passes, told what remains.
func TestPaceTokensPerMinute(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, counts := paceFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"stream":true`) {
				sseEvents(w, openAIStream...)
				return
			}
			answerJSON(w, 200, openAIChatBody)
		})
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-TPM", models: []string{"gpt-test"}})
		const limit = 3000
		key := f.addKey(svc, "tokens", func(c *ent.APIKeyCreate) { c.SetLimitTpm(limit) })
		resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","stream":true,"max_tokens":600,"messages":[{"role":"user","content":"Hi"}]}`)
		if resp.StatusCode != 200 || !strings.Contains(body, "[DONE]") {
			t.Fatalf("stream: %d %s", resp.StatusCode, body)
		}
		rec := f.lastRecord()
		used := rec.InputTokens + rec.OutputTokens
		if used < 600 {
			t.Fatalf("the stream's record counts %d tokens", used)
		}
		left := int64(limit) - used
		ask := func(maxTokens int64) (*http.Response, string) {
			return f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","max_tokens":`+strconv.FormatInt(maxTokens, 10)+`,"messages":[{"role":"user","content":"Hi"}]}`)
		}
		resp, body = ask(left + 10)
		if resp.StatusCode != 429 || !strings.Contains(body, "3000 tokens per minute") {
			t.Fatalf("a request whose output cap alone is past what is left (%d): %d %s", left, resp.StatusCode, body)
		}
		resp, body = ask(10)
		if resp.StatusCode != 200 {
			t.Fatalf("a request that fits in the %d left: %d %s", left, resp.StatusCode, body)
		}
		if rem, _ := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Remaining-Tokens"), 10, 64); rem >= left || rem < left-400 { // the estimate of the input is its body's size
			t.Errorf("x-ratelimit-remaining-tokens %d, want a little under the %d left after the stream", rem, left)
		}
		if counts.get("tpm/key") != 1 {
			t.Errorf("refusals counted %v", counts.n)
		}
	})
}

// TestPaceBudgetRefusalsTakeNoPlace: requests a spent budget refuses
// never went upstream and take no place in the pace limits, so a client
// retrying against its spent budget leaves the others' minute alone.
func TestPaceBudgetRefusalsTakeNoPlace(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		b := &fakeBudget{refuse: &Refusal{Status: 429, Message: "budget exceeded"}}
		l := pace.New(db, pace.Options{})
		t.Cleanup(func() { _ = l.Close(context.Background()) })
		f := newFixture(t, db, func(o *Options) { o.Pace = l; o.Budget = b })
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, answerOK)
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-BFIRST", models: []string{"gpt-test"}})
		key := f.addKey(svc, "two-a-minute", func(c *ent.APIKeyCreate) { c.SetLimitRpm(2) })
		for range 5 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 429 || !strings.Contains(body, "budget exceeded") {
				t.Fatalf("with the budget spent: %d %s", resp.StatusCode, body)
			}
		}
		b.mu.Lock()
		b.refuse = nil
		b.mu.Unlock()
		for i := range 2 {
			if resp, body := f.call("POST", "/v1/chat/completions", key, chatRequest); resp.StatusCode != 200 {
				t.Fatalf("request %d after the budget was raised: %d %s", i+1, resp.StatusCode, body)
			}
		}
	})
}
