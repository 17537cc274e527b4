package budget

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/money"
)

// Embedded is the ledger of the embedded SQLite default, where one
// process owns the database file. Spend windows live in memory, so a
// request's reserve and settle are a map update under a lock; settled
// spend, warn crossings and balance changes are written behind, in one
// transaction every 100 ms (Run) and by Flush, which the server calls at
// shutdown.
//
// As long as the process runs, every reserve and settle goes through the
// one lock, so a block is never passed. What a crash can lose is the spend
// of the last interval, as it loses the usage records still queued;
// reservations die with the process, so none is ever left held. With
// several processes on one database (PostgreSQL), use Leased.
type Embedded struct {
	memory
}

// NewEmbedded returns the embedded ledger over db.
func NewEmbedded(db *database.DB, opts Options) *Embedded {
	e := &Embedded{}
	e.init(db, opts, e.settled)
	return e
}

// Reserve holds req.Amount in every limited window, or refuses with
// *Refusal if a block would be passed: the window's spend, what is in
// flight and this request must fit in it.
func (e *Embedded) Reserve(ctx context.Context, req Request) (*Reservation, error) {
	return e.reserve(ctx, req, e.read, e.fits, nil)
}

func (e *Embedded) fits(w *memWindow, s *slot, amount money.Micros, now time.Time) (bool, error) {
	if w.spent+w.reserved+amount > *s.block {
		return false, refusal(s, amount, now)
	}
	return true, nil
}

// read loads the missing windows' spend from the database, adding what
// was settled into them before.
func (e *Embedded) read(ctx context.Context, missing []*slot) error {
	for _, s := range missing {
		var spent int64
		var warned bool
		err := e.db.SQL.QueryRowContext(ctx, e.q(sqlSpendRead),
			string(s.subject.Scope), s.subject.ID, string(s.window), s.start).Scan(&spent, &warned)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load spend window: %w", err)
		}
		e.mu.Lock()
		switch w, ok := e.windows[s.key]; {
		case !ok:
			e.windows[s.key] = &memWindow{spent: money.Micros(spent), warned: warned, loaded: true}
		case !w.loaded:
			w.spent, w.warned, w.loaded = money.Micros(spent)+w.pending+w.journal, w.warned || warned, true
		}
		e.mu.Unlock()
	}
	return nil
}

// settled finds a warn crossing in memory, where all the window's spend
// is, for the next flush to store.
func (e *Embedded) settled(w *memWindow, s *slot, orgID int) {
	if s.warn != nil && !w.warned && w.spent >= *s.warn {
		w.warned = true
		w.warnPending = &Alert{OrgID: orgID, Window: s.subject.label(s.window), Start: s.start, Spent: w.spent, Warn: *s.warn}
	}
}

// Flush writes the settled spend, warn crossings and balance changes in
// one transaction. On failure the changes stay pending for the next
// flush; when only the COMMIT failed, the next flush first finds out
// whether it was applied.
func (e *Embedded) Flush(ctx context.Context) error {
	e.flushMu.Lock()
	defer e.flushMu.Unlock()
	if err := e.resolve(ctx); err != nil {
		return err
	}

	var writes []pendingWrite
	e.mu.Lock()
	for k, w := range e.windows {
		if w.pending != 0 || w.warnPending != nil {
			writes = append(writes, pendingWrite{k, w.pending, w.warnPending})
			w.pending, w.warnPending = 0, nil
		}
	}
	balances := e.takeBalances()
	e.mu.Unlock()
	if len(writes) == 0 && len(balances) == 0 {
		return nil
	}
	seq := e.nextFlush()
	err := e.writeBehind(ctx, writes, balances, seq)
	finish := func(applied bool) { e.finishFlush(writes, balances, applied) }
	if e.doubtful(err, seq, finish) {
		return err
	}
	finish(err == nil)
	return err
}

