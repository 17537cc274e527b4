package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// captureUpstream speaks OpenAI's chat completions: a stream when asked,
// a 500 that echoes the prompt when the prompt says "boom", else a JSON
// answer.
func captureUpstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.Contains(string(body), "boom"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"failed on boom","type":"server_error"}}`)
		case strings.Contains(string(body), `"stream":true`):
			w.Header().Set("Content-Type", "text/event-stream")
			for _, ev := range []string{
				`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"hel"}}]}`,
				`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}`,
				`{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`,
			} {
				fmt.Fprintf(w, "data: %s\n\n", ev)
				w.(http.Flusher).Flush()
			}
			io.WriteString(w, "data: [DONE]\n\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c2","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// proxied is one request through the gateway: its id and what the client got.
type proxied struct {
	id, body string
	status   int
}

func callProxy(t *testing.T, base, key, body string) proxied {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return proxied{id: resp.Header.Get("X-Request-Id"), body: string(b), status: resp.StatusCode}
}

// bodiesOf waits for the usage record of request id and returns its
// requestBodies (nil when none were kept), as an admin reads them.
func bodiesOf(t *testing.T, base, token, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		data := gql(t, base, token, `{ usageRecords(first: 50) { edges { node { id requestID } } } }`, nil)
		for _, e := range dig(data, "usageRecords", "edges").([]any) {
			node := e.(map[string]any)["node"].(map[string]any)
			if node["requestID"] != id {
				continue
			}
			// The bodies are written just after the record, off the request path.
			time.Sleep(300 * time.Millisecond)
			got := gql(t, base, token, `query($r: ID!) { requestBodies(usageRecordId: $r) { request response requestTruncated responseTruncated } }`,
				map[string]any{"r": node["id"]})
			b, _ := got["requestBodies"].(map[string]any)
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("no usage record of request %s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestBodyCapture captures through the real proxy on each dialect: with
// capture on, an admin reads a request's bodies, streamed or not, equal to
// what was sent and answered with its secrets redacted, and the stored
// column holds none of it in clear; errors-only keeps only the failing
// request, a sample of 0 keeps none and one of 100 all, and the cap cuts
// and marks a long body.
func TestBodyCapture(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		base, _ := startBinary(t, env("DATABASE_URL", testenv.URL(target), "SLUICE_ADMIN_PASSWORD", "pw-bodies",
			"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "SLUICE_JWT_SECRET", "e2e-jwt-secret-e2e-jwt-secret-00"))
		upstream := captureUpstream(t)
		token := dig(gql(t, base, "", `mutation { login(username: "admin", password: "pw-bodies") { token } }`, nil), "login", "token").(string)
		svc := gql(t, base, token, `mutation($u: String!) { createService(input: {serviceName: "chat", provider: "openai", baseUrl: $u,
			providerApiKey: "sk-upstream-secret", modelsEnabled: ["gpt-4o-mini"],
			bodyCapture: {mode: ALL, maxBytes: 1024, redact: ["secret-[a-z]+"]}}) { id bodyCapture { mode samplePercent maxBytes retentionDays redact } } }`,
			map[string]any{"u": upstream.URL + "/v1"})
		svcID := dig(svc, "createService", "id")
		if got := fmt.Sprint(dig(svc, "createService", "bodyCapture")); got != "map[maxBytes:1024 mode:ALL redact:[secret-[a-z]+] retentionDays:7 samplePercent:0]" {
			t.Fatalf("bodyCapture = %s", got)
		}
		key := dig(gql(t, base, token, `mutation($s: ID!) { createAPIKey(input: {name: "app", serviceId: $s}) { key } }`,
			map[string]any{"s": svcID}), "createAPIKey", "key").(string)
		setCapture := func(input string) {
			t.Helper()
			gql(t, base, token, `mutation($s: ID!) { updateService(id: $s, input: {bodyCapture: `+input+`}) { id } }`, map[string]any{"s": svcID})
		}

		const secretPrompt = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"my key sk-proj-AbCdEfGh1234567890abcd, Bearer abcdefghijkl1234 and secret-word"}]}`
		const redactedPrompt = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"my key [redacted], Bearer [redacted] and [redacted]"}]}`
		plain := callProxy(t, base, key, secretPrompt)
		if plain.status != 200 {
			t.Fatalf("proxied call: %d %s", plain.status, plain.body)
		}
		got := bodiesOf(t, base, token, plain.id)
		if got == nil || got["request"] != redactedPrompt || got["response"] != plain.body || got["requestTruncated"] != false || got["responseTruncated"] != false {
			t.Fatalf("bodies of a plain request: %v\nwant request %s, response %s", got, redactedPrompt, plain.body)
		}
		streamed := callProxy(t, base, key, `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		got = bodiesOf(t, base, token, streamed.id)
		if streamed.status != 200 || !strings.Contains(streamed.body, `"content":"lo"`) || got == nil ||
			got["request"] != `{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}` || got["response"] != streamed.body {
			t.Fatalf("bodies of a stream: %v\nthe client got %q", got, streamed.body)
		}

		db, err := database.Open(context.Background(), target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		rows, err := db.SQL.Query(`SELECT ciphertext FROM request_bodies`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			n++
			for _, clear := range []string{"gpt-4o-mini", "messages", "redacted", "content"} {
				if strings.Contains(string(raw), clear) {
					t.Fatalf("a stored body holds %q in clear", clear)
				}
			}
		}
		rows.Close()
		if n != 2 {
			t.Fatalf("stored %d captures, want 2", n)
		}

		setCapture(`{mode: ERRORS}`)
		ok := callProxy(t, base, key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"fine"}]}`)
		failed := callProxy(t, base, key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"boom"}]}`)
		if failed.status != 500 {
			t.Fatalf("failing call answered %d", failed.status)
		}
		if got := bodiesOf(t, base, token, ok.id); got != nil {
			t.Fatalf("errors-only kept a success: %v", got)
		}
		if got := bodiesOf(t, base, token, failed.id); got == nil || got["response"] != failed.body {
			t.Fatalf("errors-only lost the failure: %v", got)
		}

		setCapture(`{mode: SAMPLE, samplePercent: 0}`)
		for range 3 {
			if got := bodiesOf(t, base, token, callProxy(t, base, key, secretPrompt).id); got != nil {
				t.Fatalf("a sample of 0 kept %v", got)
			}
		}
		setCapture(`{mode: SAMPLE, samplePercent: 100}`)
		long := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("z", 2000) + `"}]}`
		got = bodiesOf(t, base, token, callProxy(t, base, key, long).id)
		if got == nil || got["request"] != long[:1024] || got["requestTruncated"] != true || got["responseTruncated"] != false {
			t.Fatalf("a sample of 100 with a 1024-byte cap kept %v", got)
		}

		_, errs, _ := gqlPost(t, base, token, `mutation($s: ID!) { updateService(id: $s, input: {bodyCapture: {mode: ALL, redact: ["(bad"]}}) { id } }`, map[string]any{"s": svcID})
		if len(errs) != 1 || errs[0].Extensions.Code != "BAD_USER_INPUT" || !strings.Contains(errs[0].Message, "pattern 1 is not a valid regular expression") {
			t.Fatalf("a bad pattern: %+v", errs)
		}
		audit := gql(t, base, token, `{ auditEvents(first: 50) { edges { node { action changes { field value } } } } }`, nil)
		if !strings.Contains(fmt.Sprint(audit), "bodyCapture.samplePercent value:100]") {
			t.Fatalf("the capture changes were not audited: %v", audit)
		}
	})
}
