package proxy

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/traceid"
)

// tracedFixture is a fixture whose proxy traces into an in-memory
// exporter, every span sampled, and reserves budget.
func tracedFixture(t *testing.T, db *database.DB) (*fixture, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	f := newFixture(t, db, func(o *Options) {
		o.Tracer = tp.Tracer("test")
		o.Budget = Budgets(budget.New(db, budget.Options{Log: slog.New(slog.DiscardHandler)}))
	})
	return f, exp
}

// The prompt and the answer carry words that appear nowhere else, so a
// span that held either is found.
const (
	secretPrompt = `{"model":"gpt-test","messages":[{"role":"user","content":"prompt-words-never-traced"}]}`
	answerWords  = "answer-words-never-traced"
)

var (
	tracedChatBody = strings.Replace(openAIChatBody, "Hello!", answerWords, 1)
	tracedStream   = []string{
		`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-test-0613","choices":[{"index":0,"delta":{"role":"assistant","content":"` + answerWords + `"}}]}` + "\n\n",
		`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-test-0613","choices":[{"index":0,"delta":{},"finish_reason":"length"}]}` + "\n\n",
		`data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-test-0613","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}` + "\n\n",
		"data: [DONE]\n\n",
	}
)

// spanTree indexes the exported spans by name.
type spanTree struct {
	t     *testing.T
	spans tracetest.SpanStubs
}

func (s spanTree) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, sp := range s.spans {
		if sp.Name == name {
			out = append(out, sp)
		}
	}
	return out
}

func (s spanTree) one(name string) tracetest.SpanStub {
	s.t.Helper()
	got := s.named(name)
	if len(got) != 1 {
		s.t.Fatalf("%d spans named %q, want 1; spans: %v", len(got), name, s.names())
	}
	return got[0]
}

func (s spanTree) names() []string {
	var out []string
	for _, sp := range s.spans {
		out = append(out, sp.Name)
	}
	return out
}

