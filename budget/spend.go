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
