package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestUpstreamFaultsMidAnswer: an upstream that resets the connection
// mid-stream, sends a malformed JSON body, or a malformed SSE stream. The
// client gets what was sent and a clear end; the record says what happened;
// the charge never exceeds what was streamed.
func TestUpstreamFaultsMidAnswer(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		mode := ""
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			switch mode {
			case "reset":
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"twelve chars\"}}]}\n\n")
				w.(http.Flusher).Flush()
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close() // the connection dies without the stream's end
				}
			case "bad json":
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":`)
			case "bad sse":
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: {not json at all\n\ngarbage line without field\n\ndata: [DONE]\n\n")
			}
		})
		_, key := f.addService(serviceSpec{name: "faulty", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-FAULTS", models: []string{"gpt-test"}})

		mode = "reset"
		resp, got := f.call(http.MethodPost, "/v1/chat/completions", key, `{"model":"gpt-test","stream":true}`)
		if resp.StatusCode != 200 || !strings.Contains(got, "twelve chars") {
			t.Fatalf("reset mid-stream: %d %q", resp.StatusCode, got)
		}
		rec := f.lastRecord()
		if !rec.Partial || rec.OutputTokens == 0 || rec.OutputTokens > 10 || !strings.Contains(rec.Error, "estimated") {
			t.Errorf("reset mid-stream record: partial %v, output %d, error %q; want partial, a small estimate", rec.Partial, rec.OutputTokens, rec.Error)
		}

		mode = "bad json"
		resp, got = f.call(http.MethodPost, "/v1/chat/completions", key, `{"model":"gpt-test"}`)
		if resp.StatusCode != 200 || !strings.HasPrefix(got, `{"id":"x"`) {
			t.Fatalf("malformed JSON passed on: %d %q", resp.StatusCode, got)
		}
		if rec := f.lastRecord(); rec.Error == "" || rec.Cost != 0 {
			t.Errorf("malformed JSON record: error %q, cost %d; want an error and no charge", rec.Error, rec.Cost)
		}

		mode = "bad sse"
		resp, got = f.call(http.MethodPost, "/v1/chat/completions", key, `{"model":"gpt-test","stream":true}`)
		if resp.StatusCode != 200 || !strings.Contains(got, "garbage line") {
			t.Fatalf("malformed SSE passed on: %d %q", resp.StatusCode, got)
		}
		if rec := f.lastRecord(); rec.Error == "" || rec.OutputTokens > 5 {
			t.Errorf("malformed SSE record: error %q, output %d", rec.Error, rec.OutputTokens)
		}
		f.checkNoSecrets("the logs", f.logs.String())
	})
}
