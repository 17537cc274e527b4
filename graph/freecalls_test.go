package graph_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/providers"
)

// freePaths are the providers' model-list endpoints: the only requests
// Sluice may send to a provider on its own, because none is billed. A
// self-initiated call to any other path fails TestSelfInitiatedCallsAreFree.
var freePaths = map[string]bool{
	"GET /v1/models":        true, // OpenAI and its compatibles, Anthropic, Cohere, Ollama's OpenAI API
	"GET /v1beta/models":    true, // Gemini
	"GET /openai/v1/models": true, // Groq
	"GET /api/v1/models":    true, // OpenRouter
	"GET /api/tags":         true, // Ollama's native list
}

// billedMarkers are parts of the providers' generation, embedding and
// token-counting paths, named in a failure so the cause is plain.
var billedMarkers = []string{"chat", "completions", "messages", "generate", "embed", "count_tokens", "rerank", "responses", "predict"}

// freeCallUpstream is a provider speaking its wire format: it refuses a
// request without the key where the provider expects it, answers its
// model list, and records the method and path of every request.
type freeCallUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newFreeCallUpstream(t *testing.T, keyArrived func(*http.Request) bool, body string) *freeCallUpstream {
	u := &freeCallUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.seen = append(u.seen, r.Method+" "+r.URL.Path)
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !keyArrived(r) {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"message":"invalid api key"}}`))
			return
		}
		w.Write([]byte(body))
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *freeCallUpstream) requests() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.seen...)
}

// TestSelfInitiatedCallsAreFree: every call Sluice makes to a provider on
// its own (testing a credential, the live-usage probe on first look and
// on refresh) is a GET of the provider's model list, for every provider
// Sluice supports, and never a billed generation or embedding.
func TestSelfInitiatedCallsAreFree(t *testing.T) {
	const key = "sk-probe-key-1234"
	bearer := func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+key }
	openaiList := `{"object":"list","data":[{"id":"m-1","object":"model","created":1700000000,"owned_by":"system"}]}`
	tests := []struct {
		provider   string
		freePath   string // the model list, below the provider's default base path
		keyArrived func(*http.Request) bool
		body       string
		model      string
	}{
		{"anthropic", "GET /v1/models",
			func(r *http.Request) bool {
				return r.Header.Get("x-api-key") == key && r.Header.Get("anthropic-version") != ""
			},
			`{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false}`,
			"claude-sonnet-4-5"},
		{"cohere", "GET /v1/models", bearer, `{"models":[{"name":"command-r-plus","endpoints":["chat"]}]}`, "command-r-plus"},
		{"custom", "GET /v1/models", bearer, openaiList, "m-1"},
		{"deepseek", "GET /v1/models", bearer, openaiList, "m-1"},
		{"google", "GET /v1beta/models", func(r *http.Request) bool { return r.URL.Query().Get("key") == key },
			`{"models":[{"name":"models/gemini-2.0-flash","supportedGenerationMethods":["generateContent"]}]}`, "gemini-2.0-flash"},
		{"groq", "GET /openai/v1/models", bearer, openaiList, "m-1"},
		{"mistral", "GET /v1/models", bearer, openaiList, "m-1"},
		{"ollama", "GET /v1/models", func(r *http.Request) bool { return true },
			`{"object":"list","data":[{"id":"llama3.2:latest","object":"model","created":1700000000,"owned_by":"library"}]}`, "llama3.2:latest"},
		{"openai", "GET /v1/models", bearer, openaiList, "m-1"},
		{"openrouter", "GET /api/v1/models", bearer, openaiList, "m-1"},
		{"together", "GET /v1/models", bearer, openaiList, "m-1"},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.provider] = true
	}
	for _, name := range providers.Names() {
		if !covered[name] {
			t.Fatalf("provider %q has no row here: add its free model-list path", name)
		}
	}

	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var ahead atomic.Int64 // moves the prober's clock past MinRefresh
		h.prober.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
		// Credential tests are limited per caller; two admins share them.
		testers := []string{admin, mgmtKey}
		for i, tt := range tests {
			t.Run(tt.provider, func(t *testing.T) {
				up := newFreeCallUpstream(t, tt.keyArrived, tt.body)
				basePath := "/v1"
				if p, _ := providers.Lookup(tt.provider); p.DefaultBaseURL != "" {
					d, err := url.Parse(p.DefaultBaseURL)
					if err != nil {
						t.Fatal(err)
					}
					basePath = d.Path
				}
				base := up.URL + basePath

				id := h.as(admin, `mutation($p: String!, $u: String!, $k: String!) {
					createProviderCredential(input: {provider: $p, accountKey: "probe", baseUrl: $u, providerApiKey: $k}) { id } }`,
					map[string]any{"p": tt.provider, "u": base, "k": key}).ok(t).str("createProviderCredential.id")
				usage := `query($id: ID!, $r: Boolean) { providerUsage(credentialId: $id, refresh: $r) { reachable error models } }`
				triggers := []struct {
					name, field string
					run         func() *gqlResponse
				}{
					{"testProviderCredential", "testProviderCredential", func() *gqlResponse {
						return h.as(testers[i%len(testers)], `mutation($p: String!, $u: String!, $k: String!) {
							testProviderCredential(input: {provider: $p, baseUrl: $u, providerApiKey: $k}) { reachable error models } }`,
							map[string]any{"p": tt.provider, "u": base, "k": key})
					}},
					{"providerUsage", "providerUsage", func() *gqlResponse {
						return h.as(member, usage, map[string]any{"id": id})
					}},
					{"providerUsage refresh", "providerUsage", func() *gqlResponse {
						ahead.Add(int64(h.prober.MinRefresh))
						return h.as(member, usage, map[string]any{"id": id, "r": true})
					}},
				}
				for _, tr := range triggers {
					before := len(up.requests())
					res := tr.run().ok(t)
					if res.get(tr.field+".reachable") != true || res.str(tr.field+".models.0") != tt.model {
						t.Fatalf("%s: %s", tr.name, res.raw)
					}
					if got := len(up.requests()) - before; got != 1 {
						t.Fatalf("%s made %d calls to the provider, want 1", tr.name, got)
					}
				}
				for _, req := range up.requests() {
					for _, m := range billedMarkers {
						if strings.Contains(strings.ToLower(req), m) {
							t.Fatalf("%s: Sluice sent a billed call on its own: %s", tt.provider, req)
						}
					}
					if !freePaths[req] || req != tt.freePath {
						t.Fatalf("%s: Sluice called %q on its own, want only the free model list %q", tt.provider, req, tt.freePath)
					}
				}
			})
		}
	})
}
