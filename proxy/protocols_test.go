package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/ratelimits"
)

const (
	openAIChatBody  = `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,"prompt_tokens_details":{"cached_tokens":200}}}`
	openAIEmbedBody = `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}],"model":"embed-test","usage":{"prompt_tokens":50,"total_tokens":50}}`
	anthropicBody   = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":100,"cache_read_input_tokens":1000,"cache_creation_input_tokens":2000,"cache_creation":{"ephemeral_5m_input_tokens":1500,"ephemeral_1h_input_tokens":500},"output_tokens":20}}`
	geminiBody      = `{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":10,"candidatesTokenCount":5,"totalTokenCount":15},"modelVersion":"gemini-test"}`
	cohereBody      = `{"id":"c1","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"Hi"}]},"usage":{"billed_units":{"input_tokens":7,"output_tokens":3},"tokens":{"input_tokens":7,"output_tokens":3}}}`
)

var (
	openAIStream = []string{
		`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}` + "\n\n",
		`data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}` + "\n\n",
		`data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500,"prompt_tokens_details":{"cached_tokens":200}}}` + "\n\n",
		"data: [DONE]\n\n",
	}
	anthropicStream = []string{
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-test\",\"content\":[],\"usage\":{\"input_tokens\":100,\"cache_read_input_tokens\":1000,\"cache_creation_input_tokens\":2000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":1500,\"ephemeral_1h_input_tokens\":500},\"output_tokens\":1}}}\n\n",
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n",
		"event: ping\ndata: {\"type\":\"ping\"}\n\n",
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":20}}\n\n",
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
	}
	geminiStream = []string{
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"}}]}\r\n\r\n",
		"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":5}}\r\n\r\n",
	}
	cohereStream = []string{
		"event: message-start\ndata: {\"type\":\"message-start\",\"id\":\"c1\"}\n\n",
		"event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Hi\"}}}}\n\n",
		"event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"tokens\":{\"input_tokens\":7,\"output_tokens\":3}}}}\n\n",
	}
)

// cachedPrompt is a prompt long enough to hold the 3,100 input tokens
// anthropicBody and anthropicStream report: a request is never charged for
// more input than its body can hold.
var cachedPrompt = strings.Repeat("cache me ", 345)

// anthropicCost is what anthropicBody and anthropicStream cost at
// claude-test's prices in micro-USD: 100 plain input tokens at $3/MTok,
// 1,000 read from the cache at $0.30, 1,500 written to the five-minute
// cache at $3.75 and 500 to the one-hour cache at $6, 20 output at $15.
// Billing the writes as input would give 6,900.
const anthropicCost = 300 + 300 + 5_625 + 3_000 + 300

// protocolCase is one call through Sluice to a fake provider.
type protocolCase struct {
	name   string
	spec   serviceSpec
	path   string // on Sluice, with query
	body   string
	header []string // extra client headers
	// keyVia is how the client sends its key: "" Authorization: Bearer,
	// else a header name, or "query" for ?key=.
	keyVia   string
	stream   []string // upstream SSE events; nil for a JSON answer
	answer   string   // upstream JSON answer
	upPath   string   // the path the upstream must see
	upQuery  url.Values
	auth     func(t *testing.T, s seen) // checks the upstream auth
	want     string                     // the client's body; "" means the upstream's unchanged
	upBody   func(t *testing.T, body []byte)
	in, out  int64
	cached   int64
	written  [2]int64 // tokens written to the prompt cache, of those to a one-hour cache
	cost     money.Micros
	endpoint string
}

func bearer(secret string) func(t *testing.T, s seen) {
	return func(t *testing.T, s seen) {
		if got := s.Header.Get("Authorization"); got != "Bearer "+secret {
			t.Errorf("upstream Authorization = %q, want the provider key as Bearer", got)
		}
	}
}

