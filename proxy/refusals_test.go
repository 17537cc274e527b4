package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/providers"
)

// fakeBudget refuses when refuse is set and remembers what was reserved
// and settled.
type fakeBudget struct {
	mu       sync.Mutex
	refuse   *Refusal
	fail     error
	reserved []BudgetRequest
	settled  []money.Micros
}

func (b *fakeBudget) Reserve(_ context.Context, r BudgetRequest) (Reservation, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.refuse != nil {
		return nil, b.refuse
	}
	if b.fail != nil {
		return nil, b.fail
	}
	b.reserved = append(b.reserved, r)
	return fakeReservation{b}, nil
}

type fakeReservation struct{ b *fakeBudget }

func (r fakeReservation) Settle(_ context.Context, actual money.Micros) error {
	r.b.mu.Lock()
	defer r.b.mu.Unlock()
	r.b.settled = append(r.b.settled, actual)
	return nil
}

func (r fakeReservation) Warnings() []string { return []string{`key "k" day $52.00/$50.00`} }

// errorShape decodes an error answer in a protocol's shape and returns its
// message, failing if the shape is wrong.
func errorShape(t *testing.T, p providers.Protocol, status int, body string) string {
	t.Helper()
	switch p {
	case providers.ProtocolAnthropic:
		var e anthropicError
		if json.Unmarshal([]byte(body), &e) != nil || e.Type != "error" || e.Error.Type == "" || e.Error.Message == "" {
			t.Fatalf("not an Anthropic error: %s", body)
		}
		return e.Error.Message
	case providers.ProtocolGemini:
		var e geminiError
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != status || e.Error.Status == "" || e.Error.Message == "" {
			t.Fatalf("not a Gemini error: %s", body)
		}
		return e.Error.Message
	case providers.ProtocolCohere:
		var e map[string]any
		if json.Unmarshal([]byte(body), &e) != nil || len(e) != 1 || e["message"] == "" {
			t.Fatalf("not a Cohere error: %s", body)
		}
		return e["message"].(string)
	default:
		var e openAIError
		if json.Unmarshal([]byte(body), &e) != nil || e.Error.Message == "" || e.Error.Type == "" {
			t.Fatalf("not an OpenAI error: %s", body)
		}
		return e.Error.Message
	}
}

