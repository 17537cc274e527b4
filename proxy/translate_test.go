package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/protocol/anthropic"
	"github.com/sluicehq/sluice/proxy/protocol/openai"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// wirePair is one answer of a provider API, complete and streamed, with
// the same text and the same usage: 120 input tokens of which 100 were
// read from the prompt cache, 30 output tokens.
type wirePair struct {
	provider string // provider name, for the service
	plain    string
	stream   []string
}

const pairText = "Hello there"

var wirePairs = map[providers.Protocol]wirePair{
	providers.ProtocolOpenAI: {provider: "openai",
		plain: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}}`,
		stream: []string{
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}`,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`,
			`data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":30,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":100}}}`,
			`data: [DONE]`,
		}},
	providers.ProtocolAnthropic: {provider: "anthropic",
		plain: `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":20,"cache_read_input_tokens":100,"cache_creation_input_tokens":0,"output_tokens":30}}`,
		stream: []string{
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":20,\"cache_read_input_tokens\":100,\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}",
			"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}",
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" there\"}}",
			"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":30}}",
			"event: message_stop\ndata: {\"type\":\"message_stop\"}",
		}},
	providers.ProtocolGemini: {provider: "google",
		plain: `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello there"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"cachedContentTokenCount":100,"totalTokenCount":150},"modelVersion":"m","responseId":"r1"}`,
		stream: []string{
			`data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hello"}]},"index":0}],"usageMetadata":{"promptTokenCount":120,"cachedContentTokenCount":100,"totalTokenCount":120},"modelVersion":"m","responseId":"r1"}`,
			`data: {"candidates":[{"content":{"role":"model","parts":[{"text":" there"}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"cachedContentTokenCount":100,"totalTokenCount":150},"modelVersion":"m","responseId":"r1"}`,
		}},
	providers.ProtocolCohere: {provider: "cohere",
		plain: `{"id":"c1","message":{"role":"assistant","content":[{"type":"text","text":"Hello there"}]},"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":120,"output_tokens":30},"tokens":{"input_tokens":120,"output_tokens":30},"cached_tokens":100}}`,
		stream: []string{
			"event: message-start\ndata: {\"type\":\"message-start\",\"id\":\"c1\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}}",
			"event: content-start\ndata: {\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}",
			"event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Hello\"}}}}",
			"event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\" there\"}}}}",
			"event: content-end\ndata: {\"type\":\"content-end\",\"index\":0}",
			"event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":{\"input_tokens\":120,\"output_tokens\":30},\"tokens\":{\"input_tokens\":120,\"output_tokens\":30},\"cached_tokens\":100}}}",
		}},
}

// pairCaller is one caller API: how it asks for a short answer, plain or
// streamed, and how it reads the answer's text.
type pairCaller struct {
	name  string
	proto providers.Protocol
	// request is the method, path and body for the model; key headers are
	// added by the protocol.
	request func(model string, stream bool) (path, body string)
	// reader reads the answer's text with the caller API's own decoder.
	reader protocol.Provider
}

var pairCallers = []pairCaller{
	{name: "openai-chat", proto: providers.ProtocolOpenAI, reader: providerOrNil(providers.ProtocolOpenAI),
		request: func(m string, s bool) (string, string) {
			return "/v1/chat/completions", `{"model":"` + m + `","stream":` + boolJSON(s) + `,"max_tokens":100,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`
		}},
	{name: "openai-responses", proto: providers.ProtocolOpenAI,
		request: func(m string, s bool) (string, string) {
			return "/v1/responses", `{"model":"` + m + `","stream":` + boolJSON(s) + `,"max_output_tokens":100,"instructions":"Be brief.","input":"Hi"}`
		}},
	{name: "anthropic", proto: providers.ProtocolAnthropic, reader: providerOrNil(providers.ProtocolAnthropic),
		request: func(m string, s bool) (string, string) {
			return "/v1/messages", `{"model":"` + m + `","stream":` + boolJSON(s) + `,"max_tokens":100,"system":"Be brief.","messages":[{"role":"user","content":"Hi"}]}`
		}},
	{name: "gemini", proto: providers.ProtocolGemini, reader: providerOrNil(providers.ProtocolGemini),
		request: func(m string, s bool) (string, string) {
			path := "/v1beta/models/" + m + ":generateContent"
			if s {
				path = "/v1beta/models/" + m + ":streamGenerateContent?alt=sse"
			}
			return path, `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"maxOutputTokens":100}}`
		}},
	{name: "cohere", proto: providers.ProtocolCohere, reader: providerOrNil(providers.ProtocolCohere),
		request: func(m string, s bool) (string, string) {
			return "/v2/chat", `{"model":"` + m + `","stream":` + boolJSON(s) + `,"max_tokens":100,"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}]}`
		}},
}

