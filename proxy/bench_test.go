package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/accesslog"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/hook"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pace"
)

// memUpstream answers in memory, so a benchmark measures the proxy's own
// work and nothing of the network or a server.
type memUpstream struct {
	contentType string
	body        []byte
}

func (m memUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {m.contentType}, "X-Ratelimit-Remaining-Requests": {"499"}},
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		ContentLength: int64(len(m.body)),
		Request:       r,
	}, nil
}

// sink is a ResponseWriter that keeps nothing but counts flushes: each is a
// write to the client's socket in a real server.
type sink struct {
	h       http.Header
	flushes int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }
func (s *sink) WriteHeader(int)             {}
func (s *sink) Flush()                      { s.flushes++ }

func benchProxy(b *testing.B, up memUpstream, body string, opts ...fixtureOption) {
	benchProxyOn(b, testenv.New(b, dialect.SQLite), up, body, opts...)
}

func benchProxyOn(b *testing.B, db *database.DB, up memUpstream, body string, opts ...fixtureOption) {
	benchProxyTo(b, db, "openai", "gpt-test", up, body, opts...)
}

// benchProxyTo runs the benchmark against a service of provider whose
// priced model is model; the caller always speaks the OpenAI chat API.
func benchProxyTo(b *testing.B, db *database.DB, provider, model string, up memUpstream, body string, opts ...fixtureOption) {
	f := newFixture(b, db, append([]fixtureOption{func(o *Options) { o.Transport = up; o.Log = slog.New(slog.DiscardHandler) }}, opts...)...)
	f.price(provider, model, 2_500_000, 10_000_000, 1_250_000, modelprice.KindText)
	_, key := f.addService(serviceSpec{name: "bench", provider: provider, baseURL: "http://upstream.invalid/v1", secret: "sk-provider-BENCH", models: []string{model}})
	mux := http.NewServeMux()
	f.proxy.Mount(mux)
	payload := []byte(body)
	req, _ := http.NewRequest("POST", "http://sluice/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	w := &sink{h: make(http.Header)}
	run := func() {
		clear(w.h)
		req.Body = io.NopCloser(bytes.NewReader(payload))
		req.ContentLength = int64(len(payload))
		mux.ServeHTTP(w, req)
	}
	run() // warm the key cache
	b.ReportAllocs()
	b.ResetTimer()
	w.flushes = 0
	for b.Loop() {
		run()
	}
	b.StopTimer()
	b.ReportMetric(float64(w.flushes)/float64(b.N), "flushes/op")
	_ = f.usage.Flush(context.Background())
}

// realisticChatBody is openAIChatBody with usage within what the
// benchmarks' request could cost (its 1,000 prompt tokens could not come
// from their bodies), as real answers have.
var realisticChatBody = strings.Replace(openAIChatBody, `"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500`, `"prompt_tokens":12,"completion_tokens":2,"total_tokens":14`, 1)

// BenchmarkChat is the proxy's overhead on a plain chat completion: key
// look-up, checks, body parse, upstream request build, response copy, usage
// extraction, pricing and the usage record.
func BenchmarkChat(b *testing.B) {
	benchProxy(b, memUpstream{"application/json", []byte(realisticChatBody)},
		`{"model":"gpt-test","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":64}`)
}

// BenchmarkChatStream is the same for a streamed chat completion of five
// content events and a usage event, with the stream_options rewrite. The
// upstream's events are all there at once, as under load, so they should
// share one flush.
func BenchmarkChatStream(b *testing.B) {
	chunk := `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"word "}}]}` + "\n\n"
	stream := strings.Repeat(chunk, 5) + openAIStream[2] + openAIStream[3]
	benchProxy(b, memUpstream{"text/event-stream", []byte(stream)},
		`{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}`)
}

// BenchmarkChatTranslated is BenchmarkChat and BenchmarkChatStream for an
// OpenAI caller whose service's provider speaks Anthropic Messages: the
// request is decoded and encoded for Anthropic, the answer or its events
// decoded from Anthropic and encoded back as OpenAI chat. The upstream's
// answers carry the same text and usage as the passthrough benchmarks'.
func BenchmarkChatTranslated(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		benchProxyTo(b, testenv.New(b, dialect.SQLite), "anthropic", "claude-test",
			memUpstream{"application/json", []byte(anthropicBenchAnswer)},
			`{"model":"claude-test","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":64}`)
	})
	b.Run("stream", func(b *testing.B) {
		benchProxyTo(b, testenv.New(b, dialect.SQLite), "anthropic", "claude-test",
			memUpstream{"text/event-stream", []byte(anthropicBenchStream())},
			`{"model":"claude-test","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}`)
	})
}

// anthropicBenchAnswer is realisticChatBody's answer in Anthropic Messages.
const anthropicBenchAnswer = `{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello!"}],` +
	`"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":2}}`

// anthropicBenchStream is BenchmarkChatStream's stream in Anthropic
// Messages: five text deltas between the message's and the block's start
// and stop events, usage in message_start and message_delta.
func anthropicBenchStream() string {
	ev := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
	s := ev("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}`) +
		ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	s += strings.Repeat(ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"word "}}`), 5)
	return s + ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
		ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}`) +
		ev("message_stop", `{"type":"message_stop"}`)
}

