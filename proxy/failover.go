package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/ratelimits"
)

// failover records a failed attempt at t (status 0 and err for no answer,
// else the status that calls for another target), takes t out of rotation
// for its back-off or rate-limit reset, and returns the next target to
// try: nil when the attempts are used up, the client left, or every other
// target is unavailable.
func (x *exchange) failover(t *target, n int, status int, began time.Time, err error, snap *ratelimits.Snapshot) *target {
	now := x.p.opts.Now()
	a := schema.Attempt{TargetID: t.id, CredentialID: derefID(t.credID), Status: status, LatencyMs: time.Since(began).Milliseconds()}
	switch {
	case err != nil && x.r.Context().Err() != nil:
		// The client left, or the gateway is shutting down: no verdict on
		// the target.
		t.health.release()
		a.Error = "client closed the request before the upstream answered"
		if cutAtShutdown(x.r) {
			a.Error = "cut at gateway shutdown before the upstream answered"
		}
		x.attempts = append(x.attempts, a)
		return nil
	case err != nil:
		a.Error = "could not reach the upstream: " + x.scrub(err)
		x.p.targetFailed(t, now, a.Error)
	case status == http.StatusTooManyRequests:
		a.Error = "upstream answered 429"
		until := rateLimitReset(*snap, now)
		t.health.rateLimited(until, rateLimitReason+" until "+until.UTC().Format(time.RFC3339))
		// The provider account is spent for this model, whichever
		// service called it.
		if x.room.exhaust(until.UnixNano()) {
			x.p.peers.spent(x.room, until.UnixNano())
		}
	default:
		a.Error = "upstream answered " + strconv.Itoa(status)
		x.p.targetFailed(t, now, a.Error)
	}
	x.attempts = append(x.attempts, a)
	if n >= x.p.opts.MaxAttempts || x.r.Context().Err() != nil {
		return nil
	}
	next := x.e.pickTarget(x.tried, now, x.model, &x.p.room)
	if next != nil {
		x.p.log.Info("failing over to another target", "request_id", x.reqID, "service", x.e.svc.ServiceName,
			"from_target", t.id, "to_target", next.id, "reason", a.Error)
	}
	return next
}

// noTarget answers a routed request none of whose targets may be called
// now: 429 when they are all rate-limited, else 503, with Retry-After for
// the first one back.
func (x *exchange) noTarget() outcome {
	wait, limited := x.e.nextAvailable(x.p.opts.Now(), x.model, &x.p.room)
	secs := int64((wait + time.Second - 1) / time.Second)
	aerr := &apiError{status: http.StatusServiceUnavailable, code: "no_healthy_target", retryAfter: wait,
		message: fmt.Sprintf("every target of service %q is backing off after failures; the first is tried again in %d s", x.e.svc.ServiceName, secs)}
	if limited {
		aerr.status, aerr.code = http.StatusTooManyRequests, "upstream_rate_limited"
		aerr.message = fmt.Sprintf("every target of service %q is rate-limited by its provider; the first resets in %d s", x.e.svc.ServiceName, secs)
	}
	writeError(x.w, x.protocol, aerr)
	return outcome{status: aerr.status, err: aerr.message, priced: true, failure: failureOf(aerr.code)}
}

// upstreamFailed answers a request whose upstream could not be reached or
// did not answer in time.
func (x *exchange) upstreamFailed(ctx context.Context, err error) outcome {
	if cutAtShutdown(x.r) {
		msg := "the gateway shut down before the upstream answered; the request was cut and is not charged"
		writeError(x.w, x.protocol, refuse(http.StatusServiceUnavailable, "shutting_down", msg))
		return outcome{status: http.StatusServiceUnavailable, err: msg, priced: true}
	}
	if x.r.Context().Err() != nil {
		// The client left before the upstream answered; nobody to tell.
		return outcome{status: 499, err: "client closed the request before the upstream answered", priced: true}
	}
	status, what, failure := http.StatusBadGateway, "could not reach the upstream provider", FailureUnreachable
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(context.Cause(ctx), errStreamIdle) {
		status, what, failure = http.StatusGatewayTimeout, "the upstream provider did not answer in time", FailureTimeout
	}
	msg := fmt.Sprintf("%s (%s): %s", what, x.up.base.Host, x.scrub(err))
	x.p.log.Warn("upstream request failed", "request_id", x.reqID, "service", x.e.svc.ServiceName, "status", status, "err", x.scrub(err))
	writeError(x.w, x.protocol, refuse(status, "upstream_unavailable", msg))
	return outcome{status: status, err: msg, priced: true, failure: failure}
}
