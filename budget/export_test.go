package budget

import (
	"context"
	"time"
)

// TestKey names a spend window for the tests of unexported helpers.
type TestKey struct {
	Scope  Scope
	ID     int
	Window Window
	Start  int64 // unix nanoseconds
}

// LeasedStatementLen is leasedStatementLen over windows with these keys.
func LeasedStatementLen(keys []TestKey) int {
	writes := make([]*leaseWrite, len(keys))
	for i, k := range keys {
		writes[i] = &leaseWrite{k: newKey(k.Scope, k.ID, k.Window, time.Unix(0, k.Start))}
	}
	return leasedStatementLen(writes)
}

// SlotOrder is the order in which a reservation for subjects holds its
// windows (none may have limits: this reserves nothing).
func SlotOrder(subjects []Subject) []TestKey {
	res, _ := (&memory{}).open(Request{Subjects: subjects}, time.Now())
	keys := make([]TestKey, len(res.slots))
	for i, s := range res.slots {
		keys[i] = TestKey{Scope: s.key.Scope(), ID: s.key.id, Window: s.key.Window(), Start: s.key.startNS}
	}
	return keys
}

// FlushTick is the background flush of the leased mode: settled spend
// written, leases used within leaseIdle kept.
func (l *Leased) FlushTick(ctx context.Context) error { return l.flushLeased(ctx, leaseIdle) }

// Leases is the lease row each window of the leased mode holds a lease
// through, by window.
func (l *Leased) Leases() map[TestKey]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[TestKey]int64{}
	for k, w := range l.windows {
		if w.lease.id != 0 {
			out[TestKey{Scope: k.Scope(), ID: k.id, Window: k.Window(), Start: k.startNS}] = w.lease.id
		}
	}
	return out
}

// Statements is every hand-written statement the budget runs on the
// dialect, with ? placeholders.
func Statements(dialectName string) []string { return statements(dialectName) }
