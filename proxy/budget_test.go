package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// busyRefusal is what the proxy answers when a leased budget window is too
// contended to hold a request's share.
func busyRefusal() *Refusal {
	return refusalOf(fmt.Errorf("wrapped: %w", &budget.ContendedError{Window: `key "oa-key" day`, Tries: 8}))
}

func TestRefusalOf(t *testing.T) {
	if r := refusalOf(&budget.Refusal{Status: 429, Message: "over the day's block", RetryAfter: time.Hour}); r == nil ||
		r.Status != 429 || r.Code != "" || r.Message != "over the day's block" || r.RetryAfter != time.Hour {
		t.Errorf("a budget refusal became %+v", r)
	}
	r := busyRefusal()
	if r == nil || r.Status != http.StatusServiceUnavailable || r.Code != "budget_busy" || r.RetryAfter != time.Second {
		t.Fatalf("a contended window became %+v", r)
	}
	if !strings.Contains(r.Message, `key "oa-key" day budget`) || !strings.Contains(r.Message, "sending it again is safe") {
		t.Errorf("message %q does not name the window or say that a retry is safe", r.Message)
	}
	for _, err := range []error{nil, errors.New("reserve budget: connection refused")} {
		if r := refusalOf(err); r != nil {
			t.Errorf("%v became a refusal: %+v", err, r)
		}
	}
}

// TestBudgetFailOpen: with fail-open set, a budget that cannot be checked
// admits the request, but a budget that says no (spent, or too contended
// to hold the request's share) still refuses: fail-open is for an
// unreachable database, never a way past a block.
func TestBudgetFailOpen(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		fake := &fakeBudget{}
		f := newFixture(t, db, func(o *Options) { o.Budget = fake; o.BudgetFailOpen = true })
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) { answerJSON(w, 200, openAIChatBody) })
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-OPEN", models: []string{"gpt-test"}})
		chat := `{"model":"gpt-test","messages":[]}`
		for _, c := range []struct {
			name    string
			refuse  *Refusal
			fail    error
			status  int
			reaches bool
		}{
			{"database down", nil, errors.New("reserve budget: connection refused"), 200, true},
			{"window too contended", busyRefusal(), nil, 503, false},
			{"budget spent", &Refusal{Status: 429, Message: "over the day's block"}, nil, 429, false},
		} {
			fake.mu.Lock()
			fake.refuse, fake.fail = c.refuse, c.fail
			fake.mu.Unlock()
			before := up.count()
			resp, body := f.call("POST", "/v1/chat/completions", key, chat)
			if resp.StatusCode != c.status || (up.count() > before) != c.reaches {
				t.Errorf("%s: status %d, reached the upstream %v; want %d, %v: %s", c.name, resp.StatusCode, up.count() > before, c.status, c.reaches, body)
			}
		}
	})
}

// TestEstimateCoversCacheWrites: a budget reservation holds what the answer
// may cost, and an Anthropic answer may write its whole input to the
// one-hour cache at twice the input price.
func TestEstimateCoversCacheWrites(t *testing.T) {
	body := []byte(`{"model":"claude-test","max_tokens":100,"messages":[{"role":"user","content":"Hi"}]}`)
	price := pricing.Price{Kind: pricing.KindText, InputPerMTok: 3_000_000, OutputPerMTok: 15_000_000,
		CachedInputPerMTok: 300_000, CacheWritePerMTok: 3_750_000, CacheWrite1hPerMTok: 6_000_000}
	x := &exchange{protocol: providers.ProtocolAnthropic, body: body, info: modelInfo{price: price, priced: true}}
	in := usage.EstimateInputTokens(body)
	if got, want := x.worstCase(x.info).cost, money.Micros(in*6+100*15); got != want {
		t.Fatalf("estimate %d, want %d: %d input tokens at the one-hour write price and 100 output", got, want, in)
	}
	worst := price.Cost(tokens.Tokens{InputTokens: in, CacheWriteTokens: in, CacheWrite1hTokens: in, OutputTokens: 100})
	if worst > x.worstCase(x.info).cost {
		t.Errorf("an answer writing its input to the one-hour cache costs %d, more than the %d reserved", worst, x.worstCase(x.info).cost)
	}
}