func attrs(sp tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range sp.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// checkAttr fails unless sp has key with the value want (in Emit form).
func checkAttr(t *testing.T, sp tracetest.SpanStub, key, want string) {
	t.Helper()
	v, ok := attrs(sp)[attribute.Key(key)]
	if !ok {
		t.Errorf("span %q has no %s; it has %v", sp.Name, key, sp.Attributes)
		return
	}
	if v.Emit() != want {
		t.Errorf("span %q: %s = %s, want %s", sp.Name, key, v.Emit(), want)
	}
}

// checkNothingSecret scans every attribute, event and status of every
// span for a key, a provider key, the prompt and the answer.
func checkNothingSecret(t *testing.T, f *fixture, spans tracetest.SpanStubs, clientKey string) {
	t.Helper()
	forbidden := append([]string{clientKey, "prompt-words-never-traced", answerWords}, f.secrets...)
	for _, sp := range spans {
		texts := []string{sp.Name, sp.Status.Description}
		for _, kv := range sp.Attributes {
			texts = append(texts, string(kv.Key)+"="+kv.Value.Emit())
		}
		for _, ev := range sp.Events {
			for _, kv := range ev.Attributes {
				texts = append(texts, kv.Value.Emit())
			}
		}
		for _, s := range texts {
			for _, bad := range forbidden {
				if strings.Contains(s, bad) {
					t.Errorf("span %q holds %q: %s", sp.Name, bad, s)
				}
			}
		}
	}
}

// TestTraceChat: a chat request, streamed and not, is one server span
// named for its operation and model with the GenAI attributes of the
// answer, whose children are the key check, the budget reservation and
// the upstream attempt (with the stream relay below it when streamed);
// the upstream receives the attempt's traceparent, the usage record the
// trace id, and no span holds a key, the prompt or the answer.
func TestTraceChat(t *testing.T) {
	cases := []struct {
		name     string
		streamed bool
		respond  func(w http.ResponseWriter, r *http.Request, body []byte)
		model    string
		finish   string
	}{
		{"not streamed", false, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, tracedChatBody) }, "gpt-test", `["stop"]`},
		{"streamed", true, func(w http.ResponseWriter, r *http.Request, body []byte) { sseEvents(w, tracedStream...) }, "gpt-test-0613", `["length"]`},
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				f, exp := tracedFixture(t, db)
				up := newUpstream(t, c.respond)
				_, key := f.addService(serviceSpec{name: "traced-" + strings.ReplaceAll(c.name, " ", "-"), provider: "openai",
					baseURL: up.srv.URL, secret: "sk-provider-traced-secret", models: []string{"gpt-test"}})
				if i == 0 { // prices are the instance's, shared by the cases
					f.price("openai", "gpt-test", 1_000_000, 2_000_000, 0, modelprice.KindText)
				}
				body := secretPrompt
				if c.streamed {
					body = strings.Replace(body, `{"model"`, `{"stream":true,"model"`, 1)
				}
				resp, _ := f.call("POST", "/v1/chat/completions", key, body)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				rec := f.lastRecord() // the record is written after the span ends
				tree := spanTree{t, exp.GetSpans()}
				server := tree.one("chat gpt-test")
				if server.SpanKind != trace.SpanKindServer || server.Parent.IsValid() {
					t.Errorf("server span: kind %v, parent %v; want a root server span", server.SpanKind, server.Parent)
				}
				for k, want := range map[string]string{
					"gen_ai.provider.name": "openai", "gen_ai.operation.name": "chat",
					"gen_ai.request.model": "gpt-test", "gen_ai.response.model": c.model,
					"gen_ai.usage.input_tokens": "1000", "gen_ai.usage.output_tokens": "500",
					"gen_ai.response.finish_reasons": c.finish,
					"http.request.method":            "POST", "http.route": "/v1/chat/completions", "http.response.status_code": "200",
				} {
					checkAttr(t, server, k, want)
				}
				if _, ok := attrs(server)["gen_ai.system"]; ok {
					t.Error("the server span carries the deprecated gen_ai.system")
				}
				children := []string{spanKeyCheck, spanBudget, spanAttempt}
				for _, name := range children {
					if sp := tree.one(name); sp.Parent.SpanID() != server.SpanContext.SpanID() {
						t.Errorf("%s is not a child of the server span", name)
					}
				}
				attempt := tree.one(spanAttempt)
				checkAttr(t, attempt, "sluice.credential.name", "traced-"+strings.ReplaceAll(c.name, " ", "-"))
				checkAttr(t, attempt, "http.response.status_code", "200")
				if attempt.SpanKind != trace.SpanKindClient {
					t.Errorf("attempt span kind %v, want client", attempt.SpanKind)
				}
				relays := tree.named(spanStreamRelay)
				switch {
				case c.streamed && len(relays) != 1:
					t.Errorf("%d stream relay spans, want 1", len(relays))
				case c.streamed && relays[0].Parent.SpanID() != attempt.SpanContext.SpanID():
					t.Error("the stream relay is not a child of its attempt")
				case c.streamed:
					checkAttr(t, relays[0], "sluice.stream.events", "4")
				case len(relays) != 0:
					t.Errorf("a non-streamed answer has %d stream relay spans", len(relays))
				}
				sent := up.last(t).Header.Get("Traceparent")
				wantParent := "00-" + server.SpanContext.TraceID().String() + "-" + attempt.SpanContext.SpanID().String() + "-01"
				if sent != wantParent {
					t.Errorf("upstream got traceparent %q, want %q", sent, wantParent)
				}
				if rec.TraceID != server.SpanContext.TraceID().String() {
					t.Errorf("usage record trace id %q, want %s", rec.TraceID, server.SpanContext.TraceID())
				}
				checkNothingSecret(t, f, tree.spans, key)
			})
		}
	})
}

