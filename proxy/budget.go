package proxy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/usage"
)

// Budget decides whether a request may spend before it is forwarded. The
// proxy reserves the request's worst-case cost, forwards, then settles the
// reservation to the real cost; a nil Budget in Options admits everything.
type Budget interface {
	// Reserve holds r.Amount or refuses with a *Refusal. Any other error
	// means the check itself failed (the database is down); the proxy then
	// refuses with 503 unless Options.BudgetFailOpen is set.
	Reserve(ctx context.Context, r BudgetRequest) (Reservation, error)
}

// Reservation is a request's hold on its budget until it settles.
type Reservation interface {
	// Settle replaces the hold with the actual cost. It is called once,
	// with a context that outlives the client's request.
	Settle(ctx context.Context, actual money.Micros) error
	// Warnings are sent to the client as X-Sluice-Budget-Warning headers.
	Warnings() []string
}

// journaled is a Reservation whose settled spend is written with the
// request's usage record, in one transaction (budget.Settlement).
type journaled interface {
	SettleJournaled(ctx context.Context, actual money.Micros) (*budget.Settlement, error)
}

// settle settles res to actual, returning the spend the usage record
// carries when res journals it.
func settle(ctx context.Context, res Reservation, actual money.Micros) (*budget.Settlement, error) {
	if j, ok := res.(journaled); ok {
		return j.SettleJournaled(ctx, actual)
	}
	return nil, res.Settle(ctx, actual)
}

// BudgetRequest is what a request is about to spend and on whose account.
// Key and Service are the cached rows: read them, never modify them.
type BudgetRequest struct {
	Org     *ent.Organization
	Key     *ent.APIKey
	Service *ent.Service
	Model   string
	// Amount is the worst-case cost: estimated input tokens plus the
	// request's output cap (or the model's maximum) times the answers it
	// asks for, at the model's price; zero for an unpriced model.
	Amount money.Micros
	// Unbounded, when set, says why the request's worst case is unknown
	// and what to send to bound it; Amount is then only a guess, and the
	// request must be refused if any block limit (or an enforced balance)
	// applies to it.
	Unbounded string
	// EnforceBalance is set when the organization's prepaid balance is
	// enforced.
	EnforceBalance bool
}

// Refusal is a budget saying no: answered with Status (429, or 402 for a
// used-up prepaid balance; 503 for a window too busy to hold the request's
// share), Message, and Retry-After when the window resets or the request
// may be tried again.
type Refusal struct {
	Status     int
	Code       string // the error code the client sees; "budget_exceeded" when empty
	Message    string
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return r.Message }

// Budgets adapts package budget's spend windows to the proxy: the key (with
// its limits inherited from the service), the service and the organization
// are the subjects of every request.
func Budgets(b budget.Ledger) Budget { return budgets{b} }

type budgets struct{ b budget.Ledger }