// finishFlush ends a flush: applied, its crossings are notified; not, its
// changes go back for the next flush to write.
func (e *Embedded) finishFlush(writes []pendingWrite, balances map[int]money.Micros, applied bool) {
	if applied {
		for _, wr := range writes {
			if wr.alert != nil {
				e.notify(*wr.alert)
			}
		}
		e.forgetPast()
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, wr := range writes {
		w := e.windows[wr.k]
		if w == nil {
			w = &memWindow{}
			e.windows[wr.k] = w
		}
		w.pending += wr.amount
		if wr.alert != nil && w.warnPending == nil {
			w.warnPending = wr.alert
		}
	}
	e.putBalances(balances)
}

// writeBehind writes one flush, numbered seq, in a transaction. A flush
// usually carries a dozen windows (key, service and organization, four
// windows each), ten times a second, beside the requests; one prepared
// multi-row upsert for them instead of one parsed upsert each took the
// flush from 1.1 ms to 0.4 ms on SQLite (median wall time). Windows with a
// crossing to store need their row's id for the alert, so they are
// written one by one.
func (e *Embedded) writeBehind(ctx context.Context, writes []pendingWrite, balances map[int]money.Micros, seq int64) error {
	now := e.clock()
	tx, err := e.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	plain := make([]pendingWrite, 0, len(writes))
	for _, wr := range writes {
		if wr.alert == nil {
			plain = append(plain, wr)
			continue
		}
		stmt, err := e.db.Prepared(ctx, tx, e.q(sqlSpendWarnUpsert))
		if err != nil {
			return fmt.Errorf("write budget spend: %w", err)
		}
		var id int
		if err := stmt.QueryRowContext(ctx, string(wr.k.Scope()), wr.k.id, string(wr.k.Window()), wr.k.Start(), int64(wr.amount), now).Scan(&id); err != nil {
			return fmt.Errorf("write budget spend: %w", err)
		}
		wr.alert.WindowID = id
		if err := e.storeAlert(ctx, tx, *wr.alert, now); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(plain, spendChunk) {
		if err := e.addSpent(ctx, tx, chunk, now); err != nil {
			return err
		}
	}
	if err := e.writeBalances(ctx, tx, balances, now); err != nil {
		return err
	}
	if err := e.recordFlush(ctx, tx, seq, now); err != nil {
		return err
	}
	if err := commit(tx); err != nil {
		return fmt.Errorf("write budget spend: %w", err)
	}
	return nil
}

// Run writes the settled spend every 100 ms until ctx ends. Holds live in
// memory only, so none can outlive the process and nothing is swept.
func (e *Embedded) Run(ctx context.Context) {
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-flush.C:
			e.tick(ctx, e.Flush)
		}
	}
}

// Current is the subject's spend, flushed first so that the answer
// includes the last requests; what is in flight is the holds in memory.
func (e *Embedded) Current(ctx context.Context, s Subject) ([]*Spend, error) {
	if err := e.Flush(ctx); err != nil {
		return nil, err
	}
	return e.current(ctx, s, func(_ money.Micros, w *memWindow) money.Micros { return w.reserved })
}

// Spends is Current of each subject, with one flush for them all.
func (e *Embedded) Spends(ctx context.Context, subjects []Subject) ([][]*Spend, error) {
	if err := e.Flush(ctx); err != nil {
		return nil, err
	}
	return e.currentMany(ctx, subjects, func(_ money.Micros, w *memWindow) money.Micros { return w.reserved })
}

// WriteJournal writes the settlements' spend and balance changes in tx;
// their warn crossings were found at settle and are stored by the flush.
func (e *Embedded) WriteJournal(ctx context.Context, tx *sql.Tx, settled []*Settlement) (func(committed bool), error) {
	j := e.journal(settled)
	if err := e.writeJournal(ctx, tx, j, nil); err != nil {
		return nil, err
	}
	return func(committed bool) {
		if committed {
			e.journaled(j, nil)
		}
	}, nil
}
