package pace

import "context"

// FlushTick is the background flush: unused slices of past seconds and
// free slots handed back, slots renewed.
func (l *Leased) FlushTick(ctx context.Context) error { return l.flush(ctx, false) }

// Statements is every hand-written statement the leased limiter runs on
// the dialect, with ? placeholders.
func Statements(dialectName string) []string { return statements(dialectName) }
