package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/pace"
	"github.com/sluicehq/sluice/providers"
)

// Pace limits: requests and tokens per rolling minute and requests in
// flight, per key (its own limits over its service's), service and
// organization. A request holds its place from before it goes upstream
// until its answer ends; its tokens are held as an estimate and settled
// to the provider's count.

// paceOutputGuess caps the output a request's token estimate holds: the
// estimate is the input the body holds plus its output cap, at most this
// much, and the answer's real count replaces it. Holding a request's whole
// output cap would refuse early when callers set large caps they rarely
// use.
const paceOutputGuess = 4096

// paceSubjects are the key, service and organization of e with the limits
// that apply to each, and whether any of them has one.
func paceSubjects(e *keyEntry) ([3]pace.Subject, bool) {
	s := [3]pace.Subject{pace.KeySubject(e.key, e.svc), pace.ServiceSubject(e.svc), pace.OrgSubject(e.org)}
	return s, s[0].Limits != (pace.Limits{}) || s[1].Limits != (pace.Limits{}) || s[2].Limits != (pace.Limits{})
}

// acquirePace admits the request under its pace limits and writes the
// rate-limit headers of the caller's API; nil permit and no error when no
// limiter is configured.
func (x *exchange) acquirePace() (*pace.Permit, *apiError) {
	l := x.p.opts.Pace
	if l == nil {
		return nil, nil
	}
	subjects, limited := paceSubjects(x.e)
	if !limited {
		return nil, nil // most requests: nothing to hold, no headers to write
	}
	permit, err := l.Acquire(x.r.Context(), pace.Request{Subjects: subjects[:], Tokens: x.paceEstimate()})
	var refused *pace.Refusal
	switch {
	case errors.As(err, &refused):
		if x.p.opts.OnPaceRefusal != nil {
			x.p.opts.OnPaceRefusal(refused.Kind.String(), refused.Scope.String())
		}
		writePaceHeaders(x.w.Header(), x.protocol, refused.Status, x.p.opts.Now())
		return nil, paceRefusal(refused, x.e)
	case err != nil && x.r.Context().Err() != nil:
		return nil, refuse(http.StatusServiceUnavailable, "client_closed", "the client closed the request before it was admitted")
	case err != nil:
		x.p.log.Error("pace limits could not be checked; refusing the request", "request_id", x.reqID, "err", err)
		return nil, refuse(http.StatusServiceUnavailable, "rate_limit_unavailable",
			"the gateway could not check the key's rate limits (its database did not answer); try again shortly")
	}
	writePaceHeaders(x.w.Header(), x.protocol, permit.Status(), x.p.opts.Now())
	return permit, nil
}

// paceRefusal is the 429 a pace refusal answers, naming the limit, whose
// it is and when a retry can pass.
func paceRefusal(r *pace.Refusal, e *keyEntry) *apiError {
	unit := paceUnit(r.Kind, r.Limit)
	whose := fmt.Sprintf("%s %q", r.Scope, r.Name)
	if r.Scope == pace.ScopeKey && pace.KeySubject(e.key, nil).Limits.Of(r.Kind) == 0 {
		whose = fmt.Sprintf("key %q (its service %q's limit)", e.key.Name, e.svc.ServiceName)
	}
	msg := fmt.Sprintf("rate limit exceeded: %s allows %d %s", whose, r.Limit, unit)
	if r.RetryAfter <= 0 {
		msg += "; this request's token estimate (its input plus its output cap) is above the limit, so it can never pass: send less, or ask an admin to raise the limit"
	} else {
		msg += fmt.Sprintf("; try again in %d s", int64((r.RetryAfter+time.Second-1)/time.Second))
	}
	return &apiError{status: http.StatusTooManyRequests, code: "rate_limit_exceeded", message: msg, retryAfter: r.RetryAfter}
}

// paceUnit names what a limit of kind k counts, singular for a limit of 1.
func paceUnit(k pace.Kind, limit int64) string {
	noun, per := "request", " per minute"
	switch k {
	case pace.TPM:
		noun = "token"
	case pace.Concurrency:
		per = " in flight"
	}
	if limit != 1 {
		noun += "s"
	}
	return noun + per
}

// paceEstimate is the tokens a request holds against tokens-per-minute
// limits until its answer says.
func (x *exchange) paceEstimate() int64 {
	return x.worst.in + min(x.worst.outCap, paceOutputGuess)
}

// settlePace settles the permit's tokens to the provider's count and
// frees its place; safe on a nil permit. A cut answer whose usage was not
// read is charged its worst case in money, but counts only its estimate
// in tokens: a whole output cap would shut the key out for a minute.
func (x *exchange) settlePace(p *pace.Permit, o outcome) {
	if p == nil {
		return
	}
	n := o.usage.InputTokens + o.usage.OutputTokens
	if o.partial {
		n = min(n, x.paceEstimate())
	}
	p.Settle(n)
	p.Release()
}

// paceHeaders name, per limit kind, the limit, remaining and reset
// headers of OpenAI's family and of Anthropic's.
var paceHeaders = [...]struct {
	kind      pace.Kind
	openai    [3]string
	anthropic [3]string
}{
	{pace.RPM,
		[3]string{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"},
		[3]string{"Anthropic-Ratelimit-Requests-Limit", "Anthropic-Ratelimit-Requests-Remaining", "Anthropic-Ratelimit-Requests-Reset"}},
	{pace.TPM,
		[3]string{"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
		[3]string{"Anthropic-Ratelimit-Tokens-Limit", "Anthropic-Ratelimit-Tokens-Remaining", "Anthropic-Ratelimit-Tokens-Reset"}},
}

// writePaceHeaders writes the caller's own rate limits in its API's
// headers, so that SDKs and agents pace themselves: Anthropic's
// anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset} (reset an
// RFC 3339 time) for Anthropic callers, OpenAI's
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} (reset a duration
// such as 1m0s) for every other. Each reports the tightest limit of its
// kind among the key, service and organization; none when none is set.
func writePaceHeaders(h http.Header, p providers.Protocol, statuses []pace.Status, now time.Time) {
	for _, k := range paceHeaders {
		s, ok := pace.Tightest(statuses, k.kind)
		if !ok {
			continue
		}
		names := k.openai
		reset := s.Reset.Round(time.Millisecond).String()
		if p == providers.ProtocolAnthropic {
			names, reset = k.anthropic, now.Add(s.Reset).UTC().Format(time.RFC3339)
		}
		// One backing array for the three values: headers are written on
		// every limited request.
		v := [...]string{strconv.FormatInt(s.Limit, 10), strconv.FormatInt(max(s.Remaining, 0), 10), reset}
		vals := v[:]
		for i, name := range names {
			h[name] = vals[i : i+1 : i+1]
		}
	}
}
