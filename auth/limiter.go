package auth

import (
	"sync"
	"time"
)

// Limiter counts failures per key (a username, a client address) in a
// sliding window. Once a key has Max failures in Window, every attempt for
// it is refused until the oldest failure leaves the window — even one with
// the right password, or guessing would go on unthrottled.
type Limiter struct {
	Max    int
	Window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

// NewLimiter returns a limiter allowing max failures per window.
func NewLimiter(max int, window time.Duration) *Limiter {
	return &Limiter{Max: max, Window: window, now: time.Now, fails: map[string][]time.Time{}}
}

// Blocked reports whether any of keys has used up its failures, and how
// long until it may try again.
func (l *Limiter) Blocked(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		f := l.prune(k, now)
		if len(f) >= l.Max {
			if w := f[0].Add(l.Window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait > 0, wait
}

// sweepAt is the number of keys past which Fail drops every expired
// entry: keys are only pruned when used again, and a flood of invented
// usernames must not grow the map for ever.
const sweepAt = 10_000

// Fail records a failure for each key.
func (l *Limiter) Fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.fails) > sweepAt {
		for k := range l.fails {
			l.prune(k, now)
		}
	}
	for _, k := range keys {
		l.fails[k] = append(l.prune(k, now), now)
	}
}

// Allow records an attempt that counts against the limit whatever its
// outcome (used for expensive operations such as credential tests) and
// reports whether it may proceed.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	if blocked, wait := l.Blocked(key); blocked {
		return false, wait
	}
	l.Fail(key)
	return true, 0
}

// prune drops failures older than the window; the caller holds mu.
func (l *Limiter) prune(k string, now time.Time) []time.Time {
	f := l.fails[k]
	i := 0
	for i < len(f) && now.Sub(f[i]) >= l.Window {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.fails, k)
		return nil
	}
	l.fails[k] = f
	return f
}
