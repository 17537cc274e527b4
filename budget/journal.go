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
// loses both or neither: the ledger counts it in memory at once (the next
// request sees it), and WriteJournal makes it durable beside the record.
// Settle, by contrast, leaves the spend to the ledger's own write-behind
// flush, on another schedule than the usage log's.
type Settlement struct {
	r      *Reservation
	actual money.Micros
}

// SettleJournaled settles r as Settle does, except that its spend is
// written by WriteJournal with the request's usage record, or, if that
// record is never written, by the ledger's own flush after WriteBehind.
// A reservation settled already returns nil.
func (r *Reservation) SettleJournaled(_ context.Context, actual money.Micros) (*Settlement, error) {
	if !r.close(actual) {
		return nil, nil
	}
	r.m.settle(r, actual, true)
	return &Settlement{r: r, actual: actual}, nil
}

// WriteBehind hands s's spend to the ledger's own flush: for a settlement
// whose usage record will not be written (the usage queue was full or
// closed), so that the spend still counts. Nil does nothing.
func (s *Settlement) WriteBehind() {
	if s == nil {
		return
	}
	m := s.r.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sl := range s.r.slots {
		w := m.windows[sl.key]
		w.journal -= s.actual
		w.pending += s.actual
	}
	if s.actual > 0 {
		bal := m.balances[s.r.orgID]
		bal.journal -= s.actual
		bal.pending += s.actual
	}
}

// LockJournal serialises journal writes with the ledger's own flushes
// and window loads (Ledger).
func (m *memory) LockJournal() { m.flushMu.Lock() }

// UnlockJournal releases LockJournal.
func (m *memory) UnlockJournal() { m.flushMu.Unlock() }

// journalBatch is one journal write: its windows, in the one order every
// budget transaction locks their rows, and its balance changes.
type journalBatch struct {
	windows  []*journalWindow
	balances map[int]money.Micros
	now      time.Time
}

// journalWindow is one window's share of a journal write.
type journalWindow struct {
	k      memKey
	amount money.Micros
	// Leased: the lease the amount is moved out of, as it stood.
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

// journal gathers the settlements' spend by window and organization; nil
// when there is none.
func (m *memory) journal(settled []*Settlement) *journalBatch {
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
	if len(byKey) == 0 && len(balances) == 0 {
		return nil
	}
	j := &journalBatch{windows: make([]*journalWindow, 0, len(byKey)), balances: balances, now: m.clock()}
	for _, jw := range byKey {
		j.windows = append(j.windows, jw)
	}
	slices.SortFunc(j.windows, func(a, b *journalWindow) int {
		switch {
		case a.k.less(b.k):
			return -1
		case b.k.less(a.k):
			return 1
		}
		return 0
	})
	return j
}

// writeJournal adds j's spend to its windows' rows, runs leases (the
// leased ledger's statements: window rows first, in the one order every
// budget transaction locks them, then lease rows, as the leased flush
// does) and takes the spend off the prepaid balances, in tx.
func (m *memory) writeJournal(ctx context.Context, tx *sql.Tx, j *journalBatch, leases func(context.Context, *sql.Tx, *journalBatch) error) error {
	if j == nil {
		return nil
	}
	writes := make([]pendingWrite, 0, len(j.windows))
	for _, jw := range j.windows {
		if jw.amount != 0 {
			writes = append(writes, pendingWrite{k: jw.k, amount: jw.amount})
		}
	}
	for chunk := range slices.Chunk(writes, spendChunk) {
		if err := m.addSpent(ctx, tx, chunk, j.now); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if leases != nil {
		if err := leases(ctx, tx, j); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := m.writeBalances(ctx, tx, j.balances, j.now); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// journaled brings the memory in line with a committed journal write:
// the spend is no longer on its way. each, when set, is the ledger's own
// part for each window, under the same lock. The crossings the write
// stored are notified.
func (m *memory) journaled(j *journalBatch, each func(w *memWindow, jw *journalWindow)) {
	if j == nil {
		return
	}
	m.mu.Lock()
	for _, jw := range j.windows {
		w := m.windows[jw.k]
		w.journal -= jw.amount
		if each != nil {
			each(w, jw)
		}
	}
	for org, amount := range j.balances {
		m.balances[org].journal -= amount
	}
	m.mu.Unlock()
	for _, jw := range j.windows {
		if jw.crossed != nil {
			m.notify(*jw.crossed)
		}
	}
}
