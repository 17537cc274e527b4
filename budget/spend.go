package budget

import (
	"context"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/money"
)

// Spend is one window's state for the API and the dashboard.
type Spend struct {
	Window      Window
	WindowStart time.Time
	Spent       money.Micros
	Reserved    money.Micros
	Warn        *money.Micros
	Block       *money.Micros
	// ResetsAt is when the window starts over; nil for the total.
	ResetsAt *time.Time
}

// current returns the subject's spend in the current hour, day, month and
// the total, with its limits, as the database holds it after a flush and
// the journaled spend not written yet. inFlight is what the ledger counts
// as reserved, from the database's reserved and the window in memory.
func (m *memory) current(ctx context.Context, s Subject, inFlight func(dbReserved money.Micros, w *memWindow) money.Micros) ([]*Spend, error) {
	now := m.clock()
	out := make([]*Spend, 0, len(Windows))
	for _, w := range Windows {
		warn, block := s.Limits.For(w)
		sp := Spend{Window: w, WindowStart: w.Start(now), Warn: warn, Block: block}
		if end := w.End(now); !end.IsZero() {
			sp.ResetsAt = &end
		}
		var spent, reserved int64
		err := m.db.SQL.QueryRowContext(ctx, m.q(sqlSpendSums),
			string(s.Scope), s.ID, string(w), sp.WindowStart).Scan(&spent, &reserved)
		if err != nil {
			return nil, fmt.Errorf("read %s spend: %w", s.label(w), err)
		}
		sp.Spent, sp.Reserved = money.Micros(spent), money.Micros(reserved)
		m.mu.Lock()
		if mw := m.windows[newKey(s.Scope, s.ID, w, sp.WindowStart)]; mw != nil {
			// Journaled spend is spent, though not written yet.
			sp.Spent += mw.journal
			sp.Reserved = inFlight(sp.Reserved, mw)
		}
		m.mu.Unlock()
		out = append(out, &sp)
	}
	return out, nil
}

// spendsChunk bounds the IDs one batched read names, well under every
// driver's limit on placeholders.
const spendsChunk = 500

// currentMany is current for each subject with one clock reading and one
// query per scope (per spendsChunk subjects); out[i] is subjects[i]'s.
func (m *memory) currentMany(ctx context.Context, subjects []Subject, inFlight func(dbReserved money.Micros, w *memWindow) money.Micros) ([][]*Spend, error) {
	now := m.clock()
	type sums struct{ spent, reserved int64 }
	found := map[memKey]sums{}
	byScope := map[Scope][]int{}
	for _, s := range subjects {
		byScope[s.Scope] = append(byScope[s.Scope], s.ID)
	}
	for scope, ids := range byScope {
		for len(ids) > 0 {
			n := min(len(ids), spendsChunk)
			args := make([]any, 0, 1+n+2*len(Windows))
			args = append(args, string(scope))
			args = append(args, intArgs(ids[:n])...)
			for _, w := range Windows {
				args = append(args, string(w), w.Start(now))
			}
			if err := m.readSums(ctx, spendsSQL(n), args, func(id int, w Window, spent, reserved int64) {
				k := newKey(scope, id, w, w.Start(now))
				s := found[k]
				found[k] = sums{s.spent + spent, s.reserved + reserved}
			}); err != nil {
				return nil, fmt.Errorf("read %s spend: %w", scope, err)
			}
			ids = ids[n:]
		}
	}
	out := make([][]*Spend, len(subjects))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, s := range subjects {
		spends := make([]*Spend, 0, len(Windows))
		for _, w := range Windows {
			warn, block := s.Limits.For(w)
			sp := Spend{Window: w, WindowStart: w.Start(now), Warn: warn, Block: block}
			if end := w.End(now); !end.IsZero() {
				sp.ResetsAt = &end
			}
			k := newKey(s.Scope, s.ID, w, sp.WindowStart)
			row := found[k]
			sp.Spent, sp.Reserved = money.Micros(row.spent), money.Micros(row.reserved)
			if mw := m.windows[k]; mw != nil {
				// Journaled spend is spent, though not written yet.
				sp.Spent += mw.journal
				sp.Reserved = inFlight(sp.Reserved, mw)
			}
			spends = append(spends, &sp)
		}
		out[i] = spends
	}
	return out, nil
}

// readSums runs a spendsSQL statement and hands each row to each.
func (m *memory) readSums(ctx context.Context, q string, args []any, each func(id int, w Window, spent, reserved int64)) error {
	rows, err := m.db.SQL.QueryContext(ctx, m.q(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id              int
			w               string
			spent, reserved int64
		)
		if err := rows.Scan(&id, &w, &spent, &reserved); err != nil {
			return err
		}
		each(id, Window(w), spent, reserved)
	}
	return rows.Err()
}
