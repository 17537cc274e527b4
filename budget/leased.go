package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// Leasing parameters. A lease grows by a quarter of the headroom the
// window had when last read, so that replicas sharing a window split what
// is left and leases shrink towards exact grants near the block, but by no
// more than leaseChunk requests' worth, which bounds what a crash locks
// away until leaseTTL (never more than that quarter of the headroom).
// The request that finds its lease
// used up waits for the grant (a database round trip), so leaseChunk
// also sets how many requests wait: at 256, a service with day and month
// limits sent one request in about 130 to the database, inside the 1% that
// p99 reports; at 4,096 it is one in about 2,000, and a lease still covers
// only a second or two of a busy service's traffic.
const (
	leaseChunk = 4096
	// leaseTTL is how long a lease outlives its replica's last renewal;
	// renewals come every leaseTTL/3.
	leaseTTL = time.Minute
	// leaseIdle is how long a lease may go unused before its unused part
	// goes back to the window for other replicas.
	leaseIdle = time.Second
	// maxLeaseAttempts bounds how often one request grows a lease that
	// other requests keep using up before it.
	maxLeaseAttempts = 8
)

// lease is one window's share of the database's headroom in the leased
// ledger. The database's reserved counts the lease whole; this process
// admits requests against it in memory while its holds and its settled
// spend not yet written fit: holds + pending + journal + request ≤ amount. Writing
// pending spend moves that much from the lease into spent in one update, so
// spent + reserved in the database never falls below what this process has
// admitted while the lease lives, and the conditional grant keeps
// spent + reserved ≤ block across every replica.
type lease struct {
	row        int          // the spend_windows row
	id         int64        // the budget_reservations row recording the lease; 0 while there is none
	amount     money.Micros // how much of the row's reserved this process holds
	renewed    time.Time
	used       time.Time // the last admission, for handing idle leases back
	dbSpent    money.Micros
	dbReserved money.Micros // the row as last read
	// The warn limit, label and organization the last settle saw, for
	// the crossings a flush finds.
	warn  *money.Micros
	label string
	orgID int
	grow  sync.Mutex // one grant or give-back at a time
}

// Leased is the ledger of replicas sharing a PostgreSQL database.
// Windows live in memory as in the embedded ledger, and each replica
// leases a slice of a limited window's headroom with one conditional
// update (reserved grows only while spent + reserved stays within the
// block), then admits requests against its lease without a database round
// trip. Settled spend, warn crossings and balance changes are written
// behind every 100 ms; unused leases go back after a second idle and at
// shutdown; a dead replica's leases expire after leaseTTL and the sweeper
// returns them.
//
// The block holds across replicas as long as the replicas' clocks agree
// within leaseTTL/2: a lease not renewed for that long is renewed (or found
// swept and leased anew) before anything more is admitted against it. The
// one way past a block: spend a replica settled and then could not write
// for longer than leaseTTL (cut off from the database) lands late, on top
// of what the others spent meanwhile from the headroom the sweep returned.
// What leasing trades: a request may be refused while other replicas hold
// unused slices of the headroom (each slice at most a quarter of what was
// left when it was leased; a replica's slices go back after a second
// without admissions), and the spend other replicas settled shows here, in
// warnings, a flush later.
type Leased struct {
	memory
	// retries counts transactions PostgreSQL aborted for a deadlock or a
	// serialization failure (Retries).
	retries atomic.Int64
}

// NewLeased returns the leased ledger over db.
func NewLeased(db *database.DB, opts Options) *Leased {
	l := &Leased{}
	l.init(db, opts, l.settled)
	return l
}

// Reserve holds req.Amount in the leases of every limited window, growing
// those too small, or refuses with *Refusal if the database's headroom
// cannot cover it, or with *ContendedError if other requests kept using
// the growth up first. A transaction PostgreSQL aborted for a deadlock or
// a serialization failure runs the reservation again.
func (l *Leased) Reserve(ctx context.Context, req Request) (*Reservation, error) {
	var res *Reservation
	err := l.retry(ctx, func() error {
		var err error
		res, err = l.reserve(ctx, req, l.read, l.fits, l.grow)
		return err
	})
	return res, err
}

// fits reports whether w's lease covers amount more; a stale lease is
// confirmed (in grow) before it is used.
func (l *Leased) fits(w *memWindow, _ *slot, amount money.Micros, now time.Time) (bool, error) {
	return w.used()+amount <= w.lease.amount && !leaseStale(&w.lease, now), nil
}

// used is what w's lease must cover: this process's holds and its settled
// spend not yet written (the database counts the lease whole).
func (w *memWindow) used() money.Micros { return w.reserved + w.pending + w.journal }

