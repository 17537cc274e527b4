package auth

import (
	"container/list"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Throttle limits requests per client address with a token bucket: Burst
// requests at once, refilled at Rate a second. It guards what anyone can
// call without a credential (anonymous GraphQL, login), so that one address
// cannot spend the gateway's CPU on password hashing and query parsing.
// It tracks at most maxAddresses; past that the address seen least lately
// is forgotten (it starts again with a full bucket), so memory stays
// bounded whatever addresses a flood uses.
type Throttle struct {
	rate  float64 // tokens a second
	burst float64
	max   int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket
	recent  *list.List               // most recently seen first
}

type bucket struct {
	addr   string
	tokens float64
	at     time.Time
}

// maxAddresses bounds a Throttle's memory: about 150 bytes an address,
// some 7 MB in all.
const maxAddresses = 50_000

// NewThrottle returns a throttle of rate requests a second with bursts of
// burst; a rate of zero or less lets everything through.
func NewThrottle(rate float64, burst int) *Throttle {
	return &Throttle{rate: rate, burst: float64(max(burst, 1)), max: maxAddresses, now: time.Now,
		buckets: map[string]*list.Element{}, recent: list.New()}
}

// Allow takes a token for the address, or reports how long until one is
// due.
func (t *Throttle) Allow(addr string) (bool, time.Duration) {
	if t == nil || t.rate <= 0 {
		return true, 0
	}
	key := addressKey(addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var b *bucket
	if e, ok := t.buckets[key]; ok {
		t.recent.MoveToFront(e)
		b = e.Value.(*bucket)
		b.tokens = math.Min(t.burst, b.tokens+now.Sub(b.at).Seconds()*t.rate)
		b.at = now
	} else {
		if t.recent.Len() >= t.max {
			oldest := t.recent.Back()
			t.recent.Remove(oldest)
			delete(t.buckets, oldest.Value.(*bucket).addr)
		}
		b = &bucket{addr: key, tokens: t.burst, at: now}
		t.buckets[key] = t.recent.PushFront(b)
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / t.rate * float64(time.Second))
}

// addressKey is what a bucket belongs to: an IPv4 address, or an IPv6
// address's /64, which one subscriber usually holds whole.
func addressKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// GraphQL limits anonymous GraphQL requests (no valid credential; run it
// inside Middleware) per address, answering 429 with a RATE_LIMITED
// GraphQL error and Retry-After. Callers with a valid credential are not
// limited by it.
func (t *Throttle) GraphQL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ViewerFrom(r.Context()) == nil {
			if ok, wait := t.Allow(ClientIP(r)); !ok {
				msg := throttledMessage(wait)
				writeThrottled(w, wait, map[string]any{"errors": []any{map[string]any{
					"message": msg, "extensions": map[string]any{"code": "RATE_LIMITED"},
				}}})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// REST limits a route per address, answering 429 with Retry-After and
// {"detail": "..."}, the REST login's error shape.
func (t *Throttle) REST(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := t.Allow(ClientIP(r)); !ok {
			writeThrottled(w, wait, map[string]string{"detail": throttledMessage(wait)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func retrySeconds(wait time.Duration) int { return max(1, int(math.Ceil(wait.Seconds()))) }

func throttledMessage(wait time.Duration) string {
	return fmt.Sprintf("too many requests without a login from your address; try again in %d seconds, or log in", retrySeconds(wait))
}

func writeThrottled(w http.ResponseWriter, wait time.Duration, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(body)
}
