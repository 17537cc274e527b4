package pace

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
)

// Leasing parameters.
const (
	// leaseCap bounds a rate slice at this many of the request's cost,
	// besides a quarter of the headroom: a slice serves one second, so it
	// needs to cover about a second of one busy replica's traffic.
	leaseCap = 4096
	// SlotTTL is how long a replica's concurrency slots outlive its last
	// renewal; renewals come every SlotTTL/3, and a replica confirms its
	// slots before using them once SlotTTL/2 passed without one.
	SlotTTL = 30 * time.Second
	// flushEvery is how often unused slices and free slots go back.
	flushEvery = 100 * time.Millisecond
	// idleFor is how long a subject goes unused before it is forgotten.
	idleFor = 2 * time.Minute
)

// Leased is the limiter of replicas sharing a database: each replica
// leases slices of a subject's headroom for the current second, and
// concurrency slots, with one short transaction on the subject's row, and
// admits requests against them in memory (see the package doc for the
// bounds).
type Leased struct {
	memory
	db     *database.DB
	holder string
	// failing is set while flushes fail, so that an outage logs once.
	failing bool
	// downUntil (Unix nanoseconds) is set when a grant could not reach
	// the database: until then grants fail at once instead of each
	// request waiting for its own connection attempt.
	downUntil atomic.Int64
	downErr   atomic.Pointer[error]
}

// downFor is how long a grant that could not reach the database makes
// the next ones fail without trying.
const downFor = 500 * time.Millisecond

// reachable is nil, or the error that made grants stop trying until
// downUntil.
func (l *Leased) reachable(now time.Time) error {
	if now.UnixNano() < l.downUntil.Load() {
		if err := l.downErr.Load(); err != nil {
			return fmt.Errorf("the database was unreachable a moment ago: %w", *err)
		}
	}
	return nil
}

// failed notes a grant's failure to reach the database, unless the
// request's own context ended.
func (l *Leased) failed(ctx context.Context, now time.Time, err error) {
	if ctx.Err() != nil {
		return
	}
	l.downErr.Store(&err)
	l.downUntil.Store(now.Add(downFor).UnixNano())
}

// NewLeased returns the leased limiter over db.
func NewLeased(db *database.DB, opts Options) *Leased {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	l := &Leased{db: db, holder: hex.EncodeToString(b)}
	l.init(opts, leased{l})
	return l
}

func (l *Leased) q(s string) string { return database.Rebind(l.db.Dialect, s) }

// leased is the Leased limiter's backend.
type leased struct{ l *Leased }

func (leased) take(it *item, h *hold, now time.Time) bool {
	if h.k.kind == Concurrency {
		if it.inUse+1 > it.held || now.Sub(it.renewed) >= SlotTTL/2 {
			return false
		}
		it.inUse++
		return true
	}
	b := bucketOf(now)
	retire(&it.lease, b)
	if it.lease.bucket != b || it.lease.used+h.cost > it.lease.granted {
		return false
	}
	it.lease.used += h.cost
	h.bucket = b
	return true
}

// retire ends a slice whose second is before b: what it did not use goes
// back to the database at the next write.
func retire(l *rateLease, b int64) {
	if l.bucket >= b {
		return
	}
	if left := l.granted - l.used; left > 0 {
		l.back = append(l.back, delta{l.bucket, -left})
	}
	l.bucket, l.granted, l.used = b, 0, 0
}

func (leased) untake(it *item, h *hold) {
	if h.k.kind == Concurrency {
		it.inUse--
		return
	}
	giveBack(it, h.bucket, h.cost)
}

// giveBack returns n of bucket b: to the slice if it is still b's, else
// to the database at the next write.
func giveBack(it *item, b, n int64) {
	if it.lease.bucket == b {
		it.lease.used -= n
		return
	}
	it.lease.back = append(it.lease.back, delta{b, -n})
}

func (leased) settle(it *item, h *hold, n int64, now time.Time) {
	if n < 0 {
		giveBack(it, h.bucket, -n)
		return
	}
	b := bucketOf(now)
	retire(&it.lease, b)
	if it.lease.bucket == b {
		fit := min(n, it.lease.granted-it.lease.used)
		it.lease.used += fit
		n -= fit
	}
	if n > 0 {
		it.lease.back = append(it.lease.back, delta{b, n})
	}
}

func (leased) status(it *item, k key, limit int64, now time.Time) (int64, time.Duration) {
	if k.kind == Concurrency {
		return limit - it.inUse - it.others, 0
	}
	b := bucketOf(now)
	retire(&it.lease, b)
	return limit - it.win.sum(b) - pending(&it.lease), it.win.reset(now)
}