func (a budgets) Reserve(ctx context.Context, r BudgetRequest) (Reservation, error) {
	key, svc, org := budget.KeySubject(r.Key, r.Service), budget.ServiceSubject(r.Service), budget.OrgSubject(r.Org)
	if r.Unbounded != "" && (r.EnforceBalance || blocks(key) || blocks(svc) || blocks(org)) {
		return nil, unboundedRefusal(r.Unbounded)
	}
	res, err := a.b.Reserve(ctx, budget.Request{
		OrgID: r.Org.ID,
		Subjects: []budget.Subject{
			key, svc,
			org,
		},
		Amount:         r.Amount,
		EnforceBalance: r.EnforceBalance,
	})
	if ref := refusalOf(err); ref != nil {
		return nil, ref
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// refusalOf turns package budget's answers that are not failures into the
// proxy's refusals, or returns nil.
func refusalOf(err error) *Refusal {
	var refusal *budget.Refusal
	if errors.As(err, &refusal) {
		return &Refusal{Status: refusal.Status, Message: refusal.Message, RetryAfter: refusal.RetryAfter}
	}
	var busy *budget.ContendedError
	if errors.As(err, &busy) {
		return &Refusal{Status: http.StatusServiceUnavailable, Code: "budget_busy", RetryAfter: time.Second,
			Message: fmt.Sprintf("the %s budget is being spent by many requests at once, and this request could not "+
				"get its share of it in time; it was not sent upstream, so sending it again is safe", busy.Window)}
	}
	return nil
}

// blocks reports whether s has a block limit in any window.
func blocks(s budget.Subject) bool {
	for _, w := range budget.Windows {
		if _, block := s.Limits.For(w); block != nil {
			return true
		}
	}
	return false
}

// unboundedRefusal refuses a request whose worst case is unknown where a
// limit must hold: admitting it would let it spend past the block.
func unboundedRefusal(why string) *Refusal {
	return &Refusal{Status: http.StatusBadRequest, Code: "unbounded_request",
		Message: why + "; a spending limit applies to this key, so the gateway must know the most a request can cost before sending it"}
}

// defaultMaxOutput is the output assumed per answer when neither the
// request nor the model's price says how long an answer can be. It is a
// guess, not a bound: such a request is refused where a block applies.
const defaultMaxOutput = 8192

// maxPlausibleOutput bounds the output charged per answer for a request
// whose output cap is unknown: no model writes a million tokens in one
// answer, so a claim beyond it is an upstream's error.
const maxPlausibleOutput = 1 << 20

// maxPlausibleInput bounds the input charged per prompt. Input has no
// bound the gateway can read from a request: providers bill input the body
// does not hold (images by URL, an earlier response, uploaded files, cached
// content, server-side tools' results). No model reads ten million tokens
// of context in one prompt, so a claim beyond it is an upstream's error.
const maxPlausibleInput = 10_000_000

// worstCase is what a request is expected to consume at most: in tokens of
// input (estimated from its body's size) and out tokens of output (its cap,
// or the model's, times the answers it asks for), and what they cost.
// Output is truly bounded by out; input is not, since a provider may bill
// input the body only refers to, so only inCap bounds what is charged.
type worstCase struct {
	in, out int64
	// inCap is the most input charged: maxPlausibleInput per prompt.
	inCap int64
	// cost is reserved before the request is sent.
	cost money.Micros
	// outCap is the most output charged: out, or for an unbounded request
	// maxPlausibleOutput per answer.
	outCap int64
	// unbounded says why the output has no known bound and what to set.
	unbounded string
}

// dearestWorstCase is the worst case at the dearest upstream that may
// serve the request: the service's own credential, or the costliest of its
// targets (they may be of different providers, or map the model to
// another). Each bound is the largest of any of them.
func (x *exchange) dearestWorstCase() worstCase {
	if len(x.e.targets) == 0 {
		return x.worstCase(x.serviceInfo)
	}
	b := x.bounds() // the body is read once, however many targets
	var w worstCase
	for _, t := range x.e.targets {
		if x.excluded&(1<<t.index) != 0 {
			continue
		}
		tw := x.priceBounds(b, t.info(x.model, x.serviceInfo))
		w = worstCase{
			in: max(w.in, tw.in), out: max(w.out, tw.out), inCap: max(w.inCap, tw.inCap), outCap: max(w.outCap, tw.outCap),
			cost: max(w.cost, tw.cost), unbounded: cmp.Or(w.unbounded, tw.unbounded),
		}
	}
	return w
}

// bodyBounds is what the request body says of its size: the input it
// holds, the answers it asks for and their cap, and its prompts.
type bodyBounds struct {
	in, choices, prompts int64
	// badChoices names a count of answers that is not a whole number.
	badChoices string
	// perAnswer is the body's output cap; capped is false when it sets
	// none.
	perAnswer int64
	capped    bool
}

func (x *exchange) bounds() bodyBounds {
	proto := string(x.protocol)
	b := bodyBounds{in: usage.EstimateInputTokens(x.body), prompts: usage.Prompts(proto, x.body)}
	b.choices, b.badChoices = usage.Choices(proto, x.body)
	b.perAnswer, b.capped = usage.MaxOutputTokens(proto, x.body)
	return b
}

// worstCase prices the request's worst case at a model's price; all zero
// for an unpriced model.
func (x *exchange) worstCase(info modelInfo) worstCase {
	if !info.priced {
		return worstCase{}
	}
	return x.priceBounds(x.bounds(), info)
}

// priceBounds is the worst case of a body of bounds b at a model's price.
func (x *exchange) priceBounds(b bodyBounds, info modelInfo) worstCase {
	if !info.priced {
		return worstCase{}
	}
	price := info.price
	w := worstCase{in: b.in}
	if b.badChoices != "" {
		w.unbounded = fmt.Sprintf("the request field %q is not a whole number, so the number of answers it asks for is unknown; send %q as an integer", b.badChoices, b.badChoices)
	}
	per := b.perAnswer
	if !b.capped {
		per = int64(price.MaxOutputTokens)
	}
	if per == 0 {
		per = defaultMaxOutput
		if w.unbounded == "" {
			w.unbounded = fmt.Sprintf("the request sets no output cap and the gateway knows no maximum output for model %q; set %s",
				x.model, outputCapField(x.protocol, x.endpoint))
		}
	}
	if price.Kind == pricing.KindEmbedding {
		per, w.unbounded = 0, ""
	}
	w.inCap = satMul(b.prompts, maxPlausibleInput)
	w.out = satMul(b.choices, per)
	w.outCap = w.out
	if w.unbounded != "" {
		w.outCap = satMul(b.choices, max(per, maxPlausibleOutput))
	}
	w.cost = price.CostAtMost(w.in, w.out)
	return w
}

// outputCapField names the member that caps an answer's length in the
// caller's API.
func outputCapField(p providers.Protocol, endpoint string) string {
	switch {
	case p == providers.ProtocolGemini:
		return `"generationConfig.maxOutputTokens"`
	case endpoint == "/v1/responses":
		return `"max_output_tokens"`
	case p == providers.ProtocolOpenAI:
		return `"max_completion_tokens" (or "max_tokens")`
	}
	return `"max_tokens"`
}

// satMul multiplies two non-negative counts, saturating.
func satMul(a, b int64) int64 {
	if a != 0 && b > math.MaxInt64/a {
		return math.MaxInt64
	}
	return a * b
}

// charge prices the usage an upstream reported within the request's
// bounds: no answer consumes more output than its cap times its answers,
// and no prompt more than maxPlausibleInput tokens of input, so a larger
// count is an upstream's error, and charging it would pass the block the
// reservation was checked against. Input below that ceiling is charged as
// reported even past the body's size, since providers bill input the body
// only refers to (a settle above the reservation is logged by the budget).
// Counts past a bound that also cost more than was reserved are cut to the
// bounds, and note says what was claimed.
func (x *exchange) charge(u usage.Usage) (usage.Usage, money.Micros, string) {
	price := x.info.price
	w := x.worst
	claimed := price.Cost(u.Tokens)
	if u.InputTokens <= w.inCap && u.OutputTokens <= w.outCap || claimed <= w.cost {
		// Within its bounds, or within what was reserved.
		return u, claimed, ""
	}
	c := u
	c.InputTokens = min(u.InputTokens, w.inCap)
	c.CachedInputTokens = min(u.CachedInputTokens, c.InputTokens)
	c.CacheWriteTokens = min(u.CacheWriteTokens, c.InputTokens-c.CachedInputTokens)
	c.CacheWrite1hTokens = min(u.CacheWrite1hTokens, c.CacheWriteTokens)
	c.OutputTokens = min(u.OutputTokens, w.outCap)
	cost := price.Cost(c.Tokens)
	x.p.log.Warn("upstream reported more tokens than the request can use; charged its bounds", "request_id", x.reqID,
		"service", x.e.svc.ServiceName, "model", x.model, "input_tokens", u.InputTokens, "output_tokens", u.OutputTokens,
		"max_input_tokens", w.inCap, "max_output_tokens", w.outCap, "claimed", claimed.Decimal(), "charged", cost.Decimal())
	note := fmt.Sprintf("the upstream reported %d input and %d output tokens (%s), more than this request can use "+
		"(%d input, %d output); charged those bounds (%s)", u.InputTokens, u.OutputTokens, claimed.Decimal(), w.inCap, w.outCap, cost.Decimal())
	return c, cost, note
}