func TestRefusals(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		budget := &fakeBudget{}
		f := newFixture(t, db, func(o *Options) { o.Budget = budget; o.MaxBodyBytes = 1024 })
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
		svc, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-REFUSE", models: []string{"gpt-test", "gpt-other"}})
		_, antKey := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-REFUSE", models: []string{"claude-test"}})
		_, gemKey := f.addService(serviceSpec{name: "ge", provider: "google", baseURL: up.srv.URL, secret: "AIzaREFUSE", models: []string{"gemini-test"}})
		_, coKey := f.addService(serviceSpec{name: "co", provider: "cohere", baseURL: up.srv.URL, secret: "co-REFUSE", models: []string{"command-test"}})
		disabled := f.addKey(svc, "off", func(c *ent.APIKeyCreate) { c.SetIsActive(false) })
		expired := f.addKey(svc, "old", func(c *ent.APIKeyCreate) { c.SetExpiresAt(time.Now().Add(-time.Minute)) })
		mgmt := f.addKey(nil, "ops", func(c *ent.APIKeyCreate) { c.SetIsManagementKey(true) })
		offSvc, offKey := f.addService(serviceSpec{name: "off-svc", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-OFF", models: []string{"gpt-test"}})
		db.Client.Service.UpdateOne(offSvc).SetActive(false).ExecX(t.Context())

		chat := `{"model":"gpt-test","messages":[]}`
		oa, an, ge, co := providers.ProtocolOpenAI, providers.ProtocolAnthropic, providers.ProtocolGemini, providers.ProtocolCohere
		cases := []struct {
			name    string
			method  string
			path    string
			key     string
			body    string
			proto   providers.Protocol
			status  int
			mention string // a phrase the message must contain
		}{
			{"no key", "POST", "/v1/chat/completions", "", chat, oa, 401, "no API key"},
			{"garbage key", "POST", "/v1/chat/completions", "sk-proj-notours", chat, oa, 401, "sk_"},
			{"unknown key", "POST", "/v1/messages", "sk_" + strings.Repeat("A", 43), `{"model":"claude-test"}`, an, 401, "no such key"},
			{"disabled key", "POST", "/v1/chat/completions", disabled, chat, oa, 403, `"off" is disabled`},
			{"expired key", "POST", "/v1/chat/completions", expired, chat, oa, 401, "expired"},
			{"management key", "POST", "/v1/chat/completions", mgmt, chat, oa, 403, "management key"},
			{"disabled service", "POST", "/v1/chat/completions", offKey, chat, oa, 403, `service "off-svc" is disabled`},
			{"model not enabled", "POST", "/v1/chat/completions", key, `{"model":"gpt-9"}`, oa, 403, "enabled: gpt-other, gpt-test"},
			{"missing model", "POST", "/v1/chat/completions", key, `{"messages":[]}`, oa, 400, "names no model"},
			{"model with path", "POST", "/v1/chat/completions", key, `{"model":"gpt-test/../../admin"}`, oa, 400, "path"},
			{"model with control character", "POST", "/v1/chat/completions", key, `{"model":"gpt-test\r\nX-Evil: 1"}`, oa, 400, "character"},
			{"model not UTF-8", "POST", "/v1/chat/completions", key, "{\"model\":\"gpt-test\xff\"}", oa, 400, "not valid UTF-8"},
			{"model in another case", "POST", "/v1/chat/completions", key, `{"model":"gpt-test","Model":"gpt-other"}`, oa, 400, `"Model" is "model" in another case`},
			{"non-JSON body", "POST", "/v1/chat/completions", key, `model=gpt-test`, oa, 400, "JSON object"},
			{"broken JSON", "POST", "/v1/chat/completions", key, `{"model":"gpt-test",`, oa, 400, "not valid JSON"},
			{"wrong type", "POST", "/v1/chat/completions", key, `{"model":42}`, oa, 400, `"model"`},
			{"body too large", "POST", "/v1/chat/completions", key, `{"model":"gpt-test","x":"` + strings.Repeat("a", 2000) + `"}`, oa, 413, "1024 bytes"},
			{"untranslated route for the key", "POST", "/v1/completions", antKey, `{"model":"claude-test","prompt":"x"}`, oa, 404, "POST /v1/messages"},
			{"embeddings for a provider without them", "POST", "/v1/embeddings", antKey, `{"model":"claude-test","input":"x"}`, oa, 404, "has no counterpart"},
			{"parameter that cannot be translated", "POST", "/v1/chat/completions", antKey, `{"model":"claude-test","logprobs":true,"messages":[{"role":"user","content":"x"}]}`, oa, 400, `"logprobs"`},
			{"answer that cannot be translated", "POST", "/v1/chat/completions", antKey, `{"model":"claude-test","n":2,"messages":[{"role":"user","content":"x"}]}`, oa, 400, "n cannot be translated to the anthropic API"},
			{"unknown route", "POST", "/v1/images/generations", key, chat, oa, 404, "no route"},
			{"unknown gemini action", "POST", "/v1beta/models/gemini-test:predict", gemKey, `{}`, ge, 404, "generateContent"},
			{"gemini model not enabled", "POST", "/v1beta/models/gemini-pro:generateContent", gemKey, `{}`, ge, 403, "gemini-test"},
			{"gemini model not UTF-8", "POST", "/v1beta/models/gemini-test%FF:generateContent", gemKey, `{}`, ge, 400, "not valid UTF-8"},
			{"cohere model not enabled", "POST", "/v2/chat", coKey, `{"model":"x"}`, co, 403, "command-test"},
			{"cohere no key", "POST", "/v2/embed", "", `{}`, co, 401, "no API key"},
			{"GET on a POST route", "GET", "/v1/chat/completions", key, "", oa, 405, "takes POST"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := f.call(tc.method, tc.path, tc.key, tc.body)
				if resp.StatusCode != tc.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
				}
				msg := errorShape(t, tc.proto, tc.status, body)
				if !strings.Contains(msg, tc.mention) {
					t.Errorf("message %q does not mention %q", msg, tc.mention)
				}
				if resp.Header.Get("X-Request-Id") == "" {
					t.Error("no X-Request-Id on a refusal")
				}
				// The same request gets the same refusal: SDKs must not retry it.
				if got := resp.Header.Get("X-Should-Retry"); got != "false" {
					t.Errorf("x-should-retry %q, want false", got)
				}
				f.checkNoSecrets("a refusal", body)
			})
		}
		if up.count() != 0 {
			t.Errorf("%d refused requests reached the upstream", up.count())
		}

		t.Run("budget refusal", func(t *testing.T) {
			budget.mu.Lock()
			budget.refuse = &Refusal{Status: 429, Message: `budget exceeded: key "oa-key" day limit $1.00`, RetryAfter: 90*time.Minute + time.Millisecond}
			budget.mu.Unlock()
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "5401" || resp.Header.Get("X-Should-Retry") != "" {
				t.Fatalf("status %d retry-after %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if msg := errorShape(t, oa, 429, body); !strings.Contains(msg, "day limit $1.00") {
				t.Errorf("message %q", msg)
			}
			if rec := f.lastRecord(); rec.Status != 429 || rec.Model != "gpt-test" || !strings.Contains(rec.Error, "day limit") {
				t.Errorf("budget refusal record %+v", rec)
			}
			if f.lastFailure() != FailureBudget {
				t.Errorf("budget refusal classified %q", f.lastFailure())
			}
			budget.mu.Lock()
			budget.refuse, budget.fail = nil, errors.New("database is down")
			budget.mu.Unlock()
			resp, body = f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 503 {
				t.Fatalf("budget failure: status %d: %s", resp.StatusCode, body)
			}
			// A window too busy to hold the request's share: 503 with its
			// own code, retry at once, classified apart from spent budgets.
			budget.mu.Lock()
			budget.refuse, budget.fail = busyRefusal(), nil
			budget.mu.Unlock()
			resp, body = f.call("POST", "/v1/chat/completions", key, chat)
			var busy struct {
				Error struct{ Code, Message string }
			}
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || json.Unmarshal([]byte(body), &busy) != nil || busy.Error.Code != "budget_busy" {
				t.Fatalf("contended budget: status %d retry-after %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if f.lastFailure() != FailureBudgetBusy {
				t.Errorf("contended budget classified %q", f.lastFailure())
			}
			budget.mu.Lock()
			budget.refuse = nil
			budget.mu.Unlock()
		})

		t.Run("budget reserve and settle", func(t *testing.T) {
			// The answer reports 1,000 input tokens: the body must be able to hold them.
			chat := `{"model":"gpt-test","max_tokens":500,"messages":[{"role":"user","content":"` + strings.Repeat("x", 900) + `"}]}`
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if w := resp.Header.Get("X-Sluice-Budget-Warning"); w == "" {
				t.Error("budget warning header missing")
			}
			budget.mu.Lock()
			defer budget.mu.Unlock()
			r := budget.reserved[len(budget.reserved)-1]
			// Its bytes bound the input (plus 64 template tokens), plus max_tokens 500, at $1/MTok each.
			if r.Amount != money.Micros(len(chat)+64+500) || r.Key == nil || r.Service == nil || r.Org.Name != "Acme" || r.Model != "gpt-test" {
				t.Errorf("reserved %+v", r)
			}
			// The answer reported 1000 in and 500 out at $1/MTok.
			if got := budget.settled[len(budget.settled)-1]; got != 1500 {
				t.Errorf("settled %d, want 1500", got)
			}
		})

		// Refusals after the key was known are recorded; those before are not.
		var refusals int
		for _, r := range f.records() {
			if r.Status >= 400 {
				refusals++
				if r.ProviderProtocol != "" {
					t.Errorf("refusal %s (%d) records provider protocol %q, want none: no upstream was called", r.RequestID, r.Status, r.ProviderProtocol)
				}
			}
		}
		if refusals == 0 {
			t.Error("no refusal was recorded")
		}
	})
}

// The error shapes the tests read answers with, written from the
// providers' API references.
type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    string  `json:"code"`
	} `json:"error"`
}

type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type geminiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}
