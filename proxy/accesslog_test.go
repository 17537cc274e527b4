package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestAccessLog: one JSON line per request with a key and a service, for
// an answer, a refusal and a stream, naming the key and the service
// without the key itself, the request's body or the upstream's answer.
func TestAccessLog(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		out := &logBuffer{}
		access := accesslog.New(out, 0)
		f := newFixture(t, db, func(o *Options) { o.AccessLog = access })
		f.price("openai", "gpt-test", 150_000, 600_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"stream":true`) {
				sseEvents(w, openAIStream...)
				return
			}
			answerJSON(w, 200, `{"id":"c1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"SECRET-ANSWER"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":2000}}`)
		})
		_, key := f.addService(serviceSpec{name: "chat", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-ACCESS", models: []string{"gpt-test"}})

		resp, _ := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","messages":[{"role":"user","content":"SECRET-PROMPT"}]}`)
		answered := resp.Header.Get("X-Request-Id")
		resp, _ = f.call("POST", "/v1/chat/completions", key, `{"model":"made-up","messages":[{"role":"user","content":"SECRET-PROMPT"}]}`)
		refused := resp.Header.Get("X-Request-Id")
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a model not enabled: %d", resp.StatusCode)
		}
		resp, _ = f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"SECRET-PROMPT"}]}`)
		streamed := resp.Header.Get("X-Request-Id")
		f.call("POST", "/v1/chat/completions", "sk_not_a_key_0123456789", `{"model":"gpt-test"}`) // no key, no service: no line

		if n := len(f.records()); n != 3 {
			t.Fatalf("%d usage records, want 3", n)
		}
		access.Close(context.Background()) // every record is queued before its usage record: this writes them
		text := out.String()
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != 3 {
			t.Fatalf("%d lines, want 3:\n%s", len(lines), text)
		}
		byID := map[string]map[string]any{}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("not a JSON line: %s", l)
			}
			byID[m["request_id"].(string)] = m
		}
		want := map[string]map[string]any{
			answered: {"service": "chat", "key_name": "chat-key", "protocol": "openai", "endpoint": "/v1/chat/completions", "model": "gpt-test",
				"status": 200.0, "input_tokens": 1000.0, "output_tokens": 2000.0, "cost_usd": 0.00135, "streamed": nil, "failure": nil},
			refused: {"service": "chat", "key_name": "chat-key", "model": "made-up", "status": 403.0, "input_tokens": 0.0, "cost_usd": 0.0,
				"ttfb_ms": nil, "streamed": nil},
			streamed: {"service": "chat", "key_name": "chat-key", "model": "gpt-test", "status": 200.0, "input_tokens": 1000.0,
				"output_tokens": 500.0, "cached_input_tokens": 200.0, "streamed": true},
		}
		for id, fields := range want {
			got, ok := byID[id]
			if !ok {
				t.Fatalf("no line for request %s:\n%s", id, text)
			}
			for k, v := range fields {
				if got[k] != v {
					t.Errorf("request %s: %s = %v, want %v", id, k, got[k], v)
				}
			}
			if got["organization_id"] != float64(f.org.ID) || got["latency_ms"] == nil || got["time"] == nil {
				t.Errorf("request %s lacks its organization, latency or time: %v", id, got)
			}
		}
		if ttfb, _ := byID[streamed]["ttfb_ms"].(float64); ttfb <= 0 {
			t.Errorf("the stream's line has no time to first byte")
		}
		for _, secret := range []string{key, key[len(key)-8:], "sk-provider-ACCESS", "SECRET-PROMPT", "SECRET-ANSWER", "Hel", "sk_not_a_key"} {
			if strings.Contains(text, secret) {
				t.Errorf("the access log holds %q", secret)
			}
		}
	})
}
