package pace

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// key names one limit of one subject.
type key struct {
	id    int
	scope Scope
	kind  Kind
}

// item is the state of one limit of one subject; which fields are used
// depends on the kind and the implementation.
type item struct {
	// win is the rolling minute of a rate limit: all of it in the
	// embedded limiter; in the leased one the database's row as last read.
	win window
	// lease is the leased limiter's slice of the current second.
	lease rateLease
	// inUse is the requests in flight under a concurrency limit.
	inUse int64
	// held and renewed are the leased limiter's concurrency slots in the
	// database (inUse ≤ held) and when its row was last renewed.
	held    int64
	renewed time.Time
	// others is the slots other replicas held at the last grant, and
	// refusedAt when the last grant was refused.
	others    int64
	refusedAt time.Time
	// used is the last admission, for forgetting idle subjects; permits
	// counts the admitted requests not yet released, whose settle must
	// find the item still there however long they run.
	used    time.Time
	permits int64
	// grow serializes the database grants and the flush of this item.
	grow sync.Mutex
}

// rateLease is a replica's slice of one second's headroom.
type rateLease struct {
	bucket  int64 // the second it may be used in
	granted int64
	used    int64
	// readAt is the second win was last read from the database in.
	readAt int64
	// back is what the database's buckets count that no request used
	// (negative) or that settles added beyond a slice (positive), to
	// write at the next grant or flush.
	back []delta
}

// delta is an amount to add to one bucket in the database.
type delta struct{ bucket, n int64 }

// hold is one limit of one subject a permit holds.
type hold struct {
	it     *item
	k      key
	limit  int64
	cost   int64
	bucket int64 // the second the cost was counted in
	taken  bool
}

// backend is what the two limiters do differently.
type backend interface {
	// take counts h in it if this process may admit it without asking
	// anyone; the caller holds mu.
	take(it *item, h *hold, now time.Time) bool
	// grow admits h (taken set) or refuses with *Refusal, asking the
	// database for more room where there is one.
	grow(ctx context.Context, h *hold, now time.Time) error
	// untake takes back a taken h of a refused request; the caller holds mu.
	untake(it *item, h *hold)
	// settle adds n tokens (negative: takes them back) to a tpm hold;
	// the caller holds mu.
	settle(it *item, h *hold, n int64, now time.Time)
	// status is it's remaining and reset at now; the caller holds mu.
	status(it *item, k key, limit int64, now time.Time) (remaining int64, reset time.Duration)
}

// memory is the state both limiters keep.
type memory struct {
	log      *slog.Logger
	now      func() time.Time
	failOpen bool
	be       backend

	mu    sync.Mutex
	items map[key]*item
}

func (m *memory) init(opts Options, be backend) {
	m.log, m.now, m.failOpen, m.be = opts.Log, opts.Now, opts.FailOpen, be
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.items = map[key]*item{}
}

// item returns k's item, creating it; the caller holds mu.
func (m *memory) item(k key) *item {
	it := m.items[k]
	if it == nil {
		it = &item{}
		m.items[k] = it
	}
	return it
}

// maxGrows bounds how often one request asks for room that the clock's
// next second or other requests took away first.
const maxGrows = 8

// errAgain is a grant that came too late to use (its second ended): the
// request asks again.
var errAgain = errors.New("pace: the grant's second ended; ask again")

// Acquire admits req under every limit of its subjects, or refuses it.
func (m *memory) Acquire(ctx context.Context, req Request) (*Permit, error) {
	now := m.now()
	n := 0
	for _, s := range req.Subjects {
		for k := range kinds {
			if s.Limits.Of(k) > 0 {
				n++
			}
		}
	}
	if n == 0 {
		return unlimited, nil
	}
	p := &Permit{m: m}
	p.holds = p.buf[:0]
	if n > len(p.buf) {
		p.holds = make([]hold, 0, n)
	}
	tokens := max(req.Tokens, 1)
	grow := false
	m.mu.Lock()
	for _, s := range req.Subjects {
		for k := range kinds {
			limit := s.Limits.Of(k)
			if limit <= 0 {
				continue
			}
			p.holds = append(p.holds, hold{k: key{id: s.ID, scope: s.Scope, kind: k}, limit: limit, cost: 1})
			h := &p.holds[len(p.holds)-1]
			if k == TPM {
				h.cost = tokens
			}
			h.it = m.item(h.k)
			h.it.used = now
			h.it.permits++
			h.taken = m.be.take(h.it, h, now)
			grow = grow || !h.taken
		}
	}
	m.mu.Unlock()
	if !grow {
		return p, nil
	}
	for i := range p.holds {
		h := &p.holds[i]
		if h.taken {
			continue
		}
		err := m.be.grow(ctx, h, now)
		for try := 1; errors.Is(err, errAgain) && try < maxGrows; try++ {
			now = m.now()
			err = m.be.grow(ctx, h, now)
		}
		if err == nil {
			continue
		}
		var refusal *Refusal
		if !errors.As(err, &refusal) && m.failOpen {
			m.log.Warn("pace limit not checked; admitting (fail open)", "scope", h.k.scope.String(), "id", h.k.id, "limit", h.k.kind.String(), "err", err)
			p.unchecked = true
			continue
		}
		m.mu.Lock()
		for j := range p.holds {
			hj := &p.holds[j]
			if hj.taken {
				m.be.untake(hj.it, hj)
				hj.taken = false
			}
			hj.it.permits--
		}
		if refusal != nil {
			refusal.Status = m.statusLocked(req.Subjects, m.now())
			for _, s := range req.Subjects {
				if s.Scope == refusal.Scope && s.ID == refusal.ID {
					refusal.Name = s.Name
				}
			}
		}
		m.mu.Unlock()
		if refusal != nil {
			return nil, refusal
		}
		return nil, &UnavailableError{Err: err}
	}
	return p, nil
}

