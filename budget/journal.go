package budget

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/money"
)

// Settlement is a request's settled spend on its way to the database in
// the transaction that writes the request's usage record, so that a crash
// loses both or neither: the budget counts it in memory at once (the next
// request sees it), and WriteJournal makes it durable beside the record.
// Settle, by contrast, leaves the spend to the budget's own write-behind
// flush, on another schedule than the usage log's.
type Settlement struct {
	r      *Reservation
	actual money.Micros
}

// SettleJournaled settles r as Settle does, except that its spend is
// written by WriteJournal with the request's usage record, or, if that
// record is never written, by the budget's own flush after WriteBehind.
// In the locking mode, which writes every settle at once, it settles and
// returns nil.
func (r *Reservation) SettleJournaled(ctx context.Context, actual money.Micros) (*Settlement, error) {
	if r != nil && r.b.mem == nil {
		return nil, r.Settle(ctx, actual)
	}
	if !r.close(actual) {
		return nil, nil
	}
	r.settleMemory(actual, true)
	return &Settlement{r: r, actual: actual}, nil
}

// WriteBehind hands s's spend to the budget's own flush: for a settlement
// whose usage record will not be written (the usage queue was full or
// closed), so that the spend still counts. Nil does nothing.
func (s *Settlement) WriteBehind() {
	if s == nil {
		return
	}
	m := s.r.b.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sl := range s.r.slots {
		w := m.windows[keyOf(sl)]
		w.journal -= s.actual
		if m.leased {
			w.reserved -= s.actual
		}
		w.pending += s.actual
	}
	if s.actual > 0 {
		bal := m.balances[s.r.orgID]
		bal.journal -= s.actual
		bal.pending += s.actual
	}
}

// LockJournal serialises journal writes with the budget's own flushes and
// window loads. Hold it from before the transaction that calls
// WriteJournal begins until its done has run: SQLite's transactions take
// the write lock at BEGIN, and PostgreSQL's hold window rows that a flush
// waits for.
func (b *Budgets) LockJournal() {
	if b.mem != nil {
		b.mem.flushMu.Lock()
	}
}

// UnlockJournal releases LockJournal.
func (b *Budgets) UnlockJournal() {
	if b.mem != nil {
		b.mem.flushMu.Unlock()
	}
}

// journalWindow is one window's share of a journal write.
type journalWindow struct {
	k      memKey
	amount money.Micros
	// Leased mode: the lease the amount is moved out of, as it stood.
	leaseID   int64
	leaseRow  int
	fromLease money.Micros
	found     bool // the lease row was still there
	// The warn limit and label the last settle saw, for a crossing.
	warn    *money.Micros
	label   string
	orgID   int
	crossed *Alert
}

