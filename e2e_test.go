package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluicehq/sluice/internal/testenv"
)

// gql posts a GraphQL operation with a bearer credential and returns data,
// failing the test on any error.
func gql(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	data, errs, raw := gqlPost(t, base, token, query, vars)
	if len(errs) > 0 {
		t.Fatalf("GraphQL error: %s", raw)
	}
	return data
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// gqlPost posts a GraphQL operation to base with token (none when empty)
// and returns the answer's data, its errors and the raw answer.
func gqlPost(t *testing.T, base, token, query string, vars map[string]any) (map[string]any, []gqlError, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []gqlError     `json:"errors"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("GraphQL answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return out.Data, out.Errors, raw
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

// fakeOpenAI answers chat completions with fixed usage and its rate-limit
// headers, and records the auth it was sent.
func fakeOpenAI(t *testing.T) (*httptest.Server, *[]string) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("x-ratelimit-limit-requests", "500")
		w.Header().Set("x-ratelimit-remaining-requests", "499")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":2000,"total_tokens":3000}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

// TestGatewayEndToEnd drives the binary as an admin and an application
// would: log in, create a service over a fake OpenAI and a key, subscribe to
// usage, call the proxy, then see the request's cost in the subscription,
// the usage report, /metrics and the live provider usage; disabling the key
// refuses it at once.
func TestGatewayEndToEnd(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		base, stop := startOnDialect(t, d, "pw-e2e")
		upstream, seen := fakeOpenAI(t)

		token := dig(gql(t, base, "", `mutation { login(username: "admin", password: "pw-e2e") { token } }`, nil), "login", "token").(string)
		svc := gql(t, base, token, `mutation($u: String!) { createService(input: {serviceName: "chat", provider: "openai", baseUrl: $u,
			providerApiKey: "sk-upstream-secret", modelsEnabled: ["gpt-4o-mini"], limitCostDayBlock: 100}) { id credential { id } } }`,
			map[string]any{"u": upstream.URL + "/v1"})
		created := gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "app", serviceId: $s}) { key apiKey { id } } }`,
			map[string]any{"s": dig(svc, "createService", "id")})
		key := dig(created, "createAPIKey", "key").(string)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/graphql", &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close(websocket.StatusNormalClosure, "")
		wsSend(t, ws, map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
		wsRead(t, ws)
		wsSend(t, ws, map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription { usageEvents { model inputTokens outputTokens cost } }`}})
		time.Sleep(100 * time.Millisecond)

		req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"content":"hi"`) || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("proxied call: %d %s", resp.StatusCode, body)
		}
		if len(*seen) != 1 || (*seen)[0] != "Bearer sk-upstream-secret" {
			t.Fatalf("upstream auth: %v", *seen)
		}
		// gpt-4o-mini: $0.15 in, $0.60 out per million: 1000 in + 2000 out = $0.00135.
		event := wsRead(t, ws)
		if !strings.Contains(string(mustJSON(event)), `"cost":0.00135`) {
			t.Fatalf("subscription event: %s", mustJSON(event))
		}
		report := gql(t, base, token, `{ usage { totals { requests inputTokens outputTokens cost } } }`, nil)
		if dig(report, "usage", "totals", "requests") != 1.0 || dig(report, "usage", "totals", "cost") != 0.00135 {
			t.Fatalf("usage report: %v", report)
		}
		// Metrics are counted after the record is written, beside the
		// subscription event: poll briefly.
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`sluice_tokens_total{kind="output",model="gpt-4o-mini",organization="\d+",service="chat"} 2000\n`),
			regexp.MustCompile(`sluice_cost_micro_usd_total{model="gpt-4o-mini",organization="\d+",service="chat"} 1350\n`),
		} {
			for deadline := time.Now().Add(3 * time.Second); !want.MatchString(scrapeMetrics(t, base)); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("/metrics lacks %s:\n%s", want, scrapeMetrics(t, base))
				}
			}
		}
		live := gql(t, base, token, `query($c: ID!) { providerUsage(credentialId: $c) { source requests { limit remaining } } }`,
			map[string]any{"c": dig(svc, "createService", "credential", "id")})
		if dig(live, "providerUsage", "source") != "TRAFFIC" || dig(live, "providerUsage", "requests", "remaining") != 499.0 {
			t.Fatalf("live usage from traffic: %v", live)
		}

		// A key's own pace limit: two requests a minute, the third refused
		// with Retry-After; the API shows the limit's use.
		paced := gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "paced", serviceId: $s, limitRpm: 2}) { key apiKey { id } } }`,
			map[string]any{"s": dig(svc, "createService", "id")})
		pacedKey := dig(paced, "createAPIKey", "key").(string)
		for i := range 3 {
			req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","max_tokens":5,"messages":[]}`))
			req.Header.Set("Authorization", "Bearer "+pacedKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := map[bool]int{true: 200, false: 429}[i < 2]
			if resp.StatusCode != want || resp.Header.Get("X-Ratelimit-Limit-Requests") != "2" || (want == 429) != (resp.Header.Get("Retry-After") != "") {
				t.Fatalf("paced request %d: %d, x-ratelimit-limit-requests %q, retry-after %q", i+1, resp.StatusCode,
					resp.Header.Get("X-Ratelimit-Limit-Requests"), resp.Header.Get("Retry-After"))
			}
		}
		pace := gql(t, base, token, `query($k: ID!) { apiKey(id: $k) { limitRpm pace { kind limit remaining } } }`,
			map[string]any{"k": dig(paced, "createAPIKey", "apiKey", "id")})
		if !strings.Contains(string(mustJSON(pace)), `"pace":[{"kind":"rpm","limit":2,"remaining":0}]`) {
			t.Fatalf("the key's pace on the API: %s", mustJSON(pace))
		}
		*seen = (*seen)[:1] // the organization limit below counts the upstream calls from here

		// An organization limit caps all its services and keys: a total
		// block below what was spent refuses the next request, for good.
		limits := gql(t, base, token, `mutation { updateOrganizationLimits(input: {limitCostTotalBlock: 0.001}) { limitCostTotalBlock } }`, nil)
		if dig(limits, "updateOrganizationLimits", "limitCostTotalBlock") != 0.001 {
			t.Fatalf("organization limits: %v", limits)
		}
		spend := gql(t, base, token, `{ organizationSpend { window block } }`, nil)
		if !strings.Contains(string(mustJSON(spend)), `{"block":0.001,"window":"total"}`) {
			t.Fatalf("organization spend: %s", mustJSON(spend))
		}
		req, _ = http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Should-Retry") != "false" || !strings.Contains(string(body), `org \"Default\" total limit $0.001`) {
			t.Fatalf("over the organization's total: %d x-should-retry %q %s", resp.StatusCode, resp.Header.Get("X-Should-Retry"), body)
		}
		if len(*seen) != 1 {
			t.Fatalf("a request over the organization's limit reached the upstream")
		}

		gql(t, base, token, `mutation($k: ID!) { updateAPIKey(id: $k, input: {isActive: false}) { isActive } }`,
			map[string]any{"k": dig(created, "createAPIKey", "apiKey", "id")})
		req, _ = http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a disabled key got %d, want 403 at once", resp.StatusCode)
		}
		code, logs := stop()
		if code != 0 || strings.Contains(logs, "sk-upstream-secret") || strings.Contains(logs, key) {
			t.Fatalf("exit %d; a key reached the log: %v", code, strings.Contains(logs, "sk-upstream"))
		}
	})
}

// startOnDialect starts the binary on a fresh database of dialect d, with
// the admin password given and testMetricsToken as its metrics token.
func startOnDialect(t *testing.T, d, adminPassword string) (string, func() (int, string)) {
	t.Helper()
	getenv := env("DATABASE_URL", testenv.URL(testenv.Target(t, d)), "SLUICE_ADMIN_PASSWORD", adminPassword,
		"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "SLUICE_JWT_SECRET", "e2e-jwt-secret-e2e-jwt-secret-00",
		"SLUICE_METRICS_TOKEN", testMetricsToken)
	return startBinary(t, getenv)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func wsSend(t *testing.T, c *websocket.Conn, v any) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, mustJSON(v)); err != nil {
		t.Fatal(err)
	}
}

func wsRead(t *testing.T, c *websocket.Conn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read websocket: %v", err)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		if m["type"] == "ping" || m["type"] == "ka" {
			continue
		}
		return m
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