// Status is each limit of the subjects as it stands.
func (m *memory) Status(subjects []Subject) []Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked(subjects, m.now())
}

func (m *memory) statusLocked(subjects []Subject, now time.Time) []Status {
	var out []Status
	for _, s := range subjects {
		for k := range kinds {
			limit := s.Limits.Of(k)
			if limit <= 0 {
				continue
			}
			kk := key{id: s.ID, scope: s.Scope, kind: k}
			st := Status{Scope: s.Scope, ID: s.ID, Kind: k, Limit: limit, Remaining: limit}
			if it := m.items[kk]; it != nil {
				st.Remaining, st.Reset = m.be.status(it, kk, limit, now)
				st.Remaining = min(max(st.Remaining, 0), limit)
			}
			out = append(out, st)
		}
	}
	return out
}

// forgetIdle drops the items nothing happened in for idle and that hold
// nothing; keep reports what must stay for the implementation's own
// reasons. The caller holds mu.
func (m *memory) forgetIdle(now time.Time, idle time.Duration, keep func(*item) bool) {
	for k, it := range m.items {
		if now.Sub(it.used) < idle || it.permits != 0 || (keep != nil && keep(it)) {
			continue
		}
		delete(m.items, k)
	}
}

// Permit is an admitted request's hold on its limits.
type Permit struct {
	m         *memory
	holds     []hold
	buf       [6]hold // the holds of a request's key, service and organization, mostly
	unchecked bool
	settled   atomic.Bool
	released  atomic.Bool
}

// unlimited is the permit of every request whose subjects have no
// limits: it holds nothing, so one serves them all.
var unlimited = &Permit{}

// Unchecked reports that some limit could not be checked (the database
// was unreachable) and the request was admitted by the fail-open policy.
func (p *Permit) Unchecked() bool { return p != nil && p.unchecked }

// Settle replaces the token estimate held against tpm limits with the
// real count. Only the first call counts.
func (p *Permit) Settle(tokens int64) {
	if p == nil || len(p.holds) == 0 || p.settled.Swap(true) {
		return
	}
	now := p.m.now()
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for i := range p.holds {
		h := &p.holds[i]
		if h.taken && h.k.kind == TPM && tokens != h.cost {
			p.m.be.settle(h.it, h, tokens-h.cost, now)
		}
	}
}

// Release frees the request's concurrency slots; call it once the request
// ended, on every path. Calls after the first do nothing.
func (p *Permit) Release() {
	if p == nil || len(p.holds) == 0 || p.released.Swap(true) {
		return
	}
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	for i := range p.holds {
		h := &p.holds[i]
		if h.taken && h.k.kind == Concurrency {
			h.it.inUse--
		}
		h.it.permits--
	}
}

// Status is each limit of the request's subjects as it stands now, for
// the rate-limit headers.
func (p *Permit) Status() []Status {
	if p == nil || len(p.holds) == 0 {
		return nil
	}
	now := p.m.now()
	p.m.mu.Lock()
	defer p.m.mu.Unlock()
	out := make([]Status, 0, len(p.holds))
	for _, h := range p.holds {
		st := Status{Scope: h.k.scope, ID: h.k.id, Kind: h.k.kind, Limit: h.limit}
		st.Remaining, st.Reset = p.m.be.status(h.it, h.k, h.limit, now)
		st.Remaining = min(max(st.Remaining, 0), h.limit)
		out = append(out, st)
	}
	return out
}