// TestTraceFollowsClientTraceparent: the client's traceparent makes the
// server span its child, in its trace, and the upstream's traceparent
// carries that trace too, with the client's tracestate.
func TestTraceFollowsClientTraceparent(t *testing.T) {
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, exp := tracedFixture(t, db)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, tracedChatBody) })
		_, key := f.addService(serviceSpec{name: "child", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-child", models: []string{"gpt-test"}})
		resp, _ := f.call("POST", "/v1/chat/completions", key, chatRequest,
			"Traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01", "Tracestate", "vendor=opaque")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		rec := f.lastRecord()
		tree := spanTree{t, exp.GetSpans()}
		server := tree.one("chat gpt-test")
		if server.SpanContext.TraceID().String() != clientTrace || server.Parent.SpanID().String() != "00f067aa0ba902b7" || !server.Parent.IsRemote() {
			t.Errorf("server span in trace %s under %s; want the client's %s under 00f067aa0ba902b7",
				server.SpanContext.TraceID(), server.Parent.SpanID(), clientTrace)
		}
		got := up.last(t).Header
		id, ok := traceid.FromTraceparent(got.Get("Traceparent"))
		if !ok || id.String() != clientTrace {
			t.Errorf("upstream traceparent %q, want one in trace %s", got.Get("Traceparent"), clientTrace)
		}
		if strings.Contains(got.Get("Traceparent"), "00f067aa0ba902b7") {
			t.Error("the upstream got the client's span as its parent, not the attempt's")
		}
		if got.Get("Tracestate") != "vendor=opaque" {
			t.Errorf("upstream tracestate %q, want the client's", got.Get("Tracestate"))
		}
		if rec.TraceID != clientTrace {
			t.Errorf("usage record trace id %q, want %s", rec.TraceID, clientTrace)
		}
	})
}

// TestTraceFailover: a request that fails over has one attempt span per
// try, the first failed with the upstream's status, both children of the
// server span.
func TestTraceFailover(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f, exp := tracedFixture(t, db)
		bad := newUpstream(t, answer(503))
		good := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, tracedChatBody) })
		// The bad target alone has weight, so it is tried first.
		_, _, key := f.addRoutedService("failover", []string{"gpt-test"},
			targetSpec{baseURL: bad.srv.URL, weight: 1000}, targetSpec{baseURL: good.srv.URL, weight: 1})
		for bad.count() == 0 {
			exp.Reset()
			resp, _ := f.call("POST", "/v1/chat/completions", key, secretPrompt)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if good.count() > 20 {
				t.Fatal("the heavy target was never tried")
			}
		}
		f.lastRecord()
		tree := spanTree{t, exp.GetSpans()}
		server := tree.one("chat gpt-test")
		attempts := tree.named(spanAttempt)
		if len(attempts) != 2 {
			t.Fatalf("%d attempt spans, want 2; spans %v", len(attempts), tree.names())
		}
		for i, a := range attempts {
			if a.Parent.SpanID() != server.SpanContext.SpanID() {
				t.Errorf("attempt %d is not a child of the server span", i+1)
			}
		}
		first, second := attempts[0], attempts[1]
		if attrs(first)["sluice.attempt"].AsInt64() != 1 {
			first, second = second, first
		}
		checkAttr(t, first, "sluice.attempt", "1")
		checkAttr(t, first, "http.response.status_code", "503")
		checkAttr(t, first, "sluice.credential.name", "failover-0")
		checkAttr(t, second, "sluice.attempt", "2")
		checkAttr(t, second, "http.response.status_code", "200")
		checkAttr(t, second, "sluice.credential.name", "failover-1")
		if first.Status.Code.String() != "Error" || second.Status.Code.String() == "Error" {
			t.Errorf("attempt statuses %v, %v; want the first failed", first.Status, second.Status)
		}
		checkNothingSecret(t, f, tree.spans, key)
	})
}

