package proxy

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/pace"
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// errStreamIdle is the cause of cancelling an upstream that went quiet.
var errStreamIdle = errors.New("the upstream sent nothing within the stream idle timeout")

// reserve asks the budget; nil reservation and no error when there is no
// budget or it failed open.
func (x *exchange) reserve() (Reservation, *apiError) {
	b := x.p.budget
	if b == nil {
		return nil, nil
	}
	e := x.e
	res, err := b.Reserve(x.r.Context(), BudgetRequest{
		Org: e.org, Key: e.key, Service: e.svc, Model: x.model,
		Amount: x.worst.cost, Unbounded: x.worst.unbounded, EnforceBalance: e.enforceBalance,
	})
	var refusal *Refusal
	switch {
	case errors.As(err, &refusal):
		if refusal.Code == "budget_busy" {
			// Not the client's doing: a window this contended is worth an
			// operator's look (more replicas than its headroom serves well).
			x.p.log.Warn("budget window too contended; refusing the request", "request_id", x.reqID, "err", err)
		}
		return nil, &apiError{status: refusal.Status, code: cmp.Or(refusal.Code, "budget_exceeded"), message: refusal.Message, retryAfter: refusal.RetryAfter}
	case err != nil && x.p.opts.BudgetFailOpen:
		x.p.log.Warn("budget check failed; admitting the request (fail open)", "request_id", x.reqID, "err", err)
		return nil, nil
	case err != nil:
		x.p.log.Error("budget check failed; refusing the request", "request_id", x.reqID, "err", err)
		return nil, refuse(http.StatusServiceUnavailable, "budget_unavailable",
			"the gateway could not check the budget (its database did not answer); try again shortly")
	}
	return res, nil
}

// forward sends the request upstream and relays the answer. A request of
// a routed service may try several targets before the first byte of an
// answer reaches the client; the budget reservation is taken once, before
// the first, and settled to the cost of the answer the client got.
func (x *exchange) forward(path, extraQuery string, stripUsage bool) {
	x.path, x.extraQuery, x.stripUsage = path, extraQuery, stripUsage
	x.worst = x.dearestWorstCase()
	var res Reservation
	var permit *pace.Permit
	if x.api.op != protocol.OpCountTokens { // counting tokens is free
		// The budget first: a request it refuses takes no place in the
		// pace limits, which a client retrying a spent budget would
		// otherwise use up for the organization's other keys.
		var aerr *apiError
		var check trace.Span
		if x.p.budget != nil {
			check = x.childSpan(spanBudget)
		}
		res, aerr = x.reserve()
		endChild(check, aerr)
		if aerr != nil {
			x.fail(aerr)
			return
		}
		if permit, aerr = x.acquirePace(); aerr != nil {
			x.failReserved(aerr, res)
			return
		}
	}
	defer x.dropIfCut()
	var o outcome
	defer func() {
		o.spend = x.settleBudget(res, o)
		x.settlePace(permit, o)
		x.record(o)
	}()
	if res != nil {
		for _, w := range res.Warnings() {
			x.w.Header().Add("X-Sluice-Budget-Warning", w)
		}
	}
	o = x.tryTargets()
}