// read creates the missing windows' rows and reads them, so that leases
// can name them.
func (l *Leased) read(ctx context.Context, missing []*slot) error {
	now := l.clock()
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	if err := l.upsert(ctx, tx, missing, now); err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("load spend windows: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range missing {
		w, ok := l.windows[s.key]
		if !ok {
			w = &memWindow{}
			l.windows[s.key] = w
		}
		if w.loaded {
			continue
		}
		w.lease.row, w.lease.dbSpent, w.lease.dbReserved = s.id, s.spent, s.reserved
		w.spent, w.warned, w.loaded = s.spent+w.pending, w.warned || s.warned, true
	}
	return nil
}

// upsert creates the slots' window rows if missing and reads them back.
func (l *Leased) upsert(ctx context.Context, tx *sql.Tx, slots []*slot, now time.Time) error {
	args := make([]any, 0, len(slots)*spendArgs)
	for _, s := range slots {
		args = appendSpend(args, s.key, 0, now) // adding nothing leaves spent as it is
	}
	rows, err := tx.QueryContext(ctx, l.q(spendUpsertSQL(len(slots))+sqlSpendReturning), args...)
	if err != nil {
		return fmt.Errorf("upsert spend windows: %w", err)
	}
	defer rows.Close()
	byKey := make(map[string]*slot, len(slots))
	for _, s := range slots {
		byKey[string(s.subject.Scope)+"/"+strconv.Itoa(s.subject.ID)+"/"+string(s.window)] = s
	}
	for rows.Next() {
		var r spendRow
		if err := r.scan(rows); err != nil {
			return err
		}
		if s := byKey[r.scope+"/"+strconv.Itoa(r.scopeID)+"/"+r.window]; s != nil {
			s.id, s.spent, s.reserved, s.warned = r.id, money.Micros(r.spent), money.Micros(r.reserved), r.warned
		}
	}
	return rows.Err()
}

// settled notes the warn limit as this settle saw it (nil once an admin
// removed it): other replicas spend in the window too, so the flush finds
// crossings in the database's sum.
func (l *Leased) settled(w *memWindow, s *slot, orgID int) {
	w.lease.warn = s.warn
	if s.warn != nil {
		w.lease.label, w.lease.orgID = s.subject.label(s.window), orgID
	}
}

