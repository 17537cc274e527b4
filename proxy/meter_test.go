package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/ent/spendwindow"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/ratelimits"
	"github.com/sluicehq/sluice/tokens"
)

// includeUsage is what the proxy adds to a streamed chat request.
const includeUsage = `"stream_options":{"include_usage":true},`

// choicesUpstream answers every chat request with all it asked for: n
// choices of max_tokens tokens each, as a real provider bills them.
func choicesUpstream(t testing.TB) *fakeUpstream {
	return newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		var req struct {
			N         int64 `json:"n"`
			MaxTokens int64 `json:"max_tokens"`
		}
		_ = json.Unmarshal(body, &req)
		answerJSON(w, 200, fmt.Sprintf(`{"id":"c","object":"chat.completion","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":%d}}`,
			max(req.N, 1)*req.MaxTokens))
	})
}

// TestChoicesNeverOverspend: concurrent requests asking for 100 choices
// each, against a key with a $0.01 block, in the budget mode each dialect
// runs in production. A reservation that priced one choice admitted them
// all and let them spend many times the block; the worst case of n
// choices keeps settled spend within it.
func TestChoicesNeverOverspend(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		bud := budget.New(db, budget.Options{Log: slog.New(slog.DiscardHandler)})
		f := newFixture(t, db, func(o *Options) { o.Budget = Budgets(bud) })
		// $0.10 per million tokens in and out: a request of 100 × 100
		// tokens costs about $0.001, a tenth of the block.
		f.price("openai", "gpt-test", 100_000, 100_000, 0, modelprice.KindText)
		up := choicesUpstream(t)
		svc, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-N", models: []string{"gpt-test"}})
		block := money.FromUSD(0.01)
		key := f.addKey(svc, "limited", func(c *ent.APIKeyCreate) { c.SetLimitCostTotalBlock(block) })
		chat := `{"model":"gpt-test","n":100,"max_tokens":100,"messages":[{"role":"user","content":"Say hi."}]}`
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := f.call("POST", "/v1/chat/completions", key, chat)
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if err := bud.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		var spent, charged money.Micros
		for _, w := range db.Client.SpendWindow.Query().Where(spendwindow.ScopeEQ(spendwindow.ScopeKey), spendwindow.WindowEQ(spendwindow.WindowTotal)).AllX(context.Background()) {
			spent += money.Micros(w.Spent)
		}
		for _, r := range f.records() {
			charged += r.Cost
			// Admitted requests are charged all they used: their
			// reservation covered it, so nothing was cut.
			if r.Status == 200 && (r.OutputTokens != 100*100 || r.Partial) {
				t.Errorf("an admitted request was recorded with %d output tokens, partial %v (%q); want 10000, whole", r.OutputTokens, r.Partial, r.Error)
			}
		}
		if spent > block || charged > block || statuses[200] == 0 || statuses[200]+statuses[429] != 40 {
			t.Fatalf("40 requests of n=100: %v; spent %s and charged %s against a %s block", statuses, spent, charged, block)
		}
	})
}