func (x leased) grow(ctx context.Context, h *hold, now time.Time) error {
	if h.k.kind == Concurrency {
		return x.l.growSlots(ctx, h, now)
	}
	return x.l.growRate(ctx, h, now)
}

// pending is what the database will count less (negative) or more once
// the lease's unused part and its give-backs are written.
func pending(l *rateLease) int64 {
	n := l.used - l.granted
	for _, d := range l.back {
		n += d.n
	}
	return n
}

// errInDoubt marks a failed COMMIT: the transaction may have been
// applied, so what it carried is not written again.
var errInDoubt = errors.New("commit failed; the write may have been applied")

func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", errInDoubt, err)
	}
	return nil
}

// keepBack puts back what a failed write carried, unless its COMMIT
// failed: a write that may have been applied is not repeated, which at
// worst leaves units counted that no request used until they slide out
// of the window. The caller holds mu.
func keepBack(it *item, back []delta, err error) {
	if !errors.Is(err, errInDoubt) {
		it.lease.back = append(back, it.lease.back...)
	}
}

// growRate leases a slice of h's window for the current second, big
// enough for h, and admits h against it, or refuses h when the window's
// headroom cannot cover it.
func (l *Leased) growRate(ctx context.Context, h *hold, now time.Time) error {
	it := h.it
	it.grow.Lock()
	defer it.grow.Unlock()
	b := bucketOf(now)
	l.mu.Lock()
	if h.taken = l.be.take(it, h, now); h.taken {
		l.mu.Unlock()
		return nil
	}
	if it.lease.readAt == b && it.win.sum(b)+pending(&it.lease)+h.cost > h.limit {
		// The database refused or filled up in this second already: other
		// replicas' returns show at the next second's grant, without a
		// round trip for every refused request meanwhile.
		l.mu.Unlock()
		return refusal(&it.win, h, now)
	}
	// The slice's unused part goes back in the grant's write, so that it
	// counts as headroom for this request.
	if left := it.lease.granted - it.lease.used; left > 0 {
		it.lease.back = append(it.lease.back, delta{b, -left})
		it.lease.granted = it.lease.used
	}
	headroom := h.limit - it.win.sum(b)
	back := it.lease.back
	it.lease.back = nil
	l.mu.Unlock()

	want := h.cost
	if chunk := min(headroom/4, leaseCap*h.cost) / h.cost * h.cost; chunk > want {
		want = chunk
	}
	amount, win, err := int64(0), window{}, l.reachable(now)
	if err == nil {
		if amount, win, err = l.grantRate(ctx, h.k, h.limit, b, want, h.cost, back); err != nil {
			l.failed(ctx, now, err)
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		keepBack(it, back, err)
		return fmt.Errorf("pace: lease %s %d %s: %w", h.k.scope, h.k.id, h.k.kind, err)
	}
	it.win, it.lease.readAt = win, b
	if amount == 0 {
		return refusal(&it.win, h, now)
	}
	if bucketOf(l.now()) != b || it.lease.bucket != b {
		// The second ended while the grant was on its way: its slice
		// cannot be used any more.
		it.lease.back = append(it.lease.back, delta{b, -amount})
		return errAgain
	}
	it.lease.granted += amount
	it.lease.used += h.cost
	h.bucket, h.taken = b, true
	return nil
}

// grantRate writes back to k's window row and grants want (or, failing
// that, need) in bucket b if the window stays within limit; it returns
// the amount granted (zero: refused) and the window as it now stands.
func (l *Leased) grantRate(ctx context.Context, k key, limit, b, want, need int64, back []delta) (int64, window, error) {
	var w window
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, w, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	id, err := l.lockWindow(ctx, tx, k, &w, time.Unix(b, 0))
	if err != nil {
		return 0, w, err
	}
	for _, d := range back {
		w.add(d.bucket, d.n)
	}
	w.advance(b)
	var amount int64
	switch {
	case w.total+want <= limit:
		amount = want
	case w.total+need <= limit:
		amount = need
	}
	if amount == 0 && len(back) == 0 {
		return 0, w, commit(tx)
	}
	w.add(b, amount)
	if err := l.writeWindow(ctx, tx, id, &w, time.Unix(b, 0)); err != nil {
		return 0, w, err
	}
	return amount, w, commit(tx)
}

// lockWindow locks k's row, creating it if missing, and reads it into w.
func (l *Leased) lockWindow(ctx context.Context, tx *sql.Tx, k key, w *window, now time.Time) (int64, error) {
	q := sqlWindowRead
	if l.db.Dialect == dialect.Postgres {
		q = sqlWindowLock
	}
	var id, head int64
	var raw []byte
	err := tx.QueryRowContext(ctx, l.q(q), k.scope.column(), k.id, k.kind.String()).Scan(&id, &head, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		// The subject's first grant: create the row (another replica may
		// be creating it too) and lock it.
		if _, err := tx.ExecContext(ctx, l.q(sqlWindowEnsure), k.scope.column(), k.id, k.kind.String(), now.UTC()); err != nil {
			return 0, fmt.Errorf("create pace window: %w", err)
		}
		err = tx.QueryRowContext(ctx, l.q(q), k.scope.column(), k.id, k.kind.String()).Scan(&id, &head, &raw)
	}
	if err != nil {
		return 0, fmt.Errorf("read pace window: %w", err)
	}
	var counts []int64
	if err := json.Unmarshal(raw, &counts); err != nil {
		return 0, fmt.Errorf("read pace window %d: %w", id, err)
	}
	w.load(head, counts)
	return id, nil
}

func (l *Leased) writeWindow(ctx context.Context, tx *sql.Tx, id int64, w *window, now time.Time) error {
	raw, _ := json.Marshal(w.trimmed())
	if _, err := tx.ExecContext(ctx, l.q(sqlWindowWrite), w.head, string(raw), now.UTC(), id); err != nil {
		return fmt.Errorf("write pace window %d: %w", id, err)
	}
	return nil
}

// growSlots takes one more concurrency slot for h from the database, if
// the subject's holders together stay within the limit, renewing this
// replica's row and handing back its free slots in the same write.
func (l *Leased) growSlots(ctx context.Context, h *hold, now time.Time) error {
	it := h.it
	it.grow.Lock()
	defer it.grow.Unlock()
	l.mu.Lock()
	if h.taken = l.be.take(it, h, now); h.taken {
		l.mu.Unlock()
		return nil
	}
	if since := now.Sub(it.refusedAt); since >= 0 && since < flushEvery {
		// Refused a moment ago: slots come back at other replicas'
		// flushes, so asking again at once would only load the database.
		l.mu.Unlock()
		return refusal(nil, h, now)
	}
	inUse := it.inUse
	l.mu.Unlock()

	held, others, err := int64(0), int64(0), l.reachable(now)
	if err == nil {
		if held, others, err = l.grantSlots(ctx, h.k, h.limit, inUse, now); err != nil {
			l.failed(ctx, now, err)
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pace: lease %s %d %s: %w", h.k.scope, h.k.id, h.k.kind, err)
	}
	it.held, it.renewed, it.others = held, now, others
	if held <= inUse {
		it.refusedAt = now
		return refusal(nil, h, now)
	}
	it.refusedAt = time.Time{}
	it.inUse++
	h.taken = true
	return nil
}

// grantSlots sets this replica's slots of k to inUse+1 if every holder's
// slots stay within limit, else to inUse, after deleting the rows that
// expired; it returns what this replica now holds and what the others do.
func (l *Leased) grantSlots(ctx context.Context, k key, limit, inUse int64, now time.Time) (held, others int64, err error) {
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var w window
	if _, err := l.lockWindow(ctx, tx, k, &w, now); err != nil {
		return 0, 0, err
	}
	scope := k.scope.column()
	if _, err := tx.ExecContext(ctx, l.q(sqlSlotsExpire), scope, k.id, now.UTC()); err != nil {
		return 0, 0, fmt.Errorf("expire pace slots: %w", err)
	}
	if err := tx.QueryRowContext(ctx, l.q(sqlSlotsOthers), scope, k.id, l.holder).Scan(&others); err != nil {
		return 0, 0, fmt.Errorf("sum pace slots: %w", err)
	}
	held = inUse
	if others+inUse+1 <= limit {
		held = inUse + 1
	}
	if held == 0 {
		_, err = tx.ExecContext(ctx, l.q(sqlSlotDelete), l.holder, scope, k.id)
	} else {
		_, err = tx.ExecContext(ctx, l.q(sqlSlotUpsert), l.holder, scope, k.id, held, now.Add(SlotTTL).UTC())
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write pace slots: %w", err)
	}
	return held, others, commit(tx)
}

// rateWrite is what a flush writes to one window row.
type rateWrite struct {
	k    key
	it   *item
	back []delta
}

// slotWrite is what a flush writes to this replica's slots of a subject.
type slotWrite struct {
	k    key
	it   *item
	held int64
	lost bool // the row had expired: the database no longer counts it
}

// flush writes back the slices' unused units and the settles' excess,
// hands back free slots and renews the rest; all hands back the current
// second's unused slices too (Close).
func (l *Leased) flush(ctx context.Context, all bool) error {
	now := l.now()
	b := bucketOf(now)
	var rates []*rateWrite
	var slots []*slotWrite
	l.mu.Lock()
	for k, it := range l.items {
		if k.kind == Concurrency {
			if it.renewed.IsZero() || (it.held <= it.inUse && now.Sub(it.renewed) < SlotTTL/3) || !it.grow.TryLock() {
				continue
			}
			slots = append(slots, &slotWrite{k: k, it: it, held: it.inUse})
			it.held = it.inUse // the free slots go back: nobody takes them meanwhile
			continue
		}
		retire(&it.lease, b)
		if all && it.lease.granted > it.lease.used {
			it.lease.back = append(it.lease.back, delta{it.lease.bucket, it.lease.used - it.lease.granted})
			it.lease.granted = it.lease.used
		}
		if len(it.lease.back) == 0 || !it.grow.TryLock() {
			continue
		}
		rates = append(rates, &rateWrite{k: k, it: it, back: it.lease.back})
		it.lease.back = nil
	}
	l.forgetIdle(now, idleFor, func(it *item) bool {
		return !it.renewed.IsZero() || len(it.lease.back) != 0 || it.lease.granted != 0 && it.lease.bucket == b
	})
	l.mu.Unlock()
	if len(rates) == 0 && len(slots) == 0 {
		return nil
	}
	err := l.writeFlush(ctx, rates, slots, now)
	l.mu.Lock()
	for _, r := range rates {
		if err != nil {
			keepBack(r.it, r.back, err)
		}
		r.it.grow.Unlock()
	}
	for _, s := range slots {
		switch {
		case err != nil:
			// The database holds at least what it did: nothing to undo.
		case s.lost:
			l.log.Warn("pace slots expired while their replica lived; taking them anew", "scope", s.k.scope.String(), "id", s.k.id)
			s.it.held, s.it.renewed = 0, time.Time{}
		case s.held == 0:
			s.it.renewed = time.Time{}
		default:
			s.it.renewed = now
		}
		s.it.grow.Unlock()
	}
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("pace: flush: %w", err)
	}
	return nil
}

// writeFlush writes one flush in a transaction, rows in one order so that
// flushes never wait on each other in a cycle (a grant holds one row).
func (l *Leased) writeFlush(ctx context.Context, rates []*rateWrite, slots []*slotWrite, now time.Time) error {
	slices.SortFunc(rates, func(a, b *rateWrite) int { return compareKeys(a.k, b.k) })
	slices.SortFunc(slots, func(a, b *slotWrite) int { return compareKeys(a.k, b.k) })
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	for _, r := range rates {
		var w window
		id, err := l.lockWindow(ctx, tx, r.k, &w, now)
		if err != nil {
			return err
		}
		for _, d := range r.back {
			w.add(d.bucket, d.n)
		}
		if err := l.writeWindow(ctx, tx, id, &w, now); err != nil {
			return err
		}
	}
	for _, s := range slots {
		scope := s.k.scope.column()
		if s.held == 0 {
			if _, err := tx.ExecContext(ctx, l.q(sqlSlotDelete), l.holder, scope, s.k.id); err != nil {
				return fmt.Errorf("hand back pace slots: %w", err)
			}
			continue
		}
		res, err := tx.ExecContext(ctx, l.q(sqlSlotSet), s.held, now.Add(SlotTTL).UTC(), l.holder, scope, s.k.id, now.UTC())
		if err != nil {
			return fmt.Errorf("renew pace slots: %w", err)
		}
		n, _ := res.RowsAffected()
		s.lost = n == 0
	}
	return commit(tx)
}

func compareKeys(a, b key) int {
	switch {
	case a.scope != b.scope:
		return int(a.scope) - int(b.scope)
	case a.id != b.id:
		return a.id - b.id
	}
	return int(a.kind) - int(b.kind)
}

// Close hands back everything no request holds; call it at shutdown,
// after the requests ended.
func (l *Leased) Close(ctx context.Context) error { return l.flush(ctx, true) }

// Sweep deletes every slot row that expired (a grant deletes its own
// subject's; this keeps the table small) and returns how many.
func (l *Leased) Sweep(ctx context.Context) (int64, error) {
	res, err := l.db.SQL.ExecContext(ctx, l.q(sqlSlotsSweep), l.now().UTC())
	if err != nil {
		return 0, fmt.Errorf("pace: sweep expired slots: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// Run writes back unused slices and free slots every flushEvery, renewing
// slots in use, and sweeps expired slots every SlotTTL, until ctx ends.
func (l *Leased) Run(ctx context.Context) {
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(SlotTTL)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			err := l.flush(ctx, false)
			switch {
			case err != nil && !l.failing:
				l.log.Warn("pace limits cannot reach the database; retrying", "err", err)
			case err == nil && l.failing:
				l.log.Info("pace limits reach the database again")
			}
			l.failing = err != nil
		case <-sweep.C:
			if _, err := l.Sweep(ctx); err != nil {
				l.log.Warn("sweep expired pace slots", "err", err)
			}
		}
	}
}