// TestTraceOff: without a tracer the client's traceparent reaches the
// upstream unchanged, and its trace id is still on the usage record and
// the access log line.
func TestTraceOff(t *testing.T) {
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		var lines bytes.Buffer
		access := accesslog.New(&lines, 0)
		f := newFixture(t, db, func(o *Options) { o.AccessLog = access })
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, tracedChatBody) })
		_, key := f.addService(serviceSpec{name: "untraced", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-untraced", models: []string{"gpt-test"}})
		f.call("POST", "/v1/chat/completions", key, chatRequest, "Traceparent", parent, "Tracestate", "vendor=opaque")
		f.call("POST", "/v1/chat/completions", key, chatRequest)
		if got := up.reqs[0].Header.Get("Traceparent"); got != parent {
			t.Errorf("upstream traceparent %q, want the client's %q", got, parent)
		}
		if got := up.reqs[0].Header.Get("Tracestate"); got != "vendor=opaque" {
			t.Errorf("upstream tracestate %q, want the client's", got)
		}
		if got := up.reqs[1].Header.Get("Traceparent"); got != "" {
			t.Errorf("an untraced request without a traceparent sent one upstream: %q", got)
		}
		recs := f.records()
		if len(recs) != 2 || recs[0].TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" || recs[1].TraceID != "" {
			t.Fatalf("records' trace ids %v; want the client's, then none", traceIDsOf(recs))
		}
		if err := access.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		out := strings.Split(strings.TrimSpace(lines.String()), "\n")
		if len(out) != 2 || !strings.Contains(out[0], `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`) || strings.Contains(out[1], "trace_id") {
			t.Errorf("access log lines:\n%s\nwant the client's trace id on the first only", lines.String())
		}
	})
}

func traceIDsOf(recs []*ent.UsageRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.TraceID
	}
	return out
}

// TestNamesFact: the stream events that carry a finish or stop reason or
// a response's status, in each provider's wire format (compact or not),
// are decoded; content deltas, with OpenAI's null finish_reason, are not.
func TestNamesFact(t *testing.T) {
	cases := []struct {
		name, data string
		want       bool
	}{
		{"openai delta", `{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}`, false},
		{"openai last", `{"id":"c1","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`, true},
		{"anthropic delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"the reason\": \"x"}}`, false},
		{"anthropic message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`, true},
		{"gemini, spaced", "{\n  \"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hi\"}]}, \"finishReason\" : \"STOP\"}]\n}", true},
		{"gemini delta", `{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"}}],"modelVersion":"gemini-2.0-flash"}`, false},
		{"responses completed", `{"type":"response.completed","response":{"id":"r1","status":"completed","model":"gpt-4o"}}`, true},
		{"responses delta", `{"type":"response.output_text.delta","item_id":"m1","delta":"Hi"}`, false},
		{"cohere end", `{"type":"message-end","delta":{"finish_reason":"COMPLETE"}}`, true},
	}
	for _, c := range cases {
		if got := namesFact([]byte(c.data)); got != c.want {
			t.Errorf("%s: namesFact = %v, want %v", c.name, got, c.want)
		}
	}
	// An OpenAI stream read event by event keeps the model of the first
	// and the finish reason of the last.
	x := &exchange{}
	for _, ev := range openAIStreamEvents(3) {
		x.observe([]byte(ev))
	}
	if x.facts == nil || x.facts.model != "gpt-4o-2024-08-06" || !slices.Equal(x.facts.finish, []string{"stop"}) {
		t.Fatalf("facts = %+v, want the model and the one finish reason", x.facts)
	}
}

// openAIStreamEvents is an OpenAI chat stream's event data: n content
// deltas, then the chunk that finishes.
func openAIStreamEvents(n int) []string {
	evs := make([]string, 0, n+1)
	for i := range n {
		evs = append(evs, fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"token %d "},"logprobs":null,"finish_reason":null}]}`, i))
	}
	return append(evs, `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}`)
}

// BenchmarkObserveStream: what reading a traced stream's facts costs per
// event, over an OpenAI stream of 200 content deltas.
func BenchmarkObserveStream(b *testing.B) {
	evs := openAIStreamEvents(200)
	data := make([][]byte, len(evs))
	for i, ev := range evs {
		data[i] = []byte(ev)
	}
	b.ReportAllocs()
	for b.Loop() {
		x := &exchange{}
		for _, d := range data {
			x.observe(d)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(data)), "ns/event")
}