func headerKey(name, secret string) func(t *testing.T, s seen) {
	return func(t *testing.T, s seen) {
		if got := s.Header.Get(name); got != secret {
			t.Errorf("upstream %s = %q, want the provider key", name, got)
		}
		if s.Header.Get("Authorization") != "" {
			t.Error("upstream got an Authorization header with a header-key standard")
		}
	}
}

func queryKey(name, secret string) func(t *testing.T, s seen) {
	return func(t *testing.T, s seen) {
		q, _ := url.ParseQuery(s.RawQuery)
		if got := q[name]; len(got) != 1 || got[0] != secret {
			t.Errorf("upstream query %s = %q, want exactly the provider key", name, got)
		}
		if s.Header.Get("Authorization") != "" || s.Header.Get("X-Goog-Api-Key") != "" {
			t.Error("upstream got an auth header with a query-param standard")
		}
	}
}

func noAuth(t *testing.T, s seen) {
	if s.Header.Get("Authorization") != "" || s.Header.Get("X-Api-Key") != "" || s.RawQuery != "" {
		t.Errorf("upstream got credentials with the none standard: %v %q", s.Header, s.RawQuery)
	}
}

func protocolCases(base func(path string) string) []protocolCase {
	chat := `{"model":"gpt-test","messages":[{"role":"user","content":"Hi"}]}`
	openai := serviceSpec{name: "oa", provider: "openai", baseURL: base("/v1"), secret: "sk-provider-OPENAI-0001", models: []string{"gpt-test", "embed-test"}}
	return []protocolCase{
		{name: "openai chat", spec: openai, path: "/v1/chat/completions", body: chat, answer: openAIChatBody,
			upPath: "/v1/chat/completions", auth: bearer(openai.secret), in: 1000, out: 500, cached: 200, cost: 7250},
		{name: "openai chat stream, usage added and stripped", spec: openai, path: "/v1/chat/completions",
			body: `{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Hi"}]}`, stream: openAIStream,
			upPath: "/v1/chat/completions", auth: bearer(openai.secret), in: 1000, out: 500, cached: 200, cost: 7250,
			want: openAIStream[0] + openAIStream[1] + openAIStream[3],
			upBody: func(t *testing.T, b []byte) {
				var got struct {
					StreamOptions struct {
						IncludeUsage bool `json:"include_usage"`
					} `json:"stream_options"`
					Messages []any `json:"messages"`
				}
				if err := json.Unmarshal(b, &got); err != nil || !got.StreamOptions.IncludeUsage || len(got.Messages) != 1 {
					t.Errorf("upstream body %s: want stream_options.include_usage true and the messages intact (%v)", b, err)
				}
			}},
		{name: "openai chat stream, client asked for usage", spec: openai, path: "/v1/chat/completions",
			body:   `{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[]}`,
			stream: openAIStream, upPath: "/v1/chat/completions", auth: bearer(openai.secret), in: 1000, out: 500, cached: 200, cost: 7250,
			upBody: func(t *testing.T, b []byte) {
				if string(b) != `{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[]}` {
					t.Errorf("upstream body changed although the client asked for usage: %s", b)
				}
			}},
		{name: "openai chat stream, stream_options without include_usage", spec: openai, path: "/v1/chat/completions",
			body:   `{"model":"gpt-test","stream":true,"stream_options":{"include_obfuscation":false},"messages":[]}`,
			stream: openAIStream, upPath: "/v1/chat/completions", auth: bearer(openai.secret), in: 1000, out: 500, cached: 200, cost: 7250,
			want: openAIStream[0] + openAIStream[1] + openAIStream[3],
			upBody: func(t *testing.T, b []byte) {
				var raw map[string]json.RawMessage
				if err := json.Unmarshal(b, &raw); err != nil {
					t.Fatal(err)
				}
				if string(raw["stream_options"]) != `{"include_obfuscation":false,"include_usage":true}` {
					t.Errorf("upstream stream_options = %s", raw["stream_options"])
				}
			}},
		{name: "openai embeddings", spec: openai, path: "/v1/embeddings", body: `{"model":"embed-test","input":"hello"}`,
			answer: openAIEmbedBody, upPath: "/v1/embeddings", auth: bearer(openai.secret), in: 50, cost: 5},
		{name: "anthropic messages", spec: serviceSpec{name: "an", provider: "anthropic", baseURL: base("/v1"), secret: "sk-ant-PROVIDER-0002", models: []string{"claude-test"}},
			path: "/v1/messages", body: `{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"` + cachedPrompt + `"}]}`,
			keyVia: "X-Api-Key", answer: anthropicBody, upPath: "/v1/messages",
			auth: func(t *testing.T, s seen) {
				headerKey("X-Api-Key", "sk-ant-PROVIDER-0002")(t, s)
				if v := s.Header.Get("Anthropic-Version"); v != "2023-06-01" {
					t.Errorf("anthropic-version = %q, want the default 2023-06-01", v)
				}
			}, in: 3100, out: 20, cached: 1000, written: [2]int64{2000, 500}, cost: anthropicCost},
		{name: "anthropic messages stream", spec: serviceSpec{name: "an", provider: "anthropic", baseURL: base("/v1"), secret: "sk-ant-PROVIDER-0002", models: []string{"claude-test"}},
			path: "/v1/messages", body: `{"model":"claude-test","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"` + cachedPrompt + `"}]}`,
			header: []string{"Anthropic-Version", "2024-01-01"}, stream: anthropicStream, upPath: "/v1/messages",
			auth: func(t *testing.T, s seen) {
				if v := s.Header.Get("Anthropic-Version"); v != "2024-01-01" {
					t.Errorf("anthropic-version = %q, want the client's", v)
				}
			}, in: 3100, out: 20, cached: 1000, written: [2]int64{2000, 500}, cost: anthropicCost},
		{name: "gemini generateContent, key in query", spec: serviceSpec{name: "ge", provider: "google", baseURL: base("/v1beta"), secret: "AIzaPROVIDER0003", models: []string{"gemini-test"}},
			path: "/v1beta/models/gemini-test:generateContent?alt=json", keyVia: "query", body: `{"contents":[{"parts":[{"text":"Hi"}]}]}`,
			answer: geminiBody, upPath: "/v1beta/models/gemini-test:generateContent", upQuery: url.Values{"alt": {"json"}}, auth: queryKey("key", "AIzaPROVIDER0003"),
			in: 10, out: 5, cost: 30, endpoint: "/v1beta/models/{model}:generateContent"},
		{name: "gemini streamGenerateContent", spec: serviceSpec{name: "ge", provider: "google", baseURL: base("/v1beta"), secret: "AIzaPROVIDER0003", models: []string{"gemini-test"}},
			path: "/v1beta/models/gemini-test:streamGenerateContent", body: `{"contents":[]}`, keyVia: "X-Goog-Api-Key",
			stream: geminiStream, upPath: "/v1beta/models/gemini-test:streamGenerateContent", upQuery: url.Values{"alt": {"sse"}},
			auth: queryKey("key", "AIzaPROVIDER0003"), in: 10, out: 5, cost: 30, endpoint: "/v1beta/models/{model}:streamGenerateContent"},
		{name: "cohere chat", spec: serviceSpec{name: "co", provider: "cohere", baseURL: base(""), secret: "co-PROVIDER-0004", models: []string{"command-test"}},
			path: "/v2/chat", body: `{"model":"command-test","messages":[]}`, answer: cohereBody, upPath: "/v2/chat",
			auth: bearer("co-PROVIDER-0004"), in: 7, out: 3, cost: 38},
		{name: "cohere chat stream", spec: serviceSpec{name: "co", provider: "cohere", baseURL: base(""), secret: "co-PROVIDER-0004", models: []string{"command-test"}},
			path: "/v2/chat", body: `{"model":"command-test","stream":true,"messages":[]}`, stream: cohereStream, upPath: "/v2/chat",
			auth: bearer("co-PROVIDER-0004"), in: 7, out: 3, cost: 38},
		{name: "ollama, no auth", spec: serviceSpec{name: "ol", provider: "ollama", baseURL: base("/v1"), models: []string{"gpt-test"}},
			path: "/v1/chat/completions", body: chat, answer: openAIChatBody, upPath: "/v1/chat/completions", auth: noAuth},
		{name: "custom header standard", spec: serviceSpec{name: "az", provider: "custom", baseURL: base("/openai"), secret: "azure-PROVIDER-0005", standard: "custom-header", models: []string{"gpt-test"}},
			path: "/v1/chat/completions", body: chat, answer: openAIChatBody, upPath: "/openai/chat/completions", auth: headerKey("Api-Key", "azure-PROVIDER-0005")},
	}
}

