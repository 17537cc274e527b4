package budget

import "time"

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
