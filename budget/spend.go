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

// Current returns the subject's spend in the current hour, day, month and
// the total, with its limits.
func (b *Budgets) Current(ctx context.Context, s Subject) ([]*Spend, error) {
	// The embedded mode's spend is in memory until flushed: write it first
	// so that the answer includes the last requests.
	flush := b.Flush
	if b.mem != nil && b.mem.leased {
		// Without handing leases back: an admin watching must not make
		// the requests lease anew.
		flush = func(ctx context.Context) error { return b.flushLeased(ctx, leaseIdle) }
	}
	if err := flush(ctx); err != nil {
		return nil, err
	}
	now := b.Now().UTC()
	out := make([]*Spend, 0, len(Windows))
	for _, w := range Windows {
		warn, block := s.Limits.For(w)
		sp := Spend{Window: w, WindowStart: w.Start(now), Warn: warn, Block: block}
		if end := w.End(now); !end.IsZero() {
			sp.ResetsAt = &end
		}
		var spent, reserved int64
		err := b.db.SQL.QueryRowContext(ctx, b.q(`SELECT COALESCE(SUM(spent), 0), COALESCE(SUM(reserved), 0) FROM spend_windows WHERE scope = ? AND scope_id = ? AND "window" = ? AND window_start = ?`),
			string(s.Scope), s.ID, string(w), sp.WindowStart).Scan(&spent, &reserved)
		if err != nil {
			return nil, fmt.Errorf("read %s spend: %w", s.label(w), err)
		}
		sp.Spent, sp.Reserved = money.Micros(spent), money.Micros(reserved)
		if m := b.mem; m != nil {
			// Holds live in memory only.
			m.mu.Lock()
			if mw := m.windows[newKey(s.Scope, s.ID, w, sp.WindowStart)]; mw != nil {
				// Journaled spend is spent, though not written yet.
				sp.Spent += mw.journal
				sp.Reserved = mw.reserved
				if m.leased {
					// The database's reserved counts this process's lease
					// whole and other replicas' holds and leases.
					sp.Reserved = money.Micros(reserved) - mw.lease.amount + mw.reserved - mw.journal
				}
			}
			m.mu.Unlock()
		}
		out = append(out, &sp)
	}
	return out, nil
}
