// Package changefeed tells every part of every replica that admin data
// changed, so that caches built from it (the proxy's key cache above all)
// are flushed at once instead of serving a revoked key until a TTL runs out.
//
// A change is only a topic name: subscribers re-read what they need. That
// keeps the feed trivially correct (a lost or duplicated signal costs one
// extra reload, never stale data) and lets PostgreSQL's LISTEN/NOTIFY carry
// it between replicas.
package changefeed

import (
	"context"
	"sync"
)

// Topics: one per kind of admin data the proxy caches. Publish after the
// transaction that changed the data has committed, so that a subscriber
// reloading on the signal sees the new state.
const (
	// TopicAPIKeys: a client key was created, updated (enabled, disabled,
	// limits, expiry), rotated or deleted.
	TopicAPIKeys = "api_keys"
	// TopicServices: a service was created, updated or deleted.
	TopicServices = "services"
	// TopicCredentials: a provider credential (its key, base URL, API
	// standard, active flag) changed, or the master key was rotated.
	TopicCredentials = "credentials"
	// TopicPrices: a model price changed (admin edit or catalog sync).
	TopicPrices = "prices"
	// TopicStandards: an API standard (key method or field) changed.
	TopicStandards = "standards"
	// TopicSettings: an organization's cost limits, project settings or
	// prepaid balance enforcement changed.
	TopicSettings = "settings"
	// TopicSessions: logins ended (logout, a password change or reset,
	// a switch of organization) or memberships changed, so that open
	// subscriptions check their credential again at once.
	TopicSessions = "sessions"
)

// Topics lists every topic, for subscribers that flush on any change and
// for the reconnect path, which must assume all of them changed.
var Topics = []string{TopicAPIKeys, TopicServices, TopicCredentials, TopicPrices, TopicStandards, TopicSettings, TopicSessions}

// Feed carries change signals to subscribers in this process and, for a
// shared database, in every other replica.
type Feed interface {
	// Publish announces that data under topic changed. Local subscribers
	// are signalled before it returns.
	Publish(ctx context.Context, topic string) error
	// Subscribe returns a channel that receives a value after each change
	// to topic, and a function that ends the subscription. Signals
	// coalesce: a subscriber that is busy sees one signal for many changes,
	// which is all a cache flush needs, and a slow subscriber never blocks
	// a publisher. The channel is closed when the feed is closed.
	Subscribe(topic string) (<-chan struct{}, func())
	// Watch calls fn with each changed topic, synchronously: for a local
	// Publish, before Publish returns. A cache that must never serve data
	// older than the mutation that just returned flushes in fn. fn must be
	// quick and must not call back into the feed. The returned function
	// ends the watch.
	Watch(fn func(topic string)) func()
	// Close ends delivery and closes every subscriber channel.
	Close() error
}

// hub is the in-process fan-out under both feeds.
type hub struct {
	mu       sync.Mutex
	subs     map[string]map[chan struct{}]struct{}
	watchers map[int]func(string)
	nextID   int
	closed   bool
}

func newHub() *hub {
	return &hub{subs: make(map[string]map[chan struct{}]struct{}), watchers: map[int]func(string){}}
}

func (h *hub) Watch(fn func(topic string)) func() {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.nextID
	h.nextID++
	h.watchers[id] = fn
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.watchers, id)
	}
}

func (h *hub) Subscribe(topic string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch, func() {}
	}
	set := h.subs[topic]
	if set == nil {
		set = make(map[chan struct{}]struct{})
		h.subs[topic] = set
	}
	set[ch] = struct{}{}
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if _, ok := h.subs[topic][ch]; ok {
				delete(h.subs[topic], ch)
				close(ch)
			}
		})
	}
}

// deliver signals every subscriber of topic without ever blocking: a full
// channel already holds a pending signal, which covers this one too.
func (h *hub) deliver(topic string) {
	h.mu.Lock()
	watchers := make([]func(string), 0, len(h.watchers))
	for _, fn := range h.watchers {
		watchers = append(watchers, fn)
	}
	for ch := range h.subs[topic] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
	for _, fn := range watchers {
		fn(topic)
	}
}

// deliverAll signals every subscriber of every topic.
func (h *hub) deliverAll() {
	for _, t := range Topics {
		h.deliver(t)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, set := range h.subs {
		for ch := range set {
			close(ch)
		}
	}
	h.subs = nil
}

// local is the feed of a single process (SQLite: one replica only).
type local struct{ *hub }

// NewLocal returns an in-process feed, enough when only one process uses
// the database (the embedded SQLite default).
func NewLocal() Feed { return local{newHub()} }

func (l local) Publish(_ context.Context, topic string) error {
	l.deliver(topic)
	return nil
}

func (l local) Close() error {
	l.close()
	return nil
}