func TestProtocols(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		db.Client.APIStandard.Create().SetAPIStandardHandle("custom-header").SetDescription("Azure-style").
			SetKeyMethod("auth_apikey").SetKeyField("api-key").SaveX(t.Context())
		f.price("openai", "gpt-test", 2_500_000, 10_000_000, 1_250_000, modelprice.KindText)
		f.price("openai", "embed-test", 100_000, 0, 0, modelprice.KindEmbedding)
		f.price("anthropic", "claude-test", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
		f.db.Client.ModelPrice.Update().Where(modelprice.Model("claude-test")).
			SetCacheWritePerMtok(3_750_000).SetCacheWrite1hPerMtok(6_000_000).ExecX(t.Context())
		f.price("google", "gemini-test", 1_000_000, 4_000_000, 0, modelprice.KindText)
		f.price("cohere", "command-test", 2_000_000, 8_000_000, 0, modelprice.KindText)

		var current *protocolCase
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("X-Request-Id", "upstream-req-1")
			w.Header().Set("Set-Cookie", "session=upstream")
			w.Header().Set("X-Ratelimit-Limit-Requests", "500")
			w.Header().Set("X-Ratelimit-Remaining-Requests", "499")
			w.Header().Set("X-Ratelimit-Reset-Requests", "120ms")
			if current.stream != nil {
				sseEvents(w, current.stream...)
				return
			}
			answerJSON(w, http.StatusOK, current.answer)
		})
		base := func(p string) string { return up.srv.URL + p }
		keys := map[string]string{}
		for i, tc := range protocolCases(base) {
			t.Run(tc.name, func(t *testing.T) {
				current = &tc
				key, ok := keys[tc.spec.name]
				if !ok {
					_, key = f.addService(tc.spec)
					keys[tc.spec.name] = key
				}
				header := append([]string{"Cookie", "sluice_session=secret", "Connection", "X-Hop", "X-Hop", "1", "Proxy-Authorization", "Basic eDp5", "X-Sluice-Debug", "1", "X-Request-Id", fmt.Sprintf("client-req-%d", i)}, tc.header...)
				path, authKey := tc.path, ""
				switch tc.keyVia {
				case "":
					authKey = key
				case "query":
					path += "&key=" + key
				default:
					header = append(header, tc.keyVia, key)
				}
				resp, got := f.call(http.MethodPost, path, authKey, tc.body, header...)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, got)
				}
				s := up.last(t)
				if s.Path != tc.upPath {
					t.Errorf("upstream path %q, want %q", s.Path, tc.upPath)
				}
				q, _ := url.ParseQuery(s.RawQuery)
				for k, v := range tc.upQuery {
					if fmt.Sprint(q[k]) != fmt.Sprint(v) {
						t.Errorf("upstream query %s = %v, want %v", k, q[k], v)
					}
				}
				tc.auth(t, s)
				// The client's key and session never reach the upstream.
				all := fmt.Sprint(s.Header) + s.RawQuery + string(s.Body)
				if strings.Contains(all, key) || strings.Contains(all, "sluice_session") {
					t.Errorf("the client's key or cookie reached the upstream: %v %q", s.Header, s.RawQuery)
				}
				for _, h := range []string{"X-Hop", "Proxy-Authorization", "X-Sluice-Debug", "Cookie"} {
					if s.Header.Get(h) != "" {
						t.Errorf("upstream received %s", h)
					}
				}
				if tc.upBody != nil {
					tc.upBody(t, s.Body)
				} else if string(s.Body) != tc.body {
					t.Errorf("upstream body %s, want the client's unchanged", s.Body)
				}

				want := tc.want
				if want == "" {
					want = tc.answer + strings.Join(tc.stream, "")
				}
				if got != want {
					t.Errorf("client body\n%q\nwant\n%q", got, want)
				}
				if id := resp.Header.Get("X-Request-Id"); !strings.HasPrefix(id, "client-req-") {
					t.Errorf("X-Request-Id = %q, want the client's", id)
				}
				if resp.Header.Get("X-Upstream-Request-Id") != "upstream-req-1" || resp.Header.Get("Set-Cookie") != "" {
					t.Errorf("response headers: upstream id %q, cookie %q", resp.Header.Get("X-Upstream-Request-Id"), resp.Header.Get("Set-Cookie"))
				}
				if v := resp.Header.Get("X-Ratelimit-Remaining-Requests"); v != "" {
					t.Errorf("the provider account's rate-limit header reached the client: %q", v)
				}
				wantCost := tc.cost.Decimal()
				costHeader := resp.Header.Get("X-Sluice-Cost-USD")
				if tc.stream != nil {
					costHeader = resp.Trailer.Get("X-Sluice-Cost-USD")
				}
				priced := tc.spec.provider != "ollama" && tc.spec.provider != "custom"
				if priced && costHeader != wantCost {
					t.Errorf("cost header %q, want %q", costHeader, wantCost)
				}

				rec := f.lastRecord()
				if rec.RequestID != resp.Header.Get("X-Request-Id") || rec.Status != 200 || rec.Streamed != (tc.stream != nil) || rec.Partial {
					t.Errorf("record %+v", rec)
				}
				if rec.Priced != priced {
					t.Errorf("record priced = %v, want %v", rec.Priced, priced)
				}
				if got := [2]int64{rec.CacheWriteTokens, rec.CacheWrite1hTokens}; got != tc.written {
					t.Errorf("record cache writes %v, want %v", got, tc.written)
				}
				if priced && (rec.InputTokens != tc.in || rec.OutputTokens != tc.out || rec.CachedInputTokens != tc.cached || rec.Cost != tc.cost) {
					t.Errorf("record tokens %d/%d/%d cost %d, want %d/%d/%d cost %d",
						rec.InputTokens, rec.OutputTokens, rec.CachedInputTokens, rec.Cost, tc.in, tc.out, tc.cached, tc.cost)
				}
				wantEndpoint := tc.endpoint
				if wantEndpoint == "" {
					wantEndpoint, _, _ = strings.Cut(tc.path, "?")
				}
				if rec.Endpoint != wantEndpoint || rec.CredentialID == nil || rec.TtfbUs == nil {
					t.Errorf("record endpoint %q (want %q), credential %v, ttfb %v", rec.Endpoint, wantEndpoint, rec.CredentialID, rec.TtfbUs)
				}
				if prov, _ := providers.Lookup(tc.spec.provider); rec.ProviderProtocol != string(prov.Protocol) {
					t.Errorf("record provider protocol %q, want %q (%s's)", rec.ProviderProtocol, prov.Protocol, tc.spec.provider)
				}
				f.checkNoSecrets("the client's response", fmt.Sprint(resp.Header, resp.Trailer)+got)
			})
		}
		f.checkNoSecrets("the logs", f.logs.String())

		// Real traffic filled the rate-limit store for the credential.
		rec := f.lastRecord()
		snap, at, ok := f.proxy.RateLimits(*rec.CredentialID)
		if !ok || at.IsZero() || snap.Family != ratelimits.FamilyOpenAI || snap.Requests.Remaining == nil || *snap.Requests.Remaining != 499 {
			t.Errorf("rate limits of credential %d: %+v %v %v", *rec.CredentialID, snap, at, ok)
		}
	})
}

