package pace

import (
	"context"
	"time"
)

// Embedded is the limiter of the one process that owns an SQLite file:
// every window and slot lives in its memory, so the request path takes
// one lock and touches no database. A restart forgets the last minute,
// which admits at most one more minute's worth once.
type Embedded struct {
	memory
}

// NewEmbedded returns an in-memory limiter.
func NewEmbedded(opts Options) *Embedded {
	e := &Embedded{}
	e.init(opts, embedded{e})
	return e
}

// Run forgets subjects idle for two minutes, every minute, until ctx ends.
func (e *Embedded) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			e.mu.Lock()
			e.forgetIdle(e.now(), 2*time.Minute, nil)
			e.mu.Unlock()
		}
	}
}

// Close does nothing: the embedded limiter holds nothing outside memory.
func (e *Embedded) Close(context.Context) error { return nil }

// embedded is the Embedded limiter's backend.
type embedded struct{ e *Embedded }

func (embedded) take(it *item, h *hold, now time.Time) bool {
	if h.k.kind == Concurrency {
		if it.inUse+1 > h.limit {
			return false
		}
		it.inUse++
		return true
	}
	b := bucketOf(now)
	if !it.win.fits(b, h.cost, h.limit) {
		return false
	}
	it.win.add(b, h.cost)
	h.bucket = b
	return true
}

// grow admits h if a request ended since take refused it, and refuses it
// otherwise: there is nobody else to ask.
func (x embedded) grow(_ context.Context, h *hold, now time.Time) error {
	x.e.mu.Lock()
	defer x.e.mu.Unlock()
	if h.taken = x.take(h.it, h, now); h.taken {
		return nil
	}
	return refusal(&h.it.win, h, now)
}

func (embedded) untake(it *item, h *hold) {
	if h.k.kind == Concurrency {
		it.inUse--
		return
	}
	it.win.add(h.bucket, -h.cost)
}

func (embedded) settle(it *item, h *hold, n int64, now time.Time) {
	if n < 0 {
		it.win.add(h.bucket, n)
		return
	}
	it.win.add(bucketOf(now), n)
}

func (embedded) status(it *item, k key, limit int64, now time.Time) (int64, time.Duration) {
	if k.kind == Concurrency {
		return limit - it.inUse, 0
	}
	return limit - it.win.sum(bucketOf(now)), it.win.reset(now)
}

// concurrencyRetry is the Retry-After of a concurrency refusal: requests
// in flight end when they end, so it is a short guess.
const concurrencyRetry = time.Second

// refusal is the refusal of h by a full w (ignored for concurrency).
func refusal(w *window, h *hold, now time.Time) *Refusal {
	r := &Refusal{Kind: h.k.kind, Scope: h.k.scope, ID: h.k.id, Limit: h.limit, RetryAfter: concurrencyRetry}
	if h.k.kind == Concurrency {
		return r
	}
	switch after := w.retryAfter(now, h.cost, h.limit); {
	case after < 0:
		r.RetryAfter = 0 // never
	case after == 0:
		// The window as last read has room, but not with what this
		// replica will still write to it: the next second's grant decides.
		r.RetryAfter = time.Unix(bucketOf(now)+1, 0).Sub(now)
	default:
		r.RetryAfter = after
	}
	return r
}