// TestUpstreamUsageClaimsAreBounded: an upstream that reports more tokens
// than the request can use (more output than n × max_tokens, a trillion
// input tokens) is charged the request's bounds (its output cap, the input
// ceiling per prompt), far below the claim, and the record and the log say
// what was claimed.
func TestUpstreamUsageClaimsAreBounded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		fake := &fakeBudget{}
		f := newFixture(t, db, func(o *Options) { o.Budget = fake })
		f.price("openai", "gpt-test", 3_000_000, 15_000_000, 0, modelprice.KindText)
		claim := `{"prompt_tokens":1000000000000,"completion_tokens":5000000}`
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if strings.Contains(string(body), `"stream":true`) {
				sseEvents(w, `data: {"choices":[{"delta":{"content":"hi"}}]}`+"\n\n", `data: {"choices":[],"usage":`+claim+"}\n\n", "data: [DONE]\n\n")
				return
			}
			answerJSON(w, 200, `{"choices":[{"message":{"content":"hi"}}],"usage":`+claim+`}`)
		})
		_, key := f.addService(serviceSpec{name: "liar", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-LIAR", models: []string{"gpt-test"}})
		for _, chat := range []string{
			`{"model":"gpt-test","n":2,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}`,
			`{"model":"gpt-test","n":2,"max_tokens":50,"stream":true,"messages":[{"role":"user","content":"hi"}]}`,
		} {
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			fake.mu.Lock()
			reserved, settled := fake.reserved[len(fake.reserved)-1].Amount, fake.settled[len(fake.settled)-1]
			fake.mu.Unlock()
			rec := f.lastRecord()
			// in bound: the plausibility ceiling of one prompt; out bound: 2 × 50.
			in := int64(maxPlausibleInput)
			claimed := money.Micros(1_000_000_000_000*3 + 5_000_000*15)
			if rec.InputTokens != in || rec.OutputTokens != 100 || settled != rec.Cost || settled == 0 || settled < reserved || settled > claimed/1000 {
				t.Errorf("%s: record %d in, %d out, cost %d; settled %d, reserved %d; want %d in, 100 out, settled = cost, far below the claim %d",
					chat, rec.InputTokens, rec.OutputTokens, rec.Cost, settled, reserved, in, claimed)
			}
			if !rec.Partial || !strings.Contains(rec.Error, "reported 1000000000000 input and 5000000 output tokens") {
				t.Errorf("record partial %v, error %q; want the claim noted", rec.Partial, rec.Error)
			}
		}
		if logs := f.logs.String(); !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "more tokens than the request can use") {
			t.Errorf("no warning logged:\n%s", logs)
		}
		f.checkNoSecrets("the logs", f.logs.String())
	})
}

// TestInputNotInBodyIsCharged: providers bill input the body only refers
// to (an image by URL, an earlier response, a batch of prompts), so input
// the upstream reports beyond the body's size, up to the ceiling per
// prompt, is charged as reported.
func TestInputNotInBodyIsCharged(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-4o-mini", 150_000, 600_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			var req struct {
				Input int64 `json:"metadata_input"`
			}
			_ = json.Unmarshal(body, &req)
			switch r.URL.Path {
			case "/v1/responses":
				answerJSON(w, 200, fmt.Sprintf(`{"output":[],"usage":{"input_tokens":%d,"output_tokens":200}}`, req.Input))
			case "/v1/completions":
				answerJSON(w, 200, fmt.Sprintf(`{"choices":[{"text":"a"}],"usage":{"prompt_tokens":%d,"completion_tokens":200}}`, req.Input))
			default:
				answerJSON(w, 200, fmt.Sprintf(`{"choices":[{"message":{"content":"a cat"}}],"usage":{"prompt_tokens":%d,"completion_tokens":200}}`, req.Input))
			}
		})
		_, key := f.addService(serviceSpec{name: "v", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-VISION", models: []string{"gpt-4o-mini"}})
		// metadata_input tells the fake upstream what input to report.
		cases := []struct {
			name, path, body string
			in               int64
		}{
			{"image by URL", "/v1/chat/completions", `{"model":"gpt-4o-mini","metadata_input":25514,"max_tokens":300,"messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg","detail":"high"}}]}]}`, 25514},
			{"earlier response", "/v1/responses", `{"model":"gpt-4o-mini","metadata_input":40000,"previous_response_id":"resp_abc","max_output_tokens":300,"input":"and then?"}`, 40000},
			{"batch of three prompts above one prompt's ceiling", "/v1/completions", `{"model":"gpt-4o-mini","metadata_input":25000000,"max_tokens":300,"prompt":["a","b","c"]}`, 25_000_000},
		}
		for _, c := range cases {
			resp, body := f.call("POST", c.path, key, c.body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: status %d: %s", c.name, resp.StatusCode, body)
			}
			rec := f.lastRecord()
			want := money.Micros((c.in*150_000 + 200*600_000 + 999_999) / 1_000_000) // rounded up
			if rec.InputTokens != c.in || rec.Cost != want || rec.Partial {
				t.Errorf("%s: recorded %d input tokens, cost %d, partial %v (%q); want %d, cost %d, not partial",
					c.name, rec.InputTokens, rec.Cost, rec.Partial, rec.Error, c.in, want)
			}
		}
	})
}