// WriteJournal adds the settlements' spend to their windows, takes it off
// the prepaid balances and (leased mode) moves it out of the leases that
// held it, in tx, with LockJournal held. done must be called once tx has
// ended: committed, the memory is brought in line and warn crossings are
// announced; not committed, nothing changed and the settlements may be
// written again.
func (b *Budgets) WriteJournal(ctx context.Context, tx *sql.Tx, settled []*Settlement) (done func(committed bool), err error) {
	m := b.mem
	if m == nil || len(settled) == 0 {
		return func(bool) {}, nil
	}
	now := b.Now().UTC()
	byKey := map[memKey]*journalWindow{}
	balances := map[int]money.Micros{}
	for _, s := range settled {
		if s == nil {
			continue
		}
		for _, sl := range s.r.slots {
			jw := byKey[sl.key]
			if jw == nil {
				jw = &journalWindow{k: sl.key}
				byKey[sl.key] = jw
			}
			jw.amount += s.actual
		}
		if s.actual != 0 {
			balances[s.r.orgID] += s.actual
		}
	}
	windows := make([]*journalWindow, 0, len(byKey))
	for _, jw := range byKey {
		windows = append(windows, jw)
	}
	slices.SortFunc(windows, func(a, b *journalWindow) int {
		switch {
		case a.k.less(b.k):
			return -1
		case b.k.less(a.k):
			return 1
		}
		return 0
	})
	if m.leased {
		m.mu.Lock()
		for _, jw := range windows {
			w := m.windows[jw.k]
			jw.leaseID, jw.leaseRow = w.lease.id, w.lease.row
			if jw.leaseID != 0 {
				jw.fromLease = min(jw.amount, w.lease.amount)
			}
			jw.warn, jw.label, jw.orgID = w.lease.warn, w.lease.label, w.lease.orgID
		}
		m.mu.Unlock()
	}
	// Window rows first, in the one order every budget transaction locks
	// them, then lease rows, as the leased flush does.
	writes := make([]pendingWrite, 0, len(windows))
	for _, jw := range windows {
		if jw.amount != 0 {
			writes = append(writes, pendingWrite{k: jw.k, amount: jw.amount})
		}
	}
	for chunk := range slices.Chunk(writes, spendChunk) {
		if err := b.addSpent(ctx, tx, chunk, now); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if m.leased {
		if err := b.journalLeases(ctx, tx, windows, now); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if err := b.writeBalances(ctx, tx, balances, now); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return func(committed bool) {
		if committed {
			b.journaled(windows, balances)
		}
	}, nil
}

// journalLeases moves the leased windows' amounts out of their leases and
// stores the warn crossings the new sums make; a lease row gone (swept)
// holds nothing any more, so nothing is taken from reserved for it.
func (b *Budgets) journalLeases(ctx context.Context, tx *sql.Tx, windows []*journalWindow, now time.Time) error {
	for _, jw := range windows {
		if jw.fromLease == 0 {
			continue
		}
		rows, err := b.query(ctx, tx, `UPDATE budget_reservations SET amount = amount - ? WHERE id = ? RETURNING id`, []any{int64(jw.fromLease), jw.leaseID})
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
		stmt, err := b.db.Prepared(ctx, tx, b.q(`UPDATE spend_windows SET reserved = reserved - ? WHERE id = ?`))
		if err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, int64(jw.fromLease), jw.leaseRow); err != nil {
			return fmt.Errorf("move spend out of its lease: %w", err)
		}
	}
	for _, jw := range windows {
		if jw.warn == nil || jw.amount == 0 {
			continue
		}
		var id int
		var spent int64
		err := tx.QueryRowContext(ctx, b.q(`UPDATE spend_windows SET warned = ? WHERE scope = ? AND scope_id = ? AND "window" = ? AND window_start = ?
AND warned = ? AND spent >= ? RETURNING id, spent`), true, string(jw.k.Scope()), jw.k.id, string(jw.k.Window()), jw.k.Start(), false, int64(*jw.warn)).Scan(&id, &spent)
		if err == sql.ErrNoRows {
			continue
		} else if err != nil {
			return fmt.Errorf("mark budget warning: %w", err)
		}
		a := Alert{OrgID: jw.orgID, Window: jw.label, Start: jw.k.Start(), Spent: money.Micros(spent), Warn: *jw.warn, WindowID: id}
		if err := b.storeAlert(ctx, tx, a, now); err != nil {
			return err
		}
		jw.crossed = &a
	}
	return nil
}

// journaled brings the memory in line with a committed journal write:
// the spend is no longer on its way, nor (leased) held in the lease.
func (b *Budgets) journaled(windows []*journalWindow, balances map[int]money.Micros) {
	m := b.mem
	m.mu.Lock()
	for _, jw := range windows {
		w := m.windows[jw.k]
		w.journal -= jw.amount
		if !m.leased {
			continue
		}
		w.reserved -= jw.amount
		if jw.crossed != nil {
			w.warned = true
		}
		switch {
		case w.lease.id != jw.leaseID || jw.fromLease == 0:
			// No lease, or a grant replaced a swept one meanwhile.
		case jw.found:
			w.lease.amount -= jw.fromLease
		default:
			b.log.Warn("a budget lease expired while its replica lived; leasing anew", "window", k2label(jw.k))
			w.lease.id, w.lease.amount = 0, 0
		}
	}
	for org, amount := range balances {
		m.balances[org].journal -= amount
	}
	m.mu.Unlock()
	for _, jw := range windows {
		if jw.crossed != nil {
			b.notify(*jw.crossed)
		}
	}
}
