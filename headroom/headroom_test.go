package headroom

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/upstream"
)

// fakeProvider serves a model list in a provider's shape with its
// rate-limit headers, counting calls and remembering the auth it got.
type fakeProvider struct {
	*httptest.Server
	calls   atomic.Int32
	gotAuth atomic.Value
}

func newFake(t *testing.T, status int, headers map[string]string, body string) *fakeProvider {
	f := &fakeProvider{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		f.gotAuth.Store(r.Header.Get("Authorization") + "|" + r.Header.Get("x-api-key") + "|" + r.URL.Query().Get("key") + "|" + r.URL.Path)
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	t.Cleanup(f.Close)
	return f
}

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func prober() *Prober {
	p := New(upstream.Policy{})
	p.Now = func() time.Time { return now }
	return p
}

func ptr[T any](v T) *T { return &v }

func TestProbeHeaderFamilies(t *testing.T) {
	openai := newFake(t, 200, map[string]string{
		"x-ratelimit-limit-requests": "5000", "x-ratelimit-remaining-requests": "4999", "x-ratelimit-reset-requests": "12ms",
		"x-ratelimit-limit-tokens": "2000000", "x-ratelimit-remaining-tokens": "1500000", "x-ratelimit-reset-tokens": "6m0s",
	}, `{"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt-4o-mini"}]}`)
	anthropic := newFake(t, 200, map[string]string{
		"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "49",
		"anthropic-ratelimit-requests-reset":     "2026-11-25T12:00:30Z",
		"anthropic-ratelimit-input-tokens-limit": "40000", "anthropic-ratelimit-input-tokens-remaining": "10000",
		"anthropic-ratelimit-input-tokens-reset": "2026-11-25T12:01:00Z",
	}, `{"data":[{"id":"claude-sonnet-4-5","type":"model"}],"has_more":false}`)
	gemini := newFake(t, 200, nil, `{"models":[{"name":"models/gemini-2.0-flash"}]}`)

	p := prober()
	r := p.Probe(context.Background(), Target{Provider: "openai", AccountKey: "main", BaseURL: ptr(openai.URL + "/v1"),
		Auth: upstream.Auth{Method: "auth_bearer", Key: "sk-openai"}})
	if !r.Reachable || r.Error != "" || strings.Join(r.Models, ",") != "gpt-4o,gpt-4o-mini" {
		t.Fatalf("openai probe: %+v", r)
	}
	if *r.Limits.Tokens.Limit != 2000000 || *r.Limits.Tokens.Remaining != 1500000 || *r.Limits.Tokens.Used() != 500000 ||
		*r.Limits.Tokens.PctUsed() != 25 || *r.Limits.Tokens.ResetIn(now) != 6*time.Minute || *r.Limits.Requests.ResetIn(now) != 12*time.Millisecond {
		t.Fatalf("openai limits: %+v", r.Limits)
	}
	if got := openai.gotAuth.Load().(string); got != "Bearer sk-openai|||/v1/models" {
		t.Fatalf("openai auth: %q", got)
	}

	r = p.Probe(context.Background(), Target{Provider: "anthropic", BaseURL: ptr(anthropic.URL + "/v1"),
		Auth: upstream.Auth{Method: "auth_apikey", Field: "x-api-key", Key: "sk-ant"}})
	if !r.Reachable || *r.Limits.Requests.Limit != 50 || *r.Limits.InputTokens.Remaining != 10000 ||
		*r.Limits.InputTokens.ResetIn(now) != time.Minute || r.Limits.Family != ratelimits.FamilyAnthropic {
		t.Fatalf("anthropic probe: %+v", r)
	}
	if got := anthropic.gotAuth.Load().(string); got != "|sk-ant||/v1/models" {
		t.Fatalf("anthropic auth: %q", got)
	}

	r = p.Probe(context.Background(), Target{Provider: "google", BaseURL: ptr(gemini.URL + "/v1beta"),
		Auth: upstream.Auth{Method: "query_param", Field: "key", Key: "AIza-secret"}})
	if !r.Reachable || r.Limits.Family != ratelimits.FamilyNone || r.Limits.Tokens.Limit != nil || r.Models[0] != "gemini-2.0-flash" {
		t.Fatalf("gemini probe (no headers: no numbers invented): %+v", r)
	}
}

func TestProbeFailuresAreAnswers(t *testing.T) {
	refused := newFake(t, 401, nil, `{"error":{"message":"Incorrect API key provided: AIza-secret"}}`)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(300 * time.Millisecond) }))
	defer slow.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	p := prober()
	p.HTTP.Timeout = 100 * time.Millisecond
	gem := func(base string) Target {
		return Target{Provider: "google", BaseURL: ptr(base), Auth: upstream.Auth{Method: "query_param", Field: "key", Key: "AIza-secret"}}
	}
	cases := []struct {
		name string
		t    Target
		want string
	}{
		{"bad key", gem(refused.URL), "refused the key"},
		{"timeout", gem(slow.URL), "did not answer in time"},
		{"unreachable", gem(closedURL), "connection refused"},
	}
	for _, c := range cases {
		r := p.Probe(context.Background(), c.t)
		if r.Reachable || !strings.Contains(r.Error, c.want) || strings.Contains(r.Error, "AIza-secret") {
			t.Errorf("%s: reachable %v, error %q; want unreachable, %q, no key", c.name, r.Reachable, r.Error, c.want)
		}
	}
}

