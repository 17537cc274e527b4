package pace

import (
	"context"
	"time"
)

// FlushTick is the background flush: unused slices of past seconds and
// free slots handed back, slots renewed.
func (l *Leased) FlushTick(ctx context.Context) error { return l.flush(ctx, false) }

// Statements is every hand-written statement the leased limiter runs on
// the dialect, with ? placeholders.
func Statements(dialectName string) []string { return statements(dialectName) }

// HoldSlice gives this replica n of s's limit k for the current second
// (slots, for concurrency) without asking the database, for the benchmark
// of admissions against a lease already held.
func (l *Leased) HoldSlice(s Subject, k Kind, n int64) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	it := l.item(key{id: s.ID, scope: s.Scope, kind: k})
	if k == Concurrency {
		it.held, it.renewed = n, now
		return
	}
	retire(&it.lease, bucketOf(now))
	it.lease.bucket, it.lease.granted = bucketOf(now), it.lease.granted+n
}

// ForgetIdle is Run's periodic forgetting of idle subjects, now.
func (e *Embedded) ForgetIdle() {
	e.mu.Lock()
	e.forgetIdle(e.now(), 2*time.Minute, nil)
	e.mu.Unlock()
}