// TestUnboundedRequestRefused: where a block applies, a request whose worst
// case is unknown (a multiplier that is not a number, no output cap for a
// model whose maximum output is unknown) is refused in the caller's shape,
// naming what to set; without a block it is admitted.
func TestUnboundedRequestRefused(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db, func(o *Options) {
			o.Budget = Budgets(budget.New(db, budget.Options{Log: slog.New(slog.DiscardHandler)}))
		})
		ctx := context.Background()
		f.price("openai", "gpt-test", 100_000, 100_000, 0, modelprice.KindText)
		// A model whose maximum output the gateway does not know.
		for _, m := range []struct{ provider, model string }{{"openai", "gpt-open"}, {"google", "gemini-open"}} {
			db.Client.ModelPrice.Create().SetProvider(m.provider).SetModel(m.model).SetInputPerMtok(100_000).SetOutputPerMtok(100_000).
				SetKind(modelprice.KindText).SaveX(ctx)
		}
		up := choicesUpstream(t)
		block := money.FromUSD(100)
		oa, _ := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-UNB", models: []string{"gpt-test", "gpt-open"}})
		limited := f.addKey(oa, "limited", func(c *ent.APIKeyCreate) { c.SetLimitCostDayBlock(block) })
		free := f.addKey(oa, "free", nil)
		gem, _ := f.addService(serviceSpec{name: "gm", provider: "google", baseURL: up.srv.URL, secret: "sk-provider-UNB-G", models: []string{"gemini-open"}})
		gemLimited := f.addKey(gem, "gem-limited", func(c *ent.APIKeyCreate) { c.SetLimitCostDayBlock(block) })
		cases := []struct {
			name, key, path, body string
			proto                 providers.Protocol
			status                int
			says                  string
		}{
			{"n as a string", limited, "/v1/chat/completions", `{"model":"gpt-test","n":"100","max_tokens":10}`, providers.ProtocolOpenAI, 400, `"n" is not a whole number`},
			{"negative best_of", limited, "/v1/completions", `{"model":"gpt-test","prompt":"hi","best_of":-5,"max_tokens":10}`, providers.ProtocolOpenAI, 400, `"best_of"`},
			{"no cap, unknown model maximum", limited, "/v1/chat/completions", `{"model":"gpt-open","messages":[]}`, providers.ProtocolOpenAI, 400, `set "max_completion_tokens"`},
			{"cap given", limited, "/v1/chat/completions", `{"model":"gpt-open","max_tokens":10,"messages":[]}`, providers.ProtocolOpenAI, 200, ""},
			{"known model maximum", limited, "/v1/chat/completions", `{"model":"gpt-test","n":3,"messages":[]}`, providers.ProtocolOpenAI, 200, ""},
			{"no block applies", free, "/v1/chat/completions", `{"model":"gpt-open","n":"100","messages":[]}`, providers.ProtocolOpenAI, 200, ""},
			{"gemini", gemLimited, "/v1beta/models/gemini-open:generateContent", `{"contents":[]}`, providers.ProtocolGemini, 400, `set "generationConfig.maxOutputTokens"`},
			{"gemini candidateCount", gemLimited, "/v1beta/models/gemini-open:generateContent", `{"generationConfig":{"candidateCount":"x","maxOutputTokens":5}}`, providers.ProtocolGemini, 400, `"candidateCount"`},
		}
		for _, tc := range cases {
			before := up.count()
			resp, body := f.call("POST", tc.path, tc.key, tc.body)
			if resp.StatusCode != tc.status {
				t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.status, body)
				continue
			}
			if tc.status == 200 {
				continue
			}
			if up.count() != before {
				t.Errorf("%s: a refused request reached the upstream", tc.name)
			}
			if msg := errorShape(t, tc.proto, resp.StatusCode, body); !strings.Contains(msg, tc.says) || !strings.Contains(msg, "spending limit") {
				t.Errorf("%s: message %q does not say %q and why", tc.name, msg, tc.says)
			}
		}
	})
}

