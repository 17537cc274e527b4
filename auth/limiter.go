package auth

import (
	"context"
	"sync"
	"time"
)

// Limiter counts attempts per key (a username, a client address) in a
// sliding window. Once a key has Max attempts in Window, every attempt for
// it is refused until the oldest leaves the window — even one with the
// right password, or guessing would go on unthrottled.
//
// An attempt is counted when it is taken, before its outcome is known, so
// that a burst of concurrent guesses cannot all pass a check made before
// any of them failed; an attempt that must not count (a login that
// succeeded) is handed back with Ticket.Return.
type Limiter struct {
	Max    int
	Window time.Duration
	// Name tells this limiter's keys from another's in Shared.
	Name string
	// Shared keeps the attempts in the database, where every replica
	// counts them; nil keeps them in this process's memory, which is
	// enough for the one process that owns an SQLite file.
	Shared *Marks

	now func() time.Time

	mu    sync.Mutex
	fails map[string][]time.Time
}

// NewLimiter returns a limiter allowing max attempts per window, counted
// in memory.
func NewLimiter(name string, max int, window time.Duration) *Limiter {
	return &Limiter{Name: name, Max: max, Window: window, now: time.Now, fails: map[string][]time.Time{}}
}

// Ticket is the attempts one Take counted.
type Ticket struct {
	l    *Limiter
	keys []string
	at   time.Time
	ids  []int // the marks' rows, when shared
}

// Take counts one attempt for each of keys, unless one of them has used up
// its attempts: then nothing is counted and wait says how long until it may
// try again. A shared limiter's error is the database's.
func (l *Limiter) Take(ctx context.Context, keys ...string) (t Ticket, wait time.Duration, err error) {
	now := l.now()
	if l.Shared != nil {
		ids, wait, err := l.Shared.take(ctx, l.Name, keys, l.Max, l.Window, now)
		return Ticket{l: l, ids: ids}, wait, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	for _, k := range keys {
		f := l.prune(k, now)
		if len(f) >= l.Max {
			wait = max(wait, f[len(f)-l.Max].Add(l.Window).Sub(now))
		}
	}
	if wait > 0 {
		return Ticket{}, wait, nil
	}
	for _, k := range keys {
		l.fails[k] = append(l.fails[k], now)
	}
	return Ticket{l: l, keys: keys, at: now}, 0, nil
}

// Return uncounts the ticket's attempts. A zero Ticket returns nothing.
func (t Ticket) Return(ctx context.Context) error {
	if t.l == nil {
		return nil
	}
	if t.l.Shared != nil {
		return t.l.Shared.remove(ctx, t.ids)
	}
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	for _, k := range t.keys {
		f := t.l.fails[k]
		for i := len(f) - 1; i >= 0; i-- {
			if f[i].Equal(t.at) {
				t.l.fails[k] = append(f[:i:i], f[i+1:]...)
				break
			}
		}
	}
	return nil
}

// sweepAt is the number of keys past which Take drops every expired
// entry: keys are only pruned when used again, and a flood of invented
// usernames must not grow the map for ever.
const sweepAt = 10_000

// sweep prunes every key once there are too many; the caller holds mu.
func (l *Limiter) sweep(now time.Time) {
	if len(l.fails) > sweepAt {
		for k := range l.fails {
			l.prune(k, now)
		}
	}
}

// prune drops attempts older than the window; the caller holds mu.
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
