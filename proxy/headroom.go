package proxy

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/ratelimits"
)

// Headroom: what a credential's upstream said of its provider windows for
// a model on its latest answer (the x-ratelimit-* and anthropic-ratelimit-*
// headers of successes as well as 429s). Routing never sends to a target
// whose window shows nothing remaining until that window resets, and
// among the others prefers the ones with more room. It is kept per
// credential and upstream model, as providers count (one model's spent
// tokens leave another's alone), so services sharing a credential share
// what it taught, and a window seen spent is told to the other replicas
// (peers).

// lowRoom is the share of a window left, in per mille, below which every
// answer's headers are read rather than one a second: near the end of a
// window the last request's answer is the one that matters.
const lowRoom = 100

// headroom is one credential's room for one upstream model.
type headroom struct {
	cred  int
	model string

	// exhaustedUntil is, in unix nanoseconds, the reset of a window the
	// latest answer reported with nothing remaining; 0 when none.
	exhaustedUntil atomic.Int64
	// room is the share of the tightest reported window left, in per
	// mille, plus one (0 when no window's limit and remaining were given).
	room atomic.Int32
	// roomUntil is, in unix nanoseconds, when that window resets and room
	// stops meaning anything; 0 when its reset was not given.
	roomUntil atomic.Int64
}

// open reports whether a request may go to the credential now: no window
// it reported is exhausted before its reset.
func (h *headroom) open(now time.Time) bool {
	return h == nil || now.UnixNano() >= h.exhaustedUntil.Load()
}

// share is the room left as a weight factor in per mille: 1000 when
// unknown or past its window's reset, at least 1 so that a nearly spent
// target keeps a trickle.
func (h *headroom) share(now time.Time) int {
	if h == nil {
		return 1000
	}
	r := int(h.room.Load())
	if r == 0 {
		return 1000
	}
	if u := h.roomUntil.Load(); u != 0 && now.UnixNano() >= u {
		return 1000
	}
	return max(r-1, 1)
}

// low reports whether the latest answer left little room.
func (h *headroom) low() bool {
	if h == nil {
		return false
	}
	r := h.room.Load()
	return r != 0 && r-1 < lowRoom
}

// note records what snap says of the windows: their room (an answer that
// says nothing clears what earlier ones said of it) and a window spent. A
// spent window stays spent until its reset whatever later answers say: an
// answer to a request sent before the window ran out, or to one that got
// through another way, is older news than the reset. It reports a window
// newly spent (until a later reset than was known), for the other
// replicas.
func (h *headroom) note(snap ratelimits.Snapshot, now time.Time) (spent bool) {
	if h == nil {
		return false
	}
	var until, roomUntil int64
	room := int32(0)
	for _, w := range [...]ratelimits.Window{snap.Requests, snap.Tokens, snap.InputTokens, snap.OutputTokens} {
		if w.Remaining == nil {
			continue
		}
		if *w.Remaining <= 0 && w.ResetAt != nil && w.ResetAt.After(now) {
			until = max(until, w.ResetAt.UnixNano())
		}
		if w.Limit != nil && *w.Limit > 0 {
			share := int32(min(max(*w.Remaining, 0)*1000 / *w.Limit, 1000)) + 1
			if room == 0 || share < room {
				room, roomUntil = share, 0
				if w.ResetAt != nil {
					roomUntil = w.ResetAt.UnixNano()
				}
			}
		}
	}
	h.room.Store(room)
	h.roomUntil.Store(roomUntil)
	return h.exhaust(until)
}

// exhaust marks the credential's windows spent until until (unix
// nanoseconds), as a 429 or another replica says; it reports whether that
// is later than what was known.
func (h *headroom) exhaust(until int64) bool {
	if h == nil {
		return false
	}
	for {
		cur := h.exhaustedUntil.Load()
		if until <= cur {
			return false
		}
		if h.exhaustedUntil.CompareAndSwap(cur, until) {
			return true
		}
	}
}

// headrooms holds every credential's headroom per upstream model;
// records outlive cache entries, as target health does.
type headrooms struct{ m sync.Map } // roomKey → *headroom

type roomKey struct {
	cred  int
	model string
}

// of returns the headroom of credential cred for model, creating it; nil
// without a credential.
func (hs *headrooms) of(cred *int, model string) *headroom {
	if cred == nil {
		return nil
	}
	k := roomKey{*cred, model}
	if h, ok := hs.m.Load(k); ok {
		return h.(*headroom)
	}
	h, _ := hs.m.LoadOrStore(k, &headroom{cred: *cred, model: model})
	return h.(*headroom)
}
