package proxy

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/ratelimits"
)

// Routing: a service with targets spreads its requests over
// several credentials by weight, skips the ones that are rate-limited or
// failing, and fails over to another before the answer has begun. Health
// is kept per target in this process's memory, outside the key cache, so
// that an admin change (which flushes the cache) forgets nothing.

const (
	// defaultRateLimitCooldown is how long a target that answered 429
	// without saying when to come back is skipped.
	defaultRateLimitCooldown = 30 * time.Second
	// minBackoff and maxBackoff bound the skip after failures: 1 s after
	// the first, doubling with each failure in a row.
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
	// probeLease is how long a probe request holds the one slot a cooled
	// down target lets through; past it, another request may probe (the
	// first one's answer is slow, or it was lost).
	probeLease = time.Minute
)

// target is one credential a routed service calls, resolved like a
// service's single credential and cached with its key entry.
type target struct {
	id     int
	index  int // in keyEntry.targets
	weight int
	// provider is the target's credential's provider, which may differ
	// from the service's: requests are translated for it.
	provider providers.Provider
	modelMap map[string]string
	// models prices the enabled models (by their client-facing names) at
	// this target where it differs from the service's price; nil when it
	// never does.
	models map[string]modelInfo
	upstreamConf
	health *targetHealth
}

// info is model's price at this target.
func (t *target) info(model string, service modelInfo) modelInfo {
	if i, ok := t.models[model]; ok {
		return i
	}
	return service
}

// upstreamModel is the name this target's upstream knows model by.
func (t *target) upstreamModel(model string) string {
	if m, ok := t.modelMap[model]; ok && m != "" {
		return m
	}
	return model
}

// targetHealth is what real traffic taught about one target. until is
// read on every routed request without a lock: zero means healthy, which
// is the common case; the rest changes only after failures.
type targetHealth struct {
	until atomic.Int64 // unix nanoseconds before which the target is skipped; 0 when healthy
	// bad is set by a failure and cleared by a success, so that the common
	// success of a healthy target costs one atomic load.
	bad atomic.Bool

	mu       sync.Mutex
	probing  time.Time // when the probe in flight was let through; zero when none
	failures int
	lastErr  string
}

// TargetState is a target's health as this proxy sees it, for the admin
// API: whether requests go to it, until when they do not, and why.
type TargetState struct {
	Healthy bool
	// CoolingDownUntil is zero unless the target is being skipped or
	// waits for its probe to succeed.
	CoolingDownUntil    time.Time
	LastError           string
	ConsecutiveFailures int
}

