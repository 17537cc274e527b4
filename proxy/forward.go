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

	"github.com/sluicehq/sluice/ent/schema"
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
		OrgID: e.key.OrganizationID, OrgName: e.orgName, Key: e.key, Service: e.svc, Model: x.model,
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
	x.worst = x.dearestWorstCase()
	var res Reservation
	if x.api.op != protocol.OpCountTokens { // counting tokens is free
		var aerr *apiError
		if res, aerr = x.reserve(); aerr != nil {
			x.fail(aerr)
			return
		}
	}
	defer func() {
		// After the record: a JSON answer cut short cannot be ended with
		// an error the client understands, so its connection is dropped,
		// and the client sees the answer incomplete rather than complete.
		if x.cut {
			// What was relayed goes first, so the client sees where it broke.
			_ = http.NewResponseController(x.w).Flush()
			panic(http.ErrAbortHandler)
		}
	}()
	var o outcome
	defer func() {
		if res != nil {
			cost := o.cost
			if !o.priced {
				cost = 0
			}
			var err error
			if o.spend, err = settle(context.WithoutCancel(x.r.Context()), res, cost); err != nil {
				x.p.log.Error("settling a budget reservation failed", "request_id", x.reqID, "err", err)
			}
		}
		x.record(o)
	}()
	if res != nil {
		for _, w := range res.Warnings() {
			x.w.Header().Add("X-Sluice-Budget-Warning", w)
		}
	}

	x.up = &x.e.upstreamConf
	var t *target
	if len(x.e.targets) > 0 {
		if t = x.e.pickTarget(x.excluded, x.p.opts.Now()); t == nil {
			o = x.noTarget()
			return
		}
	}
	tried := x.excluded
	for n := 1; ; n++ {
		if t = x.attempt(t, n, &tried, path, extraQuery, stripUsage, &o); t == nil {
			return
		}
	}
}

// attempt tries the request once, at t (nil: the service's single
// credential). When t failed before anything reached the client and
// another target may be tried, it returns that target; otherwise it has
// answered the client (relayed the answer or the failure) into o and
// returns nil.
func (x *exchange) attempt(t *target, n int, tried *uint64, path, extraQuery string, stripUsage bool, o *outcome) *target {
	model, proto := x.model, x.e.provider.Protocol
	if t != nil {
		*tried |= 1 << t.index
		x.up = &t.upstreamConf
		model, proto = t.upstreamModel(x.model), t.provider.Protocol
		x.info = t.info(x.model, x.serviceInfo)
	}
	if x.api.op == protocol.OpCountTokens && proto != x.protocol {
		if _, ok := providerAdapter(proto, protocol.OpCountTokens); !ok {
			*o = x.countTokensLocally()
			return nil
		}
	}
	call, aerr := x.upstreamCall(proto, model, path, extraQuery)
	if aerr != nil {
		aerr = redacted(x.r, aerr)
		writeError(x.w, x.protocol, aerr)
		*o = outcome{status: aerr.status, err: aerr.message, priced: true}
		return nil
	}
	ctx, cancel := context.WithCancelCause(x.r.Context())
	defer cancel(nil)
	began := time.Now()
	req, err := upstreamRequest(ctx, x.r, proto, x.up, call)
	var resp *http.Response
	if err == nil {
		resp, err = x.p.rt.RoundTrip(req)
	}
	if err != nil {
		if t != nil {
			if next := x.failover(t, n, *tried, 0, began, err, nil); next != nil {
				return next
			}
		}
		*o = x.upstreamFailed(ctx, err)
		return nil
	}
	o.ttfb = time.Since(x.start)
	o.status = resp.StatusCode
	snap := x.p.noteRateLimits(x.up.credID, resp.Header, resp.StatusCode, x.p.opts.Now())
	if t != nil {
		if failoverStatus(resp.StatusCode) {
			if next := x.failover(t, n, *tried, resp.StatusCode, began, nil, &snap); next != nil {
				discard(resp.Body)
				return next
			}
		} else {
			t.health.succeeded()
			x.attempts = append(x.attempts, schema.Attempt{TargetID: t.id, CredentialID: derefID(t.credID),
				Status: resp.StatusCode, LatencyMs: time.Since(began).Milliseconds()})
		}
	}
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
		x.relayTranslated(ctx, resp, answer, o)
	case isEventStream(resp.Header):
		x.relayStream(ctx, resp.StatusCode, answer, stripUsage, o)
	default:
		x.relayBody(ctx, resp.StatusCode, answer, resp.ContentLength, o)
	}
	if x.api.op == protocol.OpCountTokens && o.status < 300 {
		// Counting tokens is free: nothing was generated or charged.
		o.usage, o.cost, o.partial, o.err = usage.Usage{}, 0, false, ""
	}
	if t != nil && o.broke {
		// Too late for another target, but the next requests avoid it.
		t.health.failed(x.p.opts.Now(), o.err)
		x.attempts[len(x.attempts)-1].Error = o.err
	}
	return nil
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