// grow leases more of s's window so that a request of amount fits, or
// refuses when the database's headroom cannot cover it.
func (l *Leased) grow(ctx context.Context, s *slot, amount money.Micros) error {
	l.mu.Lock()
	w := l.windows[s.key]
	l.mu.Unlock()
	if w == nil {
		return fmt.Errorf("reserve budget: spend window %s was forgotten while the request waited", s.subject.label(s.window))
	}
	w.lease.grow.Lock()
	defer w.lease.grow.Unlock()

	if err := l.confirm(ctx, w); err != nil {
		return fmt.Errorf("reserve budget: lease %s: %w", s.subject.label(s.window), err)
	}
	l.mu.Lock()
	if l.windows[s.key] != w {
		l.mu.Unlock()
		return fmt.Errorf("reserve budget: spend window %s was forgotten while the request waited", s.subject.label(s.window))
	}
	need := w.used() + amount - w.lease.amount
	headroom := *s.block - w.lease.dbSpent - w.lease.dbReserved
	row, leaseID := w.lease.row, w.lease.id
	if need <= 0 {
		// A grant for another request covered this one.
		w.reserved += amount
		s.held = true
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	want := need
	if amount > 0 {
		// Whole requests' worth, so that equal requests leave no unusable
		// remainder in a lease.
		chunk := min(headroom/4, leaseChunk*amount) / amount * amount
		want = max(want, chunk)
	}
	now := l.clock()
	var g grant
	err := l.retry(ctx, func() error {
		var err error
		g, err = l.grant(ctx, row, leaseID, *s.block, want, need, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("reserve budget: lease %s: %w", s.subject.label(s.window), err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	w.lease.dbSpent, w.lease.dbReserved = g.spent, g.reserved
	w.spent = g.spent + w.pending
	if g.amount == 0 {
		// What the database holds beyond this process's own unwritten
		// spend is in flight somewhere.
		s.spent, s.reserved = w.spent, g.reserved-min(w.pending, w.lease.amount)
		return refusal(s, amount, now)
	}
	if g.id != leaseID {
		if leaseID != 0 {
			// The sweeper returned this lease (the process stalled past
			// leaseTTL): the database no longer counts it.
			l.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", s.subject.label(s.window))
			w.lease.amount = 0
		}
		w.lease.id = g.id
	}
	w.lease.amount += g.amount
	w.lease.renewed = now
	if w.used()+amount <= w.lease.amount {
		w.reserved += amount
		s.held = true
	}
	return nil
}

// confirm renews w's lease when it is stale, before anything is admitted
// against it: a lease not renewed for leaseTTL may have been swept back to
// the window by another replica (this one stalled, or could not reach the
// database), and admitting against it would pass the block. A lease found
// gone is dropped, so the caller leases anew. The caller holds
// w.lease.grow.
func (l *Leased) confirm(ctx context.Context, w *memWindow) error {
	now := l.clock() // before the renewal, so that its age is never understated
	l.mu.Lock()
	id, stale := w.lease.id, leaseStale(&w.lease, now)
	l.mu.Unlock()
	if id == 0 || !stale {
		return nil
	}
	res, err := l.db.SQL.ExecContext(ctx, l.q(sqlLeaseRenew), now.Add(leaseTTL), id, now)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.lease.id != id {
		return nil
	}
	if n == 1 {
		w.lease.renewed = now
		return nil
	}
	l.log.Warn("a budget lease expired while its replica lived; leasing anew", "window_row", w.lease.row)
	w.lease.id, w.lease.amount = 0, 0
	return nil
}

// leaseStale reports whether a lease went long enough without renewal
// that a sweeper may have returned it (with leaseTTL/2 to spare for the
// replicas' clocks); the caller holds mu.
func leaseStale(l *lease, now time.Time) bool {
	return l.id != 0 && now.Sub(l.renewed) >= leaseTTL/2
}

// grant is the outcome of one lease request: amount granted (zero when
// refused) and the window row as it stands.
type grant struct {
	amount          money.Micros
	id              int64
	spent, reserved money.Micros
}

// grant adds want (or, failing that, need) to the window's reserved if
// spent + reserved stays within block, and records it in the lease row
// leaseID, or a new one if that is 0 or was swept.
func (l *Leased) grant(ctx context.Context, row int, leaseID int64, block, want, need money.Micros, now time.Time) (grant, error) {
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return grant{}, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	g := grant{id: leaseID}
	var spent, reserved int64
	for _, amount := range []money.Micros{want, need} {
		err := tx.QueryRowContext(ctx, l.q(sqlReserveGrant),
			int64(amount), now, row, int64(amount), int64(block)).Scan(&spent, &reserved)
		if err == nil {
			g.amount = amount
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return grant{}, err
		}
		if want == need {
			break
		}
	}
	if g.amount == 0 {
		if err := tx.QueryRowContext(ctx, l.q(sqlSpendByID), row).Scan(&spent, &reserved); err != nil {
			return grant{}, err
		}
		g.spent, g.reserved = money.Micros(spent), money.Micros(reserved)
		return g, nil
	}
	g.spent, g.reserved = money.Micros(spent), money.Micros(reserved)
	expires := now.Add(leaseTTL)
	if leaseID != 0 {
		res, err := tx.ExecContext(ctx, l.q(sqlLeaseGrow), int64(g.amount), expires, leaseID)
		if err != nil {
			return grant{}, err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			g.id = 0
		}
	}
	if g.id == 0 {
		if err := tx.QueryRowContext(ctx, l.q(sqlLeaseInsert),
			now, expires, int64(g.amount), fmt.Sprintf("[%d]", row)).Scan(&g.id); err != nil {
			return grant{}, err
		}
	}
	return g, tx.Commit()
}

// Flush writes the settled spend, moving it out of the leases, stores the
// warn crossings the database's sums show, and hands back every lease's
// unused part (an admin reading spend, the shutdown).
func (l *Leased) Flush(ctx context.Context) error { return l.flushLeased(ctx, 0) }

// Run writes the settled spend every 100 ms, handing back leases idle for
// leaseIdle, and releases dead replicas' expired leases every 30 s, until
// ctx ends.
func (l *Leased) Run(ctx context.Context) {
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(30 * time.Second)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			l.tick(ctx, func(ctx context.Context) error { return l.flushLeased(ctx, leaseIdle) })
		case <-sweep.C:
			if n, err := l.Sweep(ctx); err != nil {
				l.log.Warn("sweep expired budget reservations", "err", err)
			} else if n > 0 {
				l.log.Info("released expired budget reservations and leases", "count", n)
			}
		}
	}
}

// Current is the subject's spend, flushed first so that the answer
// includes the last requests, but without handing leases back: an admin
// watching must not make the requests lease anew. The database's reserved
// counts this process's lease whole and other replicas' holds and leases:
// what is in flight is that without the lease, plus the holds in memory.
func (l *Leased) Current(ctx context.Context, s Subject) ([]*Spend, error) {
	if err := l.flushLeased(ctx, leaseIdle); err != nil {
		return nil, err
	}
	return l.current(ctx, s, func(dbReserved money.Micros, w *memWindow) money.Micros {
		return dbReserved - w.lease.amount + w.reserved
	})
}

// Spends is Current of each subject, with one flush for them all.
func (l *Leased) Spends(ctx context.Context, subjects []Subject) ([][]*Spend, error) {
	if err := l.flushLeased(ctx, leaseIdle); err != nil {
		return nil, err
	}
	return l.currentMany(ctx, subjects, func(dbReserved money.Micros, w *memWindow) money.Micros {
		return dbReserved - w.lease.amount + w.reserved
	})
}

// WriteJournal writes the settlements' spend and balance changes in tx,
// moves the spend out of the leases that held it and stores the warn
// crossings the database's new sums make.
func (l *Leased) WriteJournal(ctx context.Context, tx *sql.Tx, settled []*Settlement) (func(committed bool), error) {
	j := l.journal(settled)
	if err := l.writeJournal(ctx, tx, j, l.journalLeases); err != nil {
		return nil, err
	}
	return func(committed bool) {
		if committed {
			l.journaled(j, l.leaseJournaled)
		}
	}, nil
}

// journalLeases moves the journal's amounts out of the leases that held
// them and stores the warn crossings the new sums make; a lease row gone
// (swept) holds nothing any more, so nothing is taken from reserved for
// it.
func (l *Leased) journalLeases(ctx context.Context, tx *sql.Tx, j *journalBatch) error {
	l.mu.Lock()
	for _, jw := range j.windows {
		w := l.windows[jw.k]
		jw.leaseID, jw.leaseRow = w.lease.id, w.lease.row
		if jw.leaseID != 0 {
			jw.fromLease = min(jw.amount, w.lease.amount)
		}
		jw.warn, jw.label, jw.orgID = w.lease.warn, w.lease.label, w.lease.orgID
	}
	l.mu.Unlock()
	for _, jw := range j.windows {
		if jw.fromLease == 0 {
			continue
		}
		rows, err := l.query(ctx, tx, sqlLeaseShrink, []any{int64(jw.fromLease), jw.leaseID})
		if err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
		jw.found = rows.Next()
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
		if !jw.found {
			continue
		}
		stmt, err := l.db.Prepared(ctx, tx, l.q(sqlReserveRelease))
		if err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, int64(jw.fromLease), jw.leaseRow); err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
	}
	for _, jw := range j.windows {
		if jw.warn == nil || jw.amount == 0 {
			continue
		}
		var id int
		var spent int64
		err := tx.QueryRowContext(ctx, l.q(sqlWarnByKey), true, string(jw.k.Scope()), jw.k.id, string(jw.k.Window()), jw.k.Start(), false, int64(*jw.warn)).Scan(&id, &spent)
		if err == sql.ErrNoRows {
			continue
		} else if err != nil {
			return fmt.Errorf("mark budget warning: %w", err)
		}
		a := Alert{OrgID: jw.orgID, Window: jw.label, Start: jw.k.Start(), Spent: money.Micros(spent), Warn: *jw.warn, WindowID: id}
		if err := l.storeAlert(ctx, tx, a, j.now); err != nil {
			return err
		}
		jw.crossed = &a
	}
	return nil
}

// leaseJournaled brings w's lease in line with a committed journal write:
// the amount moved out of it is no longer held in it; a lease row found
// gone was swept, so the window leases anew. The caller holds mu.
func (l *Leased) leaseJournaled(w *memWindow, jw *journalWindow) {
	if jw.crossed != nil {
		w.warned = true
	}
	switch {
	case w.lease.id != jw.leaseID || jw.fromLease == 0:
		// No lease, or a grant replaced a swept one meanwhile.
	case jw.found:
		w.lease.amount -= jw.fromLease
	default:
		l.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", k2label(jw.k))
		w.lease.id, w.lease.amount = 0, 0
	}
}

// retry runs fn again when PostgreSQL aborted it for a deadlock or a
// serialization failure; the one lock order makes those rare, and neither
// a request nor a flush should fail for one.
func (l *Leased) retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		l.retries.Add(1)
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// Retries is how many budget transactions PostgreSQL aborted for a
// deadlock or a serialization failure and were run again. Window rows are
// locked before lease rows, in one order, so it stays at zero.
func (l *Leased) Retries() int64 { return l.retries.Load() }

func retryable(err error) bool {
	var ce *commitError
	if errors.As(err, &ce) {
		return false // it may have been applied
	}
	var pqErr interface{ SQLState() string }
	if errors.As(err, &pqErr) {
		switch pqErr.SQLState() {
		case "40P01", "40001":
			return true
		}
	}
	return false
}