// dropIfCut drops the client's connection when a JSON answer was cut
// short: it cannot be ended with an error the client understands, and the
// client must see it incomplete rather than complete. It runs after the
// record.
func (x *exchange) dropIfCut() {
	if x.cut {
		// What was relayed goes first, so the client sees where it broke.
		_ = http.NewResponseController(x.w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// settleBudget settles the reservation res (nil: none) to what o is charged
// and returns the settled spend for the record.
func (x *exchange) settleBudget(res Reservation, o outcome) *budget.Settlement {
	if res == nil {
		return nil
	}
	cost := o.cost
	if !o.priced {
		cost = 0
	}
	spend, err := settle(context.WithoutCancel(x.r.Context()), res, cost)
	if err != nil {
		x.p.log.Error("settling a budget reservation failed", "request_id", x.reqID, "err", err)
	}
	return spend
}

// tryTargets sends the request to the service's targets in turn until
// one answers or none may be tried; a service without targets is tried
// once, at its credential.
func (x *exchange) tryTargets() outcome {
	x.up = &x.e.upstreamConf
	var t *target
	if len(x.e.targets) > 0 {
		if t = x.e.pickTarget(x.excluded, x.p.opts.Now(), x.model, &x.p.room); t == nil {
			return x.noTarget()
		}
	}
	x.tried = x.excluded
	for n := 1; ; n++ {
		next, o := x.attempt(t, n)
		if next == nil {
			return o
		}
		t = next
	}
}

// attempt tries the request once, at t (nil: the service's single
// credential), as the request's nth attempt. When t failed before
// anything reached the client and another target may be tried, it returns
// that target. Otherwise next is nil: the client has been answered (the
// answer relayed, or the failure) and o says how.
func (x *exchange) attempt(t *target, n int) (next *target, o outcome) {
	model, proto := x.aim(t)
	if x.api.op == protocol.OpCountTokens && proto != x.protocol {
		if _, ok := providerAdapter(proto, protocol.OpCountTokens); !ok {
			if t != nil {
				t.health.release() // nothing was sent: no verdict on the target
			}
			return nil, x.countTokensLocally()
		}
	}
	call, aerr := x.upstreamCall(proto, model, x.path, x.extraQuery)
	if aerr != nil {
		aerr = redacted(x.r, aerr)
		writeError(x.w, x.protocol, aerr)
		return nil, outcome{status: aerr.status, err: aerr.message, priced: true}
	}
	ctx, cancel := context.WithCancelCause(x.r.Context())
	defer cancel(nil)
	ctx, span := x.startAttempt(ctx, t, n, model)
	defer span.end()
	began := time.Now()
	resp, err := x.send(ctx, proto, call)
	if err != nil {
		span.failed(x.scrub(err))
		if t != nil {
			if next := x.failover(t, n, 0, began, err, nil); next != nil {
				return next, outcome{}
			}
		}
		return nil, x.upstreamFailed(ctx, err)
	}
	ttfb := time.Since(x.start)
	span.answered(resp.StatusCode)
	if next := x.answered(t, n, began, resp); next != nil {
		discard(resp.Body)
		return next, outcome{}
	}
	o = x.relay(ctx, cancel, resp, ttfb)
	if t != nil && o.broke {
		// Too late for another target, but the next requests avoid it.
		x.p.targetFailed(t, x.p.opts.Now(), o.err)
		x.attempts[len(x.attempts)-1].Error = o.err
	}
	return nil, o
}

// aim points the exchange at t (nil: the service's single credential)
// and returns the model and protocol to call it with.
func (x *exchange) aim(t *target) (model string, proto providers.Protocol) {
	if t == nil {
		x.room = x.p.room.of(x.up.credID, x.model)
		x.provider = x.e.provider.Name
		return x.model, x.e.provider.Protocol
	}
	x.provider = t.provider.Name
	x.tried |= 1 << t.index
	x.up = &t.upstreamConf
	x.info = t.info(x.model, x.serviceInfo)
	model = t.upstreamModel(x.model)
	x.room = x.p.room.of(t.credID, model)
	return model, t.provider.Protocol
}

// send makes the upstream request of the current attempt.
func (x *exchange) send(ctx context.Context, proto providers.Protocol, call upstreamCall) (*http.Response, error) {
	req, err := upstreamRequest(ctx, x.r, proto, x.up, call)
	if err != nil {
		return nil, err
	}
	x.injectTrace(ctx, req.Header)
	return x.p.rt.RoundTrip(req)
}

// answered notes the rate limits of an upstream's answer and, at a
// target t, its verdict: an answer whose status calls for another target
// fails over (the next target, nil when none may be tried), any other
// counts as t's success.
func (x *exchange) answered(t *target, n int, began time.Time, resp *http.Response) *target {
	snap := x.p.noteRateLimits(x.up.credID, x.room, resp.Header, resp.StatusCode, x.p.opts.Now())
	if t == nil {
		return nil
	}
	if failoverStatus(resp.StatusCode) {
		return x.failover(t, n, resp.StatusCode, began, nil, &snap)
	}
	x.p.targetSucceeded(t)
	x.attempts = append(x.attempts, schema.Attempt{TargetID: t.id, CredentialID: derefID(t.credID),
		Status: resp.StatusCode, LatencyMs: time.Since(began).Milliseconds()})
	return nil
}

// relay passes the upstream's answer to the client, which it reached
// ttfb after the request began, and meters it.
func (x *exchange) relay(ctx context.Context, cancel context.CancelCauseFunc, resp *http.Response, ttfb time.Duration) outcome {
	o := outcome{ttfb: ttfb, status: resp.StatusCode}
	rb := newIdleBody(resp.Body, x.p.opts.StreamIdleTimeout, cancel)
	defer rb.Close()
	copyResponseHeaders(x.w.Header(), resp.Header, x.up.secret)
	var answer io.Reader = rb
	if resp.StatusCode >= 300 {
		// Error bodies are where providers echo what they were sent.
		answer = newMaskReader(rb, x.up.secret)
	}
	switch {
	case x.tr != nil:
		x.relayTranslated(ctx, resp, answer, &o)
	case isEventStream(resp.Header):
		x.relayStream(ctx, resp.StatusCode, answer, x.stripUsage, &o)
	default:
		x.relayBody(ctx, resp.StatusCode, answer, resp.ContentLength, &o)
	}
	if x.api.op == protocol.OpCountTokens && o.status < 300 {
		// Counting tokens is free: nothing was generated or charged.
		o.usage, o.cost, o.partial, o.err = usage.Usage{}, 0, false, ""
	}
	return o
}

func derefID(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func isEventStream(h http.Header) bool {
	ct := h.Get("Content-Type")
	return len(ct) >= 17 && strings.EqualFold(ct[:17], "text/event-stream")
}

// scrub renders err without anything that could carry the provider key: a
// url.Error repeats the URL, whose query may hold it.
func (x *exchange) scrub(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if x.up != nil && x.up.secret != "" {
		s = strings.ReplaceAll(s, x.up.secret, "[redacted]")
	}
	return s
}