// TestUpstreamErrorsPassThrough: a provider's 429 or 500 reaches the client
// as sent, in the provider's own shape, and is recorded uncharged.
func TestUpstreamErrorsPassThrough(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 2_500_000, 10_000_000, 0, modelprice.KindText)
		status := http.StatusTooManyRequests
		errBody := `{"error":{"message":"Rate limit reached for gpt-test","type":"requests","code":"rate_limit_exceeded"}}`
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, status, errBody, "Retry-After", "7", "X-Ratelimit-Remaining-Requests", "0")
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-ERR", models: []string{"gpt-test"}})
		for _, s := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
			status = s
			resp, got := f.call(http.MethodPost, "/v1/chat/completions", key, `{"model":"gpt-test"}`)
			if resp.StatusCode != s || got != errBody || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("status %d body %s retry-after %q; want the upstream's %d answer unchanged", resp.StatusCode, got, resp.Header.Get("Retry-After"), s)
			}
			rec := f.lastRecord()
			if rec.Status != s || rec.Cost != 0 || rec.Error == "" || rec.ProviderProtocol != "openai" {
				t.Errorf("record %+v", rec)
			}
			if want := map[int]string{429: FailureStatus429, 500: FailureStatus5xx, 503: FailureStatus5xx}[s]; f.lastFailure() != want {
				t.Errorf("status %d classified %q, want %q", s, f.lastFailure(), want)
			}
		}
	})
}