// TestWorstCase: the reservation covers every answer a request asks for.
func TestWorstCase(t *testing.T) {
	price := pricing.Price{Kind: pricing.KindText, InputPerMTok: 1_000_000, OutputPerMTok: 1_000_000, MaxOutputTokens: 1000}
	embed := pricing.Price{Kind: pricing.KindEmbedding, InputPerMTok: 1_000_000}
	cases := []struct {
		name     string
		proto    providers.Protocol
		endpoint string
		price    pricing.Price
		body     string
		out      int64
	}{
		{"one choice", providers.ProtocolOpenAI, "/v1/chat/completions", price, `{"max_tokens":100}`, 100},
		{"n choices", providers.ProtocolOpenAI, "/v1/chat/completions", price, `{"n":100,"max_tokens":100}`, 10_000},
		{"n without a cap takes the model's", providers.ProtocolOpenAI, "/v1/chat/completions", price, `{"n":4}`, 4000},
		{"best_of", providers.ProtocolOpenAI, "/v1/completions", price, `{"prompt":["a","b"],"best_of":3,"n":1,"max_tokens":10}`, 60},
		{"gemini candidates", providers.ProtocolGemini, "", price, `{"generationConfig":{"candidateCount":5,"maxOutputTokens":7}}`, 35},
		{"anthropic has no n", providers.ProtocolAnthropic, "/v1/messages", price, `{"n":5,"max_tokens":7}`, 7},
		{"embeddings write nothing", providers.ProtocolOpenAI, "/v1/embeddings", embed, `{"input":["a","b"],"n":5}`, 0},
	}
	for _, tc := range cases {
		x := &exchange{protocol: tc.proto, endpoint: tc.endpoint, body: []byte(tc.body), info: modelInfo{price: tc.price, priced: true}}
		w := x.worstCase(x.info)
		if w.out != tc.out || w.unbounded != "" || w.cost != tc.price.CostAtMost(int64(len(tc.body))+64, tc.out) {
			t.Errorf("%s: out %d, cost %d, unbounded %q; want out %d", tc.name, w.out, w.cost, w.unbounded, tc.out)
		}
	}
}