func providerOrNil(p providers.Protocol) protocol.Provider {
	prov, _ := providerAdapter(p, protocol.OpGenerate)
	return prov
}

// terminated ends each SSE event with its blank line.
func terminated(events []string) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev + "\n\n"
	}
	return out
}

func boolJSON(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// keyHeader is how a caller of protocol p sends its key.
func keyHeader(p providers.Protocol, key string) []string {
	switch p {
	case providers.ProtocolAnthropic:
		return []string{"x-api-key", key, "anthropic-version", "2023-06-01"}
	case providers.ProtocolGemini:
		return []string{"x-goog-api-key", key}
	}
	return []string{"Authorization", "Bearer " + key}
}

// TestTranslatedPairs sends a short request of every caller API to a
// service of every provider API, plain and streamed, through the whole
// gateway: the caller reads the provider's text, the answer says it was
// translated, the plain and the streamed usage records agree, and their
// cost is the provider's usage priced by the catalog.
func TestTranslatedPairs(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		const inRate, outRate, cachedRate = 3_000_000, 15_000_000, 300_000
		// 20 plain input, 100 cached, 30 output tokens at the rates per
		// million tokens above.
		wantCost := money.Micros((20*inRate + 100*cachedRate + 30*outRate) / 1_000_000)
		keys := map[providers.Protocol]string{}
		for proto, pair := range wirePairs {
			pair := pair
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if strings.Contains(r.URL.Path, "streamGenerateContent") || bytes.Contains(body, []byte(`"stream":true`)) {
					sseEvents(w, terminated(pair.stream)...)
					return
				}
				answerJSON(w, 200, pair.plain)
			})
			model := "m-" + string(proto)
			f.price(pair.provider, model, inRate, outRate, cachedRate, modelprice.KindText)
			base := up.srv.URL
			if proto != providers.ProtocolCohere {
				base += "/v1"
			}
			_, keys[proto] = f.addService(serviceSpec{name: "svc-" + string(proto), provider: pair.provider, baseURL: base, secret: "sk-provider-" + string(proto), models: []string{model}})
		}
		for _, c := range pairCallers {
			for proto := range wirePairs {
				if proto == c.proto {
					continue
				}
				t.Run(c.name+"->"+string(proto), func(t *testing.T) {
					var tokens [2][3]int64
					for i, stream := range []bool{false, true} {
						path, body := c.request("m-"+string(proto), stream)
						resp, answer := f.call("POST", path, "", body, keyHeader(c.proto, keys[proto])...)
						if resp.StatusCode != 200 {
							t.Fatalf("stream=%v: status %d: %s", stream, resp.StatusCode, answer)
						}
						if got, want := resp.Header.Get("X-Sluice-Translated"), string(c.proto)+"->"+string(proto); got != want {
							t.Errorf("X-Sluice-Translated %q, want %q", got, want)
						}
						if got := readText(t, c, []byte(answer), stream); got != pairText {
							t.Errorf("stream=%v: the caller reads %q, want %q\n%s", stream, got, pairText, answer)
						}
						rec := f.lastRecord()
						if rec.Status != 200 || !rec.Priced || rec.Partial {
							t.Errorf("stream=%v: record status %d priced %v partial %v (%s)", stream, rec.Status, rec.Priced, rec.Partial, rec.Error)
						}
						if rec.Cost != wantCost {
							t.Errorf("stream=%v: charged %d µUSD, want %d (the provider's usage at the catalog's prices)", stream, rec.Cost, wantCost)
						}
						tokens[i] = [3]int64{rec.InputTokens, rec.OutputTokens, rec.CachedInputTokens}
					}
					if tokens[0] != tokens[1] || tokens[0] != [3]int64{120, 30, 100} {
						t.Errorf("plain and streamed records (in, out, cached) %v and %v, want both [120 30 100]", tokens[0], tokens[1])
					}
				})
			}
		}
	})
}