// TestUpstreamUnreachable: connection refused and a first-byte timeout
// answer 502/504 in the caller's shape, without the provider key.
func TestUpstreamUnreachable(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, func(o *Options) { o.FirstByteTimeout = 100 * time.Millisecond })
		slow := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			<-r.Context().Done()
		})
		dead := newUpstream(t, func(http.ResponseWriter, *http.Request, []byte) {})
		dead.srv.Close()
		_, deadKey := f.addService(serviceSpec{name: "dead", provider: "google", baseURL: dead.srv.URL, secret: "AIzaDEADPROVIDERKEY", models: []string{"gemini-test"}})
		_, slowKey := f.addService(serviceSpec{name: "slow", provider: "anthropic", baseURL: slow.srv.URL, secret: "sk-ant-SLOWPROVIDERKEY", models: []string{"claude-test"}})

		resp, got := f.call(http.MethodPost, "/v1beta/models/gemini-test:generateContent", deadKey, `{}`)
		var g geminiError
		if resp.StatusCode != http.StatusBadGateway || json.Unmarshal([]byte(got), &g) != nil || g.Error.Status != "UNAVAILABLE" {
			t.Errorf("refused connection: %d %s", resp.StatusCode, got)
		}
		resp, got = f.call(http.MethodPost, "/v1/messages", slowKey, `{"model":"claude-test"}`)
		var a anthropicError
		if resp.StatusCode != http.StatusGatewayTimeout || json.Unmarshal([]byte(got), &a) != nil || a.Type != "error" {
			t.Errorf("first-byte timeout: %d %s", resp.StatusCode, got)
		}
		f.checkNoSecrets("error answers", got)
		f.checkNoSecrets("the logs", f.logs.String())
		if rec := f.lastRecord(); rec.Status != http.StatusGatewayTimeout || f.lastFailure() != FailureTimeout {
			t.Errorf("record status %d, failure %q", rec.Status, f.lastFailure())
		}
	})
}
