// Package livefeed fans live events out to GraphQL subscriptions in this
// process: each settled request's usage, and changes to a credential's
// live rate limits. Sends never block: a subscriber that cannot keep up
// misses events rather than slowing the proxy.
package livefeed

import (
	"context"
	"sync"
	"time"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/tokens"
)

// UsageEvent is the part of a settled request's usage record
// (usagelog.Record) that a live subscription shows. It is narrower than
// the record because it crosses replicas in change-feed messages of a few
// kilobytes, as JSON, and because subscribers see neither the record's
// error text nor its attempts and spend; this package stays free of the
// database code the record brings.
type UsageEvent struct {
	RequestID                  string
	OrgID, ServiceID, APIKeyID int
	Model                      string
	Status                     int
	tokens.Tokens
	Cost    money.Micros
	Priced  bool
	Latency time.Duration
	At      time.Time
}

// Hub is the in-process fan-out.
type Hub struct {
	// OnSubscribeUsage, if set before the first subscription, runs (in a
	// goroutine of its own) each time usage gets a subscriber: replicas
	// tell each other they are watched.
	OnSubscribeUsage func()

	mu      sync.Mutex
	usage   map[chan *UsageEvent]func(UsageEvent) bool
	limits  map[chan struct{}]int
	dropped int64
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{usage: map[chan *UsageEvent]func(UsageEvent) bool{}, limits: map[chan struct{}]int{}}
}

// PublishUsage sends e to every subscriber whose filter accepts it.
func (h *Hub) PublishUsage(e UsageEvent) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, accept := range h.usage {
		if !accept(e) {
			continue
		}
		ev := e
		select {
		case ch <- &ev:
		default:
			h.dropped++
		}
	}
}

// SubscribeUsage returns events accepted by filter until ctx ends.
func (h *Hub) SubscribeUsage(ctx context.Context, filter func(UsageEvent) bool) <-chan *UsageEvent {
	ch := make(chan *UsageEvent, 64)
	h.mu.Lock()
	h.usage[ch] = filter
	h.mu.Unlock()
	if h.OnSubscribeUsage != nil {
		go h.OnSubscribeUsage()
	}
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.usage, ch)
		h.mu.Unlock()
	})
	return ch
}

// UsageSubscribers is how many usage subscriptions are open.
func (h *Hub) UsageSubscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.usage)
}

// PublishRateLimits says a credential's live rate limits changed.
func (h *Hub) PublishRateLimits(credentialID int) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch, id := range h.limits {
		if id != credentialID {
			continue
		}
		select {
		case ch <- struct{}{}:
		default: // one pending signal is enough: the reader fetches the latest
		}
	}
}

// SubscribeRateLimits signals changes to a credential's rate limits until
// ctx ends.
func (h *Hub) SubscribeRateLimits(ctx context.Context, credentialID int) <-chan struct{} {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	h.limits[ch] = credentialID
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.limits, ch)
		h.mu.Unlock()
	})
	return ch
}

// Dropped counts usage events slow subscribers missed.
func (h *Hub) Dropped() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dropped
}