// readText is the text of a caller's answer, read as the caller's API
// reads it.
func readText(t *testing.T, c pairCaller, body []byte, streamed bool) string {
	t.Helper()
	if c.reader == nil { // the Responses API: its final response object
		if streamed {
			body = completedResponse(t, body)
		}
		var r struct {
			Output []struct {
				Content []struct{ Text string } `json:"content"`
			} `json:"output"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("not a Responses answer: %v\n%s", err, body)
		}
		var b strings.Builder
		for _, o := range r.Output {
			for _, c := range o.Content {
				b.WriteString(c.Text)
			}
		}
		return b.String()
	}
	req := &protocol.Request{Stream: streamed}
	var resp *protocol.Response
	if streamed {
		dec := c.reader.NewStreamDecoder(req)
		rd := sse.NewReader(bytes.NewReader(body))
		var text strings.Builder
		for {
			ev, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			events, err := dec.Decode(nil, ev)
			if err != nil {
				t.Fatalf("the caller's stream has an error event: %v", err)
			}
			for _, e := range events {
				if e.Type == protocol.EventDelta {
					text.WriteString(e.Part.Text)
				}
			}
		}
		return text.String()
	}
	resp, err := c.reader.DecodeResponse(req, body)
	if err != nil {
		t.Fatalf("the caller cannot read the answer: %v\n%s", err, body)
	}
	var b strings.Builder
	for _, p := range resp.Parts {
		if p.Type == protocol.PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// completedResponse is the response a Responses stream ends with.
func completedResponse(t *testing.T, stream []byte) []byte {
	t.Helper()
	rd := sse.NewReader(bytes.NewReader(stream))
	for {
		ev, err := rd.Next()
		if err != nil {
			t.Fatalf("the stream has no response.completed event:\n%s", stream)
		}
		var e struct {
			Type     string          `json:"type"`
			Response json.RawMessage `json:"response"`
		}
		if json.Unmarshal(ev.Data, &e) == nil && e.Type == "response.completed" {
			return e.Response
		}
	}
}

// TestTranslatedStreamIsNotBuffered: for every caller API and every
// provider API it is translated to, the upstream sends its events up to
// the first text and then waits until the caller has received that text,
// translated; a translation that buffered across events would deadlock.
func TestTranslatedStreamIsNotBuffered(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"))
	for proto, pair := range wirePairs {
		model := "m-" + string(proto)
		f.price(pair.provider, model, 3_000_000, 15_000_000, 300_000, modelprice.KindText)
	}
	for _, c := range pairCallers {
		for proto, pair := range wirePairs {
			if proto == c.proto {
				continue
			}
			t.Run(c.name+"->"+string(proto), func(t *testing.T) {
				received := make(chan struct{})
				up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
					w.Header().Set("Content-Type", "text/event-stream")
					waited := false
					for _, ev := range terminated(pair.stream) {
						_, _ = io.WriteString(w, ev)
						w.(http.Flusher).Flush()
						if !waited && strings.Contains(ev, "Hello") {
							waited = true
							select {
							case <-received:
							case <-time.After(5 * time.Second):
								t.Error("the caller did not receive the first text while the upstream waited: the translation buffers")
								return
							}
						}
					}
				})
				base := up.srv.URL
				if proto != providers.ProtocolCohere {
					base += "/v1"
				}
				_, key := f.addService(serviceSpec{name: c.name + "-" + string(proto), provider: pair.provider, baseURL: base, secret: "sk-provider-wait", models: []string{"m-" + string(proto)}})
				path, body := c.request("m-"+string(proto), true)
				req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(body))
				h := keyHeader(c.proto, key)
				for i := 0; i+1 < len(h); i += 2 {
					req.Header.Set(h[i], h[i+1])
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var seen strings.Builder
				buf := make([]byte, 4096)
				for !strings.Contains(seen.String(), "Hello") {
					n, err := resp.Body.Read(buf)
					seen.Write(buf[:n])
					if err != nil {
						t.Fatalf("the stream ended before its first text: %v\n%s", err, seen.String())
					}
				}
				close(received)
				rest, _ := io.ReadAll(resp.Body)
				if all := seen.String() + string(rest); !strings.Contains(all, " there") {
					t.Errorf("the rest of the stream is missing:\n%s", all)
				}
			})
		}
	}
}

// TestTranslatedUpstreamErrors: a provider's refusal reaches the caller in
// the caller's error shape with the provider's status and words, and a
// provider's error event mid-stream ends the caller's stream with the
// caller's error event.
func TestTranslatedUpstreamErrors(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"))
	f.price("anthropic", "claude-test", 3_000_000, 15_000_000, 0, modelprice.KindText)
	pair := wirePairs[providers.ProtocolAnthropic]
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if !bytes.Contains(body, []byte(`"stream":true`)) {
			answerJSON(w, 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"}}`, "Retry-After", "7")
			return
		}
		sseEvents(w, terminated(append(slices.Clone(pair.stream[:3]),
			"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"))...)
	})
	_, key := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL + "/v1", secret: "sk-ant-ERR", models: []string{"claude-test"}})

	resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"claude-test","messages":[{"role":"user","content":"Hi"}]}`)
	var e openAIError
	if resp.StatusCode != 429 || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error.Message, "per-minute rate limit") ||
		e.Error.Type != "rate_limit_error" || resp.Header.Get("Retry-After") != "7" || resp.Header.Get("X-Should-Retry") != "" {
		t.Errorf("refusal: %d %q (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}

	resp, body = f.call("POST", "/v1/chat/completions", key, `{"model":"claude-test","stream":true,"messages":[{"role":"user","content":"Hi"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"content":"Hello"`) ||
		!strings.Contains(body, `data: {"error":{"message":"the anthropic provider ended the stream with an error: Overloaded; the answer is incomplete"`) {
		t.Errorf("stream: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "[DONE]") {
		t.Errorf("a failed stream must not end as complete: %s", body)
	}
	if rec := f.lastRecord(); !rec.Partial || f.lastFailure() != FailureStream {
		t.Errorf("record partial %v failure %q (%s)", rec.Partial, f.lastFailure(), rec.Error)
	}
}

// TestMixedProviderTargets: a service routes one client-facing model to an
// Anthropic target (under another name) and an OpenAI one. Every request
// reserves the worst case at the dearer target; each is charged at the
// price of the target that answered it, once.
func TestMixedProviderTargets(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		bud := &fakeBudget{}
		f := newFixture(t, db, func(o *Options) { o.Budget = bud })
		ctx := context.Background()
		c := db.Client
		f.price("openai", "smart", 1_000_000, 2_000_000, 100_000, modelprice.KindText)
		f.price("anthropic", "claude-smart", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
		key, creds := f.addMixedService(t, "claude-smart")

		body := `{"model":"smart","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`
		dear := pricing.FromRow(c.ModelPrice.Query().Where(modelprice.Model("claude-smart")).OnlyX(ctx))
		wantReserved := dear.CostAtMost(usage.EstimateInputTokens([]byte(body)), 100)
		// 20 plain input, 100 cached and 30 output tokens at each target's
		// rates per million.
		wantCost := map[providers.Protocol]money.Micros{
			providers.ProtocolAnthropic: (20*3_000_000 + 100*300_000 + 30*15_000_000) / 1_000_000,
			providers.ProtocolOpenAI:    (20*1_000_000 + 100*100_000 + 30*2_000_000) / 1_000_000,
		}
		answered := map[providers.Protocol]int{}
		for i := 0; i < 24; i++ {
			resp, answer := f.call("POST", "/v1/chat/completions", key, body)
			if resp.StatusCode != 200 || !strings.Contains(answer, pairText) {
				t.Fatalf("status %d: %s", resp.StatusCode, answer)
			}
			rec := f.lastRecord()
			proto := creds[*rec.CredentialID]
			answered[proto]++
			if rec.Cost != wantCost[proto] || rec.ProviderProtocol != string(proto) {
				t.Errorf("answered by %s: charged %d µUSD (protocol %q), want %d", proto, rec.Cost, rec.ProviderProtocol, wantCost[proto])
			}
			if translated := resp.Header.Get("X-Sluice-Translated") != ""; translated != (proto == providers.ProtocolAnthropic) {
				t.Errorf("answered by %s: X-Sluice-Translated %q", proto, resp.Header.Get("X-Sluice-Translated"))
			}
		}
		if answered[providers.ProtocolAnthropic] == 0 || answered[providers.ProtocolOpenAI] == 0 {
			t.Fatalf("24 requests over two equal targets were answered %v", answered)
		}
		bud.mu.Lock()
		defer bud.mu.Unlock()
		for i, r := range bud.reserved {
			if r.Amount != wantReserved {
				t.Fatalf("request %d reserved %d µUSD, want %d (the worst case at the dearer target)", i, r.Amount, wantReserved)
			}
		}
		if len(bud.settled) != 24 {
			t.Errorf("%d settlements for 24 requests", len(bud.settled))
		}
	})
}

// TestStreamTranslatorClosesOnLastEvent checks that a provider's own last
// event (Anthropic's message_stop) closes the caller's stream with the
// answer's last bytes, once, and that nothing follows it.
func TestStreamTranslatorClosesOnLastEvent(t *testing.T) {
	req := &protocol.Request{Model: "m", Stream: true, IncludeStreamUsage: true}
	st := newStreamTranslator(&translation{req: req, provider: anthropic.Messages, client: openai.Chat})
	var out []string
	for _, raw := range wirePairs[providers.ProtocolAnthropic].stream {
		name, data, _ := strings.Cut(raw, "\n")
		b, err := st.translate(sse.Event{Name: strings.TrimPrefix(name, "event: "), Data: []byte(strings.TrimPrefix(data, "data: "))})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	last := out[len(out)-1]
	if !strings.HasSuffix(last, "data: [DONE]\n\n") || !strings.Contains(last, `"usage":`) {
		t.Errorf("message_stop translated to %q, want the usage chunk and [DONE]", last)
	}
	if n := strings.Count(strings.Join(out, ""), "[DONE]"); n != 1 {
		t.Errorf("[DONE] written %d times", n)
	}
	if b := st.end(); len(b) != 0 {
		t.Errorf("end after message_stop wrote %q, want nothing", b)
	}
	b, err := st.translate(sse.Event{Name: "message_delta", Data: []byte(`{"type":"message_delta","delta":{},"usage":{"output_tokens":40}}`)})
	if err != nil || len(b) != 0 {
		t.Errorf("an event after message_stop wrote %q (%v), want nothing", b, err)
	}
}

// TestTranslationRefusalsPassOverTargets: a parameter one target's API
// lacks sends the request to a target that has it, every time, rather
// than refusing it when routing happens to pick the first; a caller's n
// that no upstream can answer whole is refused.
func TestTranslationRefusalsPassOverTargets(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"))
	f.price("openai", "smart", 1_000_000, 2_000_000, 100_000, modelprice.KindText)
	f.price("anthropic", "smart", 3_000_000, 15_000_000, 300_000, modelprice.KindText)
	key, _ := f.addMixedService(t, "smart")
	for i := 0; i < 16; i++ {
		resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"smart","frequency_penalty":0.5,"messages":[{"role":"user","content":"Hi"}]}`)
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Translated") != "" {
			t.Fatalf("request %d: %d (translated %q): %s", i, resp.StatusCode, resp.Header.Get("X-Sluice-Translated"), body)
		}
	}

	for i := 0; i < 8; i++ { // logprobs has no place in the internal form: the OpenAI target passes it through
		resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"smart","logprobs":true,"messages":[{"role":"user","content":"Hi"}]}`)
		if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Translated") != "" {
			t.Fatalf("logprobs request %d: %d (translated %q): %s", i, resp.StatusCode, resp.Header.Get("X-Sluice-Translated"), body)
		}
	}

	gem := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		answerJSON(w, 200, wirePairs[providers.ProtocolOpenAI].plain)
	})
	_, gkey := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: gem.srv.URL + "/v1", secret: "sk-provider-n", models: []string{"smart"}})
	resp, body := f.call("POST", "/v1beta/models/smart:generateContent", "", `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"generationConfig":{"candidateCount":2}}`, keyHeader(providers.ProtocolGemini, gkey)...)
	if resp.StatusCode != 400 || !strings.Contains(body, "n cannot be translated to the openai API") || gem.count() != 0 {
		t.Errorf("candidateCount 2 to an OpenAI provider: %d %s (%d upstream calls)", resp.StatusCode, body, gem.count())
	}
}