// TestCacheAndRefresh: within a minute the provider is not called again;
// refresh calls it; after a minute the cache expires; fresh traffic headers
// answer without a call.
func TestCacheAndRefresh(t *testing.T) {
	f := newFake(t, 200, map[string]string{"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9"}, `{"data":[]}`)
	p := prober()
	target := Target{Provider: "openai", BaseURL: ptr(f.URL), Auth: upstream.Auth{Method: "auth_bearer", Key: "k"}}
	ctx := context.Background()
	p.ForCredential(ctx, 1, target, false)
	now = now.Add(59 * time.Second)
	if r := p.ForCredential(ctx, 1, target, false); f.calls.Load() != 1 || r.Source != SourceProbe {
		t.Fatalf("cached answer called the provider: %d calls", f.calls.Load())
	}
	p.ForCredential(ctx, 1, target, true)
	if f.calls.Load() != 2 {
		t.Fatalf("refresh did not call the provider: %d calls", f.calls.Load())
	}
	now = now.Add(61 * time.Second)
	p.ForCredential(ctx, 1, target, false)
	if f.calls.Load() != 3 {
		t.Fatalf("expired cache did not call the provider: %d calls", f.calls.Load())
	}
	h := http.Header{}
	h.Set("x-ratelimit-limit-requests", "10")
	h.Set("x-ratelimit-remaining-requests", "3")
	now = now.Add(61 * time.Second)
	p.Observe(1, ratelimits.Parse(h, now), now)
	r := p.ForCredential(ctx, 1, target, false)
	if f.calls.Load() != 3 || r.Source != SourceTraffic || *r.Limits.Requests.Remaining != 3 {
		t.Fatalf("traffic headers not used: %d calls, %+v", f.calls.Load(), r)
	}
}