// Health reports the state of a target (by ServiceTarget id); a target no
// request has used yet is healthy. A nil proxy knows nothing and says so.
func (p *Proxy) Health(targetID int) TargetState {
	if p == nil {
		return TargetState{Healthy: true}
	}
	p.healthMu.Lock()
	h := p.health[targetID]
	p.healthMu.Unlock()
	if h == nil {
		return TargetState{Healthy: true}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s := TargetState{LastError: h.lastErr, ConsecutiveFailures: h.failures, Healthy: true}
	if u := h.until.Load(); u != 0 {
		s.CoolingDownUntil = time.Unix(0, u).UTC()
		s.Healthy = false
	}
	return s
}

// healthOf returns the health record of a target, creating it; records
// outlive cache entries so that a flush does not put a failing target back
// into rotation.
func (p *Proxy) healthOf(targetID int) *targetHealth {
	p.healthMu.Lock()
	defer p.healthMu.Unlock()
	h := p.health[targetID]
	if h == nil {
		h = &targetHealth{}
		p.health[targetID] = h
	}
	return h
}

// available reports whether a request may go to the target now without
// claiming anything: healthy, or cooled down with no probe in flight.
func (h *targetHealth) available(now time.Time) bool { return h.admit(now, false) }

// acquire claims the target for one request: always for a healthy one,
// and for a cooled-down one only as its single probe.
func (h *targetHealth) acquire(now time.Time) bool { return h.admit(now, true) }

// admit is available and acquire: a healthy target costs one atomic load.
func (h *targetHealth) admit(now time.Time, claim bool) bool {
	u := h.until.Load()
	if u == 0 {
		return true
	}
	if now.UnixNano() < u {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until.Load() == 0 {
		return true // a probe succeeded meanwhile
	}
	if !h.probing.IsZero() && now.Sub(h.probing) < probeLease {
		return false
	}
	if claim {
		h.probing = now
	}
	return true
}

// succeeded puts the target back into rotation and reports whether it was
// out. Free when it was healthy.
func (h *targetHealth) succeeded() (recovered bool) {
	if !h.bad.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	recovered = h.until.Load() != 0
	h.until.Store(0)
	h.bad.Store(false)
	h.probing = time.Time{}
	h.failures = 0
	return recovered
}

// targetSucceeded puts t back into rotation after a success and, when it
// was out (its probe succeeded), tells the other replicas, which then put
// it back without each waiting out its back-off and probing it again.
func (p *Proxy) targetSucceeded(t *target) {
	if t.health.succeeded() {
		p.peers.up(t.id)
	}
}

// failed takes the target out of rotation after a connection error or a
// 5xx, for a back-off that doubles with each failure in a row.
func (h *targetHealth) failed(now time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	backoff := maxBackoff
	if h.failures <= 10 { // 1 s << 9 is past 5 min already
		backoff = min(minBackoff<<(h.failures-1), maxBackoff)
	}
	h.lastErr = reason
	h.probing = time.Time{}
	h.bad.Store(true)
	h.until.Store(now.Add(backoff).UnixNano())
}

// targetFailed takes t out of rotation after a failure and tells the
// other replicas.
func (p *Proxy) targetFailed(t *target, now time.Time, reason string) {
	t.health.failed(now, reason)
	p.peers.down(t.id, t.health.until.Load(), reason)
}

// heardDown takes the target out of rotation until until because another
// replica saw it fail; its own count of failures is left alone, so its
// back-off grows only with what this replica sees.
func (h *targetHealth) heardDown(until int64, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if until <= h.until.Load() {
		return
	}
	h.lastErr = reason + " (seen by another replica)"
	h.bad.Store(true)
	h.until.Store(until)
}

// rateLimited takes the target out of rotation until until, when its
// rate limit resets; it is not a failure of the upstream, so the back-off
// does not grow.
func (h *targetHealth) rateLimited(until time.Time, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	h.lastErr = reason
	h.probing = time.Time{}
	h.bad.Store(true)
	h.until.Store(until.UnixNano())
}

// release gives back a probe slot without a verdict (the client left
// before the upstream answered).
func (h *targetHealth) release() {
	if h.until.Load() == 0 {
		return
	}
	h.mu.Lock()
	h.probing = time.Time{}
	h.mu.Unlock()
}

// pickTarget chooses a target among the enabled ones not yet tried, at
// random by weight among those available, walking them in position order
// (so the first target wins a draw on a boundary). A target's weight is
// scaled by the room its credential's provider windows for the model have
// left, and a target whose window is exhausted until its reset is not
// available. The
// chosen target is claimed (as the probe when it was cooling down). nil
// when none is available.
func (e *keyEntry) pickTarget(tried uint64, now time.Time, model string, rooms *headrooms) *target {
	var avail uint64
	var weights [providers.MaxServiceTargets]int
	total := 0
	for _, t := range e.targets {
		if tried&(1<<t.index) != 0 || !t.health.available(now) {
			continue
		}
		if room := rooms.of(t.credID, t.upstreamModel(model)); room.open(now) {
			avail |= 1 << t.index
			weights[t.index] = t.weight * room.share(now)
			total += weights[t.index]
		}
	}
	for total > 0 {
		n := rand.IntN(total)
		var chosen *target
		for _, t := range e.targets {
			if avail&(1<<t.index) == 0 {
				continue
			}
			if n < weights[t.index] {
				chosen = t
				break
			}
			n -= weights[t.index]
		}
		if chosen.health.acquire(now) {
			return chosen
		}
		// Another request took its probe slot meanwhile.
		avail &^= 1 << chosen.index
		total -= weights[chosen.index]
	}
	return nil
}

// nextAvailable is when the first skipped target comes back, and whether
// every target is skipped for its rate limit, its own 429 or an exhausted
// provider window (so the client should hear 429 rather than 503).
func (e *keyEntry) nextAvailable(now time.Time, model string, rooms *headrooms) (time.Duration, bool) {
	var soonest int64
	allLimited := true
	for _, t := range e.targets {
		u := t.health.until.Load()
		room := rooms.of(t.credID, t.upstreamModel(model))
		exhausted := !room.open(now)
		if exhausted {
			u = max(u, room.exhaustedUntil.Load())
		}
		if u != 0 && (soonest == 0 || u < soonest) {
			soonest = u
		}
		t.health.mu.Lock()
		limited := exhausted || t.health.lastErr != "" && isRateLimitReason(t.health.lastErr)
		t.health.mu.Unlock()
		allLimited = allLimited && limited
	}
	if soonest == 0 {
		return time.Second, allLimited
	}
	return max(time.Duration(soonest-now.UnixNano()), time.Second), allLimited
}

// rateLimitReason prefixes the last error of a target that answered 429.
const rateLimitReason = "rate limited (429)"

func isRateLimitReason(s string) bool {
	return len(s) >= len(rateLimitReason) && s[:len(rateLimitReason)] == rateLimitReason
}

// failoverStatus reports whether an upstream status is worth another
// target: rate limited or a server-side failure that another account or
// region may not share.
func failoverStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// rateLimitReset is when a rate-limited upstream may be asked again: its
// Retry-After, else the latest reset of an exhausted window, else the
// earliest reset it named, else defaultRateLimitCooldown from now.
func rateLimitReset(snap ratelimits.Snapshot, now time.Time) time.Time {
	if snap.RetryAfter != nil && *snap.RetryAfter > 0 {
		return now.Add(*snap.RetryAfter)
	}
	var exhausted, earliest time.Time
	for _, w := range [...]ratelimits.Window{snap.Requests, snap.Tokens, snap.InputTokens, snap.OutputTokens} {
		if w.ResetAt == nil || !w.ResetAt.After(now) {
			continue
		}
		if w.Remaining != nil && *w.Remaining <= 0 && w.ResetAt.After(exhausted) {
			exhausted = *w.ResetAt
		}
		if earliest.IsZero() || w.ResetAt.Before(earliest) {
			earliest = *w.ResetAt
		}
	}
	switch {
	case !exhausted.IsZero():
		return exhausted
	case !earliest.IsZero():
		return earliest
	}
	return now.Add(defaultRateLimitCooldown)
}