// BenchmarkChatBudgeted is BenchmarkChat with package budget's reserve and
// settle on (the service and its key have day and month blocks), in each
// mode the server runs: embedded on SQLite, leased on PostgreSQL.
func BenchmarkChatBudgeted(b *testing.B) {
	modes := []struct{ name, dialect string }{
		{"sqlite-embedded", dialect.SQLite},
		{"postgres-leased", dialect.Postgres},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			db := testenv.New(b, m.dialect)
			bud := budget.New(db, budget.Options{Log: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go bud.Run(ctx) // the write-behind, as the server runs it
			benchProxyOn(b, db, memUpstream{"application/json", []byte(realisticChatBody)},
				`{"model":"gpt-test","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":64}`,
				func(o *Options) { o.Budget = budgetWithLimits{Budgets(bud)} })
		})
	}
}

// budgetWithLimits gives every request day and month blocks, as a
// governed service has, so that the budget holds the request in them.
type budgetWithLimits struct{ Budget }

func (l budgetWithLimits) Reserve(ctx context.Context, r BudgetRequest) (Reservation, error) {
	svc := *r.Service
	day, month := money.Micros(1e12), money.Micros(1e13)
	svc.LimitCostDayBlock, svc.LimitCostMonthBlock = &day, &month
	r.Service = &svc
	return l.Budget.Reserve(ctx, r)
}

// BenchmarkChatPaced is BenchmarkChat with pace limits on (requests and
// tokens per minute and requests in flight on the service, so on its key
// too, none reached), in each mode the server runs: embedded on SQLite,
// leased on PostgreSQL.
func BenchmarkChatPaced(b *testing.B) {
	for _, m := range []struct{ name, dialect string }{{"sqlite-embedded", dialect.SQLite}, {"postgres-leased", dialect.Postgres}} {
		b.Run(m.name, func(b *testing.B) {
			db := testenv.New(b, m.dialect)
			db.Client.Service.Use(func(next entgo.Mutator) entgo.Mutator {
				return hook.ServiceFunc(func(ctx context.Context, m *ent.ServiceMutation) (entgo.Value, error) {
					m.SetLimitRpm(1e9)
					m.SetLimitTpm(1e12)
					m.SetLimitConcurrency(1e6)
					return next.Mutate(ctx, m)
				})
			})
			l := pace.New(db, pace.Options{Log: slog.New(slog.DiscardHandler)})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go l.Run(ctx)
			benchProxyOn(b, db, memUpstream{"application/json", []byte(realisticChatBody)},
				`{"model":"gpt-test","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":64}`,
				func(o *Options) { o.Pace = l })
		})
	}
}

// BenchmarkKeyLookup is a cached key's look-up: hash plus cache read.
func BenchmarkKeyLookup(b *testing.B) {
	db := testenv.New(b, dialect.SQLite)
	f := newFixture(b, db, func(o *Options) { o.Log = slog.New(slog.DiscardHandler) })
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: "http://upstream.invalid/v1", secret: "sk-provider-BENCH", models: []string{"gpt-test"}})
	req, _ := http.NewRequest("POST", "http://sluice/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	if _, aerr := f.proxy.authenticate(req, time.Now()); aerr != nil {
		b.Fatal(aerr)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		k, _ := clientkey.FromRequest(req)
		if e, _ := f.proxy.keys.get(req.Context(), clientkey.Hash(k), time.Now()); e == nil {
			b.Fatal("key not found")
		}
	}
}

// BenchmarkLargeAnswer relays a 60 MB non-streamed answer, metering it on
// the way: the bytes allocated per answer (upstream and client included)
// stay small and constant instead of the answer's size.
func BenchmarkLargeAnswer(b *testing.B) {
	db := testenv.New(b, dialect.SQLite)
	f := newFixture(b, db)
	f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
	const size = 60 << 20
	up := newUpstream(b, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, bigAnswer(`{"choices":[{"message":{"content":"`, size, `"}}],"usage":{"prompt_tokens":10,"completion_tokens":10}}`))
	})
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-BENCH", models: []string{"gpt-test"}})
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-test","max_tokens":10}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != size {
			b.Fatalf("relayed %d bytes: %v", n, err)
		}
		resp.Body.Close()
	}
}

// BenchmarkChatAccessLog is BenchmarkChat and BenchmarkChatStream with the
// access log on (to io.Discard): what the request path pays to queue its
// line, and the writer's goroutine's share of the CPU.
func BenchmarkChatAccessLog(b *testing.B) {
	access := func(o *Options) {
		o.AccessLog = accesslog.New(io.Discard, 0)
		b.Cleanup(func() { _ = o.AccessLog.Close(context.Background()) })
	}
	b.Run("chat", func(b *testing.B) {
		benchProxy(b, memUpstream{"application/json", []byte(realisticChatBody)},
			`{"model":"gpt-test","messages":[{"role":"user","content":"Say hello in one word."}],"max_tokens":64}`, access)
	})
	b.Run("stream", func(b *testing.B) {
		chunk := `data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"word "}}]}` + "\n\n"
		stream := strings.Repeat(chunk, 5) + openAIStream[2] + openAIStream[3]
		benchProxy(b, memUpstream{"text/event-stream", []byte(stream)},
			`{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Say hello in one word."}]}`, access)
	})
}