// TestRefreshIsLimitedAndCoalesced: 500 concurrent refreshes of one
// credential make one call to the provider and share its answer; a refresh
// within MinRefresh of the last probe answers from it; after MinRefresh a
// refresh calls again. Another credential is not held back.
func TestRefreshIsLimitedAndCoalesced(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, 200, map[string]string{"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9"}, `{"data":[]}`)
	fast := f.Config.Handler
	var arrived atomic.Int32
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-release // hold the first call while the other callers queue behind it
		fast.ServeHTTP(w, r)
	})
	p := prober()
	target := Target{Provider: "openai", BaseURL: ptr(f.URL), Auth: upstream.Auth{Method: "auth_bearer", Key: "k"}}
	ctx := context.Background()

	var wg sync.WaitGroup
	var answered atomic.Int32
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := p.ForCredential(ctx, 1, target, true); r.Reachable {
				answered.Add(1)
			}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); arrived.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	wg.Wait()
	if f.calls.Load() != 1 || answered.Load() != 500 {
		t.Fatalf("500 concurrent refreshes: %d provider calls, %d answers; want 1 call shared by 500", f.calls.Load(), answered.Load())
	}

	now = now.Add(p.MinRefresh - time.Second)
	p.ForCredential(ctx, 1, target, true)
	if f.calls.Load() != 1 {
		t.Fatalf("a refresh within MinRefresh called the provider: %d calls", f.calls.Load())
	}
	p.ForCredential(ctx, 2, target, true)
	if f.calls.Load() != 2 {
		t.Fatalf("another credential's refresh was held back: %d calls", f.calls.Load())
	}
	now = now.Add(2 * time.Second)
	p.ForCredential(ctx, 1, target, true)
	if f.calls.Load() != 3 {
		t.Fatalf("a refresh after MinRefresh did not call the provider: %d calls", f.calls.Load())
	}
}

// TestSlowProbeIsShared: refreshes that queued behind a probe slower than
// MinRefresh take its answer rather than each probing again in turn.
func TestSlowProbeIsShared(t *testing.T) {
	const n = 20
	release := make(chan struct{})
	f := newFake(t, 200, map[string]string{"x-ratelimit-limit-requests": "10", "x-ratelimit-remaining-requests": "9"}, `{"data":[]}`)
	fast := f.Config.Handler
	var arrived atomic.Int32
	f.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		<-release
		time.Sleep(100 * time.Millisecond) // every probe slower than MinRefresh
		fast.ServeHTTP(w, r)
	})
	p := New(upstream.Policy{})
	p.MinRefresh = 50 * time.Millisecond
	target := Target{Provider: "openai", BaseURL: ptr(f.URL), Auth: upstream.Auth{Method: "auth_bearer", Key: "k"}}
	var wg sync.WaitGroup
	var started, answered atomic.Int32
	for range n {
		wg.Go(func() {
			started.Add(1)
			if r := p.ForCredential(context.Background(), 1, target, true); r.Reachable {
				answered.Add(1)
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); (started.Load() < n || arrived.Load() == 0) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(10 * p.MinRefresh) // the callers queue; the probe grows older than MinRefresh
	close(release)
	wg.Wait()
	if f.calls.Load() != 1 || answered.Load() != n {
		t.Fatalf("%d refreshes behind a slow probe: %d provider calls, %d answers; want 1 call shared by all", n, f.calls.Load(), answered.Load())
	}
}

// TestProbeFollowsOutboundPolicy: a prober that may not connect to private
// addresses never reaches a provider on loopback, however its base URL
// passed the check when saved; one that may, does.
func TestProbeFollowsOutboundPolicy(t *testing.T) {
	for _, c := range []struct {
		name      string
		deny      bool
		reachable bool
		wantErr   string
		wantCalls int32
	}{
		{"deny private", true, false, "private upstreams are not allowed", 0},
		{"allow private", false, true, "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, 200, nil, `{"data":[{"id":"gpt-4o"}]}`)
			p := New(upstream.Policy{DenyPrivate: c.deny})
			r := p.Probe(context.Background(), Target{Provider: "openai", BaseURL: ptr(f.URL), Auth: upstream.Auth{Method: "auth_bearer", Key: "k"}})
			if r.Reachable != c.reachable || !strings.Contains(r.Error, c.wantErr) || (c.wantErr == "" && r.Error != "") {
				t.Fatalf("probe: reachable %v, error %q; want reachable %v, error %q", r.Reachable, r.Error, c.reachable, c.wantErr)
			}
			if got := f.calls.Load(); got != c.wantCalls {
				t.Fatalf("the provider was called %d times, want %d", got, c.wantCalls)
			}
		})
	}
}
