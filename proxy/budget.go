package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/money"
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
	OrgID   int
	OrgName string
	Key     *ent.APIKey
	Service *ent.Service
	Model   string
	// Amount is the worst-case cost: estimated input tokens plus the
	// request's output cap (or the model's maximum) at the model's price;
	// zero for an unpriced model.
	Amount money.Micros
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
func Budgets(b *budget.Budgets) Budget { return budgets{b} }

type budgets struct{ b *budget.Budgets }

func (a budgets) Reserve(ctx context.Context, r BudgetRequest) (Reservation, error) {
	res, err := a.b.Reserve(ctx, budget.Request{
		OrgID: r.OrgID,
		Subjects: []budget.Subject{
			budget.KeySubject(r.Key, r.Service),
			budget.ServiceSubject(r.Service),
			budget.OrgSubject(r.OrgID, r.OrgName),
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
