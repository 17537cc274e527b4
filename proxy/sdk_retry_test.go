package proxy

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// scriptedBudget answers each Reserve with the next refusal of its script
// (nil admits), then admits everything.
type scriptedBudget struct {
	fakeBudget
	mu     sync.Mutex
	script []*Refusal
}

func (b *scriptedBudget) Reserve(ctx context.Context, r BudgetRequest) (Reservation, error) {
	b.mu.Lock()
	var next *Refusal
	if len(b.script) > 0 {
		next, b.script = b.script[0], b.script[1:]
	}
	b.mu.Unlock()
	if next != nil {
		return nil, next
	}
	return b.fakeBudget.Reserve(ctx, r)
}

// TestSDKRetries drives the official OpenAI and Anthropic SDKs, with their
// default retries on, into Sluice's refusals: one that time cannot cure (a
// spent total budget) is tried once, x-should-retry: false stopping the
// SDK; one that time cures (a window resetting in a second) is retried
// after its Retry-After and then succeeds.
func TestSDKRetries(t *testing.T) {
	spent := &Refusal{Status: http.StatusTooManyRequests, Message: `key "k" has spent its total budget of $5.00`}
	resets := &Refusal{Status: http.StatusTooManyRequests, Message: `key "k" has spent its hour budget; it resets in 1 s`, RetryAfter: 300 * time.Millisecond}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		b := &scriptedBudget{}
		f := newFixture(t, db, func(o *Options) { o.Budget = b })
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		f.price("anthropic", "claude-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			if r.URL.Path == "/v1/messages" {
				answerJSON(w, 200, anthropicBody)
				return
			}
			answerJSON(w, 200, openAIChatBody)
		})
		_, oaKey := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL + "/v1", secret: "sk-provider-RETRY", models: []string{"gpt-test"}})
		_, anKey := f.addService(serviceSpec{name: "an", provider: "anthropic", baseURL: up.srv.URL, secret: "sk-ant-RETRY", models: []string{"claude-test"}})

		var attempts atomic.Int32
		count := func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
			attempts.Add(1)
			return next(req)
		}
		acount := func(req *http.Request, next aoption.MiddlewareNext) (*http.Response, error) {
			attempts.Add(1)
			return next(req)
		}
		oa := openai.NewClient(option.WithBaseURL(f.srv.URL+"/v1/"), option.WithAPIKey(oaKey), option.WithMaxRetries(2), option.WithMiddleware(count))
		an := anthropic.NewClient(aoption.WithBaseURL(f.srv.URL), aoption.WithAPIKey(anKey), aoption.WithMaxRetries(2), aoption.WithMiddleware(acount))
		callOpenAI := func() error {
			_, err := oa.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{
				Model: "gpt-test", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hi")}})
			return err
		}
		callAnthropic := func() error {
			_, err := an.Messages.New(t.Context(), anthropic.MessageNewParams{Model: "claude-test", MaxTokens: 16,
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("Hi"))}})
			return err
		}
		for _, c := range []struct {
			sdk          string
			call         func() error
			script       []*Refusal
			wantErr      bool
			wantAttempts int32
		}{
			{"openai", callOpenAI, []*Refusal{spent, spent, spent}, true, 1},
			{"anthropic", callAnthropic, []*Refusal{spent, spent, spent}, true, 1},
			{"openai", callOpenAI, []*Refusal{resets}, false, 2},
			{"anthropic", callAnthropic, []*Refusal{resets}, false, 2},
		} {
			b.mu.Lock()
			b.script = c.script
			b.mu.Unlock()
			attempts.Store(0)
			err := c.call()
			if (err != nil) != c.wantErr {
				t.Errorf("%s with %q first: error %v, want error %v", c.sdk, c.script[0].Message, err, c.wantErr)
			}
			if got := attempts.Load(); got != c.wantAttempts {
				t.Errorf("%s with %q first: %d attempts, want %d", c.sdk, c.script[0].Message, got, c.wantAttempts)
			}
		}
	})
}