// TestUnreadableStreamUsage: a stream whose usage chunk holds counts that
// are not numbers is charged the estimate of what was streamed, and its
// record is partial and says why.
func TestUnreadableStreamUsage(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			sseEvents(w, `data: {"choices":[{"index":0,"delta":{"content":"`+strings.Repeat("word ", 40)+`"}}]}`+"\n\n",
				`data: {"choices":[],"usage":{"prompt_tokens":"abc","completion_tokens":"abc"}}`+"\n\n", "data: [DONE]\n\n")
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-ABC", models: []string{"gpt-test"}})
		chat := `{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		resp, _ := f.call("POST", "/v1/chat/completions", key, chat)
		rec := f.lastRecord()
		// 200 characters → 50 tokens; the input is estimated from the
		// forwarded body.
		if resp.StatusCode != 200 || !rec.Partial || rec.OutputTokens != 50 || rec.InputTokens != int64(len(chat)+len(includeUsage))+64 || rec.Cost == 0 {
			t.Fatalf("record: status %d, partial %v, %d in, %d out, cost %d", resp.StatusCode, rec.Partial, rec.InputTokens, rec.OutputTokens, rec.Cost)
		}
		if !strings.HasPrefix(rec.Error, `usage could not be read: "prompt_tokens" is "abc"`) || !strings.Contains(rec.Error, "estimated") {
			t.Errorf("record error %q", rec.Error)
		}
		if got := resp.Trailer.Get("X-Sluice-Cost-USD"); got != rec.Cost.Decimal() {
			t.Errorf("cost trailer %q, record %s", got, rec.Cost.Decimal())
		}
	})
}

// bigAnswer is a generated non-streamed answer of about size bytes: head,
// then filler text, then tail. It is never held whole, by the test either.
func bigAnswer(head string, size int64, tail string) io.Reader {
	filler := io.LimitReader(repeatReader('a'), max(size-int64(len(head)+len(tail)), 0))
	return io.MultiReader(strings.NewReader(head), filler, strings.NewReader(tail))
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestLargeAnswerMetered: non-streamed answers too large to hold are
// relayed as they arrive and still charged what they report, wherever
// their usage is; one whose usage cannot be read is charged the worst
// case, not nothing.
func TestLargeAnswerMetered(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		f.price("anthropic", "claude-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		var answer func() io.Reader
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.Copy(w, answer())
		})
		_, oaKey := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-BIG", models: []string{"gpt-test"}})
		_, anKey := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-provider-BIG-A", models: []string{"claude-test"}})
		chat := `{"model":"gpt-test","max_tokens":200000,"messages":[{"role":"user","content":"hi"}]}`
		cases := []struct {
			name, key, path, body string
			answer                func() io.Reader
			size                  int64
			in, out               int64
			partial               bool
		}{
			{"70 MB, usage at the end", oaKey, "/v1/chat/completions", chat, func() io.Reader {
				return bigAnswer(`{"id":"c","choices":[{"message":{"content":"`, 70<<20, `"}}],"usage":{"prompt_tokens":10,"completion_tokens":100000}}`)
			}, 70 << 20, 10, 100000, false},
			{"usage at the start", anKey, "/v1/messages", `{"model":"claude-test","max_tokens":9000,"messages":[]}`, func() io.Reader {
				return bigAnswer(`{"type":"message","usage":{"input_tokens":12,"output_tokens":8000},"content":[{"type":"text","text":"`, 6<<20, `"}]}`)
			}, 6 << 20, 12, 8000, false},
			{"unreadable usage", oaKey, "/v1/chat/completions", chat, func() io.Reader {
				return bigAnswer(`{"choices":[{"message":{"content":"`, 6<<20, `"}}],"usage":{"prompt_tokens":"many","completion_tokens":1}}`)
			}, 6 << 20, int64(len(chat)) + 64, 200000, true},
		}
		for _, tc := range cases {
			answer = tc.answer
			req, _ := http.NewRequest("POST", f.srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+tc.key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || n != tc.size || resp.StatusCode != 200 {
				t.Fatalf("%s: relayed %d bytes (%v), status %d; want %d", tc.name, n, err, resp.StatusCode, tc.size)
			}
			rec := f.lastRecord()
			want := pricing.Price{InputPerMTok: 1_000_000, OutputPerMTok: 1_000_000}.Cost(tokens.Tokens{InputTokens: tc.in, OutputTokens: tc.out})
			if rec.InputTokens != tc.in || rec.OutputTokens != tc.out || rec.Cost != want || rec.Partial != tc.partial {
				t.Errorf("%s: record %d in, %d out, cost %d, partial %v (%q); want %d, %d, %d, %v",
					tc.name, rec.InputTokens, rec.OutputTokens, rec.Cost, rec.Partial, rec.Error, tc.in, tc.out, want, tc.partial)
			}
			if got := resp.Trailer.Get("X-Sluice-Cost-USD"); got != want.Decimal() {
				t.Errorf("%s: cost trailer %q, want %q", tc.name, got, want.Decimal())
			}
		}
	})
}

// TestLargeAnswerMemory: relaying a 60 MB answer allocates a small,
// constant amount, not the answer's size (it used to hold it whole).
func TestLargeAnswerMemory(t *testing.T) {
	db := testenv.New(t, dialect.SQLite)
	f := newFixture(t, db)
	f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, bigAnswer(`{"choices":[{"message":{"content":"`, 60<<20, `"}}],"usage":{"prompt_tokens":10,"completion_tokens":10}}`))
	})
	_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-MEM", models: []string{"gpt-test"}})
	relay := func() {
		req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"gpt-test","max_tokens":10}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != 60<<20 {
			t.Fatalf("relayed %d bytes: %v", n, err)
		}
	}
	relay() // warm the pools and connections
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	relay()
	runtime.ReadMemStats(&after)
	// Everything allocated in the process meanwhile: the upstream, the
	// client and the proxy. Holding the answer would be 60 MB and more.
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Fatalf("relaying a 60 MB answer allocated %d bytes", got)
	}
}

// TestBufferedBytesBounded: request bodies wait for room under
// MaxBufferedBytes and are refused in the caller's shape when none comes;
// answers never wait: one larger than the first step is relayed as it
// arrives instead of held when there is no room, and a small one is held
// (its cost a header) even then.
func TestBufferedBytesBounded(t *testing.T) {
	db := testenv.New(t, dialect.SQLite)
	f := newFixture(t, db, func(o *Options) { o.MaxBodyBytes = 1 << 20; o.MaxBufferedBytes = 2 << 20; o.BufferWait = 50 * 1e6 })
	f.price("anthropic", "claude-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
	const bigHead, bigTail = `{"id":"msg_1","type":"message","content":[{"type":"text","text":"`, `"}],"usage":{"input_tokens":10,"output_tokens":20}}`
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if strings.Contains(string(body), "a long answer") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.Copy(w, bigAnswer(bigHead, 3*bufferStep, bigTail))
			return
		}
		answerJSON(w, 200, anthropicBody)
	})
	_, key := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-BUF", models: []string{"claude-test"}})
	body := `{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"` + cachedPrompt + `"}]}`

	// Other requests hold all the room.
	bufs := f.proxy.bufs
	if !bufs.tryAcquire(2 << 20) {
		t.Fatal("could not take the buffer budget")
	}
	resp, got := f.call("POST", "/v1/messages", key, body, "X-Api-Key", key)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(errorShape(t, providers.ProtocolAnthropic, resp.StatusCode, got), "memory limit") {
		t.Fatalf("with no room: status %d: %s", resp.StatusCode, got)
	}
	if up.count() != 0 {
		t.Fatal("a refused request reached the upstream")
	}

	// Room for the request body only: a long answer is relayed, not held,
	// and its cost follows it as a trailer; a short one is still held and
	// its cost is a header.
	long := strings.Replace(body, `"content":"`, `"content":"a long answer `, 1)
	bufs.release(int64(len(long)) + 1)
	resp, got = f.call("POST", "/v1/messages", key, long)
	if resp.StatusCode != 200 || len(got) != 3*bufferStep || resp.Header.Get("X-Sluice-Cost-USD") != "" || resp.Trailer.Get("X-Sluice-Cost-USD") != f.lastRecord().Cost.Decimal() {
		t.Fatalf("a long answer with room for the body only: status %d, %d bytes, header %q, trailer %q",
			resp.StatusCode, len(got), resp.Header.Get("X-Sluice-Cost-USD"), resp.Trailer.Get("X-Sluice-Cost-USD"))
	}
	resp, got = f.call("POST", "/v1/messages", key, body)
	if resp.StatusCode != 200 || got != anthropicBody || resp.Header.Get("X-Sluice-Cost-USD") != f.lastRecord().Cost.Decimal() {
		t.Fatalf("a short answer with room for the body only: status %d, header %q: %s", resp.StatusCode, resp.Header.Get("X-Sluice-Cost-USD"), got)
	}

	// With room, the answer is held and its cost is a header; every byte
	// taken was given back.
	bufs.release(2<<20 - int64(len(long)) - 1)
	resp, _ = f.call("POST", "/v1/messages", key, body)
	if resp.StatusCode != 200 || resp.Header.Get("X-Sluice-Cost-USD") == "" {
		t.Fatalf("with room: status %d, cost header %q", resp.StatusCode, resp.Header.Get("X-Sluice-Cost-USD"))
	}
	if !bufs.tryAcquire(2 << 20) {
		t.Fatal("buffer budget not all given back")
	}
}

// TestLargeAnswerCut: an answer that the upstream cuts before its usage
// is charged the request's worst case, not nothing, and the client sees it
// cut short, not complete: whether it was too large to hold or small
// enough to be held, and whether its length was announced or not.
func TestLargeAnswerCut(t *testing.T) {
	cases := []struct {
		name      string
		size      int64
		announced bool
	}{
		{"too large to hold", 3 << 20, false},
		{"small, length announced", 1 << 10, true},
		{"small, chunked", 1 << 10, false},
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		var c struct {
			size      int64
			announced bool
		}
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Content-Type", "application/json")
			if c.announced {
				w.Header().Set("Content-Length", strconv.FormatInt(2*c.size, 10))
			}
			_, _ = io.Copy(w, bigAnswer(`{"choices":[{"message":{"content":"`, c.size, ""))
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler) // the connection drops mid-answer
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-CUT", models: []string{"gpt-test"}})
		chat := `{"model":"gpt-test","max_tokens":1000,"messages":[]}`
		for _, tc := range cases {
			c.size, c.announced = tc.size, tc.announced
			req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(chat))
			req.Header.Set("Authorization", "Bearer "+key)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Errorf("%s: the client read a cut answer as complete", tc.name)
			}
			rec := f.lastRecord()
			if rec.InputTokens != int64(len(chat))+64 || rec.OutputTokens != 1000 || rec.Cost == 0 || !rec.Partial ||
				!strings.Contains(rec.Error, "the upstream failed during the answer") || !strings.Contains(rec.Error, "worst case") {
				t.Errorf("%s: record %d in, %d out, cost %d, partial %v, error %q; want the worst case charged and why",
					tc.name, rec.InputTokens, rec.OutputTokens, rec.Cost, rec.Partial, rec.Error)
			}
		}
	})
}

