package graph_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestProviderUsage: a saved credential's live limits come from the
// provider's model list with the stored key; the answer is cached, refresh
// asks again, and testProviderCredential is limited to 10 a minute.
func TestProviderUsage(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var calls atomic.Int32
		var auth atomic.Value
		provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			auth.Store(r.Header.Get("Authorization"))
			w.Header().Set("x-ratelimit-limit-tokens", "1000")
			w.Header().Set("x-ratelimit-remaining-tokens", "250")
			w.Header().Set("x-ratelimit-reset-tokens", "1s")
			w.Write([]byte(`{"data":[{"id":"gpt-4o"}]}`))
		}))
		defer provider.Close()
		cred := h.as(admin, `mutation($u: String!) { createProviderCredential(input: {provider: "openai", accountKey: "live", baseUrl: $u, providerApiKey: "sk-live-key-9999"}) { id } }`,
			map[string]any{"u": provider.URL + "/v1"}).ok(t)
		q := `query($id: ID!, $r: Boolean) { providerUsage(credentialId: $id, refresh: $r) { provider accountKey reachable error source models
			tokens { limit remaining used pctUsed resetInMs } requests { limit } rateLimitHeaders } }`
		res := h.as(member, q, map[string]any{"id": cred.get("createProviderCredential.id")}).ok(t)
		if res.get("providerUsage.reachable") != true || res.num("providerUsage.tokens.used") != 750 || res.num("providerUsage.tokens.pctUsed") != 75 ||
			res.get("providerUsage.requests.limit") != nil || res.str("providerUsage.source") != "PROBE" || res.str("providerUsage.models.0") != "gpt-4o" {
			t.Fatalf("providerUsage: %s", res.raw)
		}
		if auth.Load() != "Bearer sk-live-key-9999" {
			t.Fatalf("probe auth = %v", auth.Load())
		}
		h.as(member, q, map[string]any{"id": cred.get("createProviderCredential.id")}).ok(t)
		if calls.Load() != 1 {
			t.Fatalf("cached answer called the provider again: %d calls", calls.Load())
		}
		h.as(member, q, map[string]any{"id": cred.get("createProviderCredential.id"), "r": true}).ok(t)
		if calls.Load() != 1 {
			t.Fatalf("a refresh right after a probe called the provider again: %d calls", calls.Load())
		}
		later := time.Now().Add(h.prober.MinRefresh)
		h.prober.Now = func() time.Time { return later }
		h.as(member, q, map[string]any{"id": cred.get("createProviderCredential.id"), "r": true}).ok(t)
		if calls.Load() != 2 {
			t.Fatalf("refresh did not call the provider: %d calls", calls.Load())
		}
		if strings.Contains(res.raw, "sk-live") {
			t.Fatal("the provider key reached the answer")
		}

		test := `mutation($u: String!) { testProviderCredential(input: {provider: "openai", baseUrl: $u, providerApiKey: "sk-unsaved"}) { reachable tokens { remaining } } }`
		for i := 0; i < 10; i++ {
			if r := h.as(admin, test, map[string]any{"u": provider.URL + "/v1"}).ok(t); r.num("testProviderCredential.tokens.remaining") != 250 {
				t.Fatalf("test %d: %s", i+1, r.raw)
			}
		}
		h.as(admin, test, map[string]any{"u": provider.URL + "/v1"}).wantCode(t, "RATE_LIMITED")
		h.as(member, test, map[string]any{"u": provider.URL + "/v1"}).wantCode(t, "FORBIDDEN")
		down := h.as(mgmtKey, test, map[string]any{"u": "http://127.0.0.1:1/v1"}).ok(t)
		if down.get("testProviderCredential.reachable") != false {
			t.Fatalf("an unreachable provider: %s", down.raw)
		}
	})
}

// TestProviderUsageRefreshAliases: a member's 500 aliases of
// providerUsage(refresh: true) make one call to the provider, and every
// alias gets its answer.
func TestProviderUsageRefreshAliases(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var calls atomic.Int32
		provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("x-ratelimit-limit-tokens", "1000")
			w.Header().Set("x-ratelimit-remaining-tokens", "250")
			w.Write([]byte(`{"data":[{"id":"gpt-4o"}]}`))
		}))
		defer provider.Close()
		id := h.as(admin, `mutation($u: String!) { createProviderCredential(input: {provider: "openai", accountKey: "live", baseUrl: $u, providerApiKey: "sk-live-key-9999"}) { id } }`,
			map[string]any{"u": provider.URL + "/v1"}).ok(t).str("createProviderCredential.id")
		var q strings.Builder
		q.WriteString("query($id: ID!) {")
		for i := 0; i < 500; i++ {
			fmt.Fprintf(&q, " a%d: providerUsage(credentialId: $id, refresh: true) { reachable }", i)
		}
		q.WriteString(" }")
		res := h.as(member, q.String(), map[string]any{"id": id}).ok(t)
		if calls.Load() != 1 {
			t.Fatalf("500 aliased refreshes made %d provider calls, want 1", calls.Load())
		}
		for i := 0; i < 500; i++ {
			if res.get(fmt.Sprintf("a%d.reachable", i)) != true {
				t.Fatalf("alias a%d: %.300s", i, res.raw)
			}
		}
	})
}