// TestTranslatedAnswerWithoutRoom: an answer that must be held whole to be
// translated but finds no room in the buffer budget is refused with that
// reason, and its tokens, spent at the provider, are charged.
func TestTranslatedAnswerWithoutRoom(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"), func(o *Options) {
		o.MaxBodyBytes, o.MaxBufferedBytes, o.BufferWait = 1024, 1, 50*time.Millisecond
	})
	f.price("anthropic", "claude-test", 3_000_000, 15_000_000, 0, modelprice.KindText)
	long := strings.Repeat("word ", 40_000)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		answerJSON(w, 200, `{"id":"m","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"`+long+`"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":40000}}`)
	})
	_, key := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL + "/v1", secret: "sk-ant-ROOM", models: []string{"claude-test"}})
	resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"claude-test","max_tokens":50000,"messages":[{"role":"user","content":"Hi"}]}`)
	if resp.StatusCode != 502 || !strings.Contains(body, "memory for answers stayed full") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if rec := f.lastRecord(); rec.OutputTokens != 40000 || rec.Cost == 0 {
		t.Errorf("record %d output tokens, %d µUSD: the provider's tokens were spent", rec.OutputTokens, rec.Cost)
	}
}

// addMixedService creates service "mixed" of provider openai, model
// "smart", routed to an Anthropic target (which knows the model as
// anthropicModel) and an OpenAI one, each answering its wire pair's plain
// answer. It returns the key and the protocol of each target's credential.
func (f *fixture) addMixedService(t *testing.T, anthropicModel string) (string, map[int]providers.Protocol) {
	t.Helper()
	ctx := context.Background()
	c := f.db.Client
	svc := c.Service.Create().SetOrganizationID(f.org.ID).SetServiceName("mixed").SetProvider("openai").
		SetModelsEnabled([]string{"smart"}).SaveX(ctx)
	creds := map[int]providers.Protocol{}
	for i, proto := range []providers.Protocol{providers.ProtocolAnthropic, providers.ProtocolOpenAI} {
		pair := wirePairs[proto]
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, pair.plain) })
		cred := c.ProviderCredential.Create().SetOrganizationID(f.org.ID).SetProvider(pair.provider).
			SetAccountKey("mixed-" + pair.provider).SetDisplayName("mixed-" + pair.provider).SetBaseURL(up.srv.URL + "/v1").SaveX(ctx)
		if err := credentials.SetKey(ctx, f.keyring, c.ProviderCredential.UpdateOneID(cred.ID), cred.ID, "sk-provider-mixed-"+pair.provider); err != nil {
			t.Fatal(err)
		}
		creds[cred.ID] = proto
		st := c.ServiceTarget.Create().SetOrganizationID(f.org.ID).SetServiceID(svc.ID).SetCredentialID(cred.ID).SetPosition(i).SetWeight(1)
		if proto == providers.ProtocolAnthropic && anthropicModel != "smart" {
			st.SetModelMap(map[string]string{"smart": anthropicModel})
		}
		st.SaveX(ctx)
	}
	return f.addKey(svc, "mixed-key", nil), creds
}

// TestModelListsInTheCallersShape: the list and one model come in the
// shape of the caller's API, whatever the service's provider, and one
// model is the list's element.
func TestModelListsInTheCallersShape(t *testing.T) {
	f := newFixture(t, testenv.New(t, "sqlite3"))
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: "http://127.0.0.1:9/v1", secret: "sk-provider-list", models: []string{"gpt-test"}})
	for _, tc := range []struct {
		proto      providers.Protocol
		path, want string
	}{
		{providers.ProtocolOpenAI, "/v1/models/gpt-test", `"object":"model"`},
		{providers.ProtocolAnthropic, "/v1/models/gpt-test", `"type":"model"`},
		{providers.ProtocolGemini, "/v1beta/models/gpt-test", `"name":"models/gpt-test"`},
	} {
		resp, body := f.call("GET", tc.path, "", "", keyHeader(tc.proto, key)...)
		if resp.StatusCode != 200 || !strings.Contains(body, tc.want) || strings.HasPrefix(body, `{"data"`) || strings.HasPrefix(body, `{"models"`) {
			t.Errorf("%s GET %s: %d %s, want one model with %s", tc.proto, tc.path, resp.StatusCode, body, tc.want)
		}
		resp, body = f.call("GET", strings.TrimSuffix(tc.path, "/gpt-test"), "", "", keyHeader(tc.proto, key)...)
		if resp.StatusCode != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s list: %d %s", tc.proto, resp.StatusCode, body)
		}
	}
}