// TestAnnouncedBodiesWaitTheirTurn: bodies that announce their length are
// counted whole before they are read, so uploads that together exceed the
// buffer budget wait their turn instead of each holding part of it and all
// timing out. Each body arrives slowly; the wait is long enough for every
// other upload to finish first, so every one is answered.
func TestAnnouncedBodiesWaitTheirTurn(t *testing.T) {
	cases := []struct {
		name              string
		uploads, size     int
		budget, bodyLimit int64
	}{
		{"eight 400 KiB bodies, room for two", 8, 400 << 10, 1 << 20, 512 << 10},
		{"four 100 KiB bodies, room for one", 4, 100 << 10, 150 << 10, 128 << 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := testenv.New(t, dialect.SQLite)
			f := newFixture(t, db, func(o *Options) {
				o.MaxBodyBytes, o.MaxBufferedBytes, o.BufferWait = c.bodyLimit, c.budget, 30*time.Second
			})
			f.price("anthropic", "claude-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, anthropicBody) })
			_, key := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-TURN", models: []string{"claude-test"}})
			body := `{"model":"claude-test","max_tokens":64,"messages":[{"role":"user","content":"` + strings.Repeat("a", c.size) + `"}]}`
			statuses := make([]int, c.uploads)
			var wg sync.WaitGroup
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					pr, pw := io.Pipe()
					go func() { // the body in 32 KiB pieces, a little apart
						for off := 0; off < len(body); off += 32 << 10 {
							if _, err := pw.Write([]byte(body[off:min(off+32<<10, len(body))])); err != nil {
								return
							}
							time.Sleep(5 * time.Millisecond)
						}
						pw.Close()
					}()
					req, _ := http.NewRequest("POST", f.srv.URL+"/v1/messages", pr)
					req.ContentLength = int64(len(body))
					req.Header.Set("X-Api-Key", key)
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					statuses[i] = resp.StatusCode
				}()
			}
			wg.Wait()
			for i, s := range statuses {
				if s != 200 {
					t.Errorf("upload %d: status %d; all: %v", i, s, statuses)
				}
			}
			if !f.proxy.bufs.tryAcquire(c.budget) {
				t.Error("buffer budget not all given back")
			}
		})
	}
}

// TestHeldAnswerCutAtShutdown: an answer small enough to hold that the
// gateway's shutdown cuts while it is being read was answered by the
// upstream, so it is charged the request's worst case, as a cut answer,
// not recorded as an upstream failure with no charge.
func TestHeldAnswerCutAtShutdown(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		var mu sync.Mutex
		var shutdown context.CancelCauseFunc
		// Called once the upstream's answer has begun (its headers carry
		// rate limits): the gateway's drain times out then.
		f := newFixture(t, db, func(o *Options) {
			o.OnRateLimits = func(int, ratelimits.Snapshot, time.Time) {
				mu.Lock()
				defer mu.Unlock()
				shutdown(ErrShutdown)
			}
		})
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "4096")
			w.Header().Set("X-Ratelimit-Remaining-Requests", "99")
			w.Header().Set("X-Ratelimit-Limit-Requests", "100")
			_, _ = io.Copy(w, bigAnswer(`{"choices":[{"message":{"content":"`, 1<<10, ""))
			_ = http.NewResponseController(w).Flush()
			<-r.Context().Done()
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-SHUT", models: []string{"gpt-test"}})
		// The gateway's server cancels open requests with ErrShutdown.
		gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithCancelCause(r.Context())
			defer cancel(nil)
			mu.Lock()
			shutdown = cancel
			mu.Unlock()
			f.srv.Config.Handler.ServeHTTP(w, r.WithContext(ctx))
		}))
		defer gw.Close()
		chat := `{"model":"gpt-test","max_tokens":1000,"messages":[]}`
		req, _ := http.NewRequest("POST", gw.URL+"/v1/chat/completions", strings.NewReader(chat))
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Error("the client read a cut answer as complete")
			}
		}
		rec := f.lastRecord()
		if rec.InputTokens != int64(len(chat))+64 || rec.OutputTokens != 1000 || rec.Cost == 0 || !rec.Partial ||
			!strings.Contains(rec.Error, "the gateway shut down during the answer") || !strings.Contains(rec.Error, "worst case") {
			t.Errorf("record %d in, %d out, cost %d, partial %v, error %q; want the worst case charged and why",
				rec.InputTokens, rec.OutputTokens, rec.Cost, rec.Partial, rec.Error)
		}
	})
}
