package budget

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// A write-behind flush whose COMMIT fails may have been applied all the
// same: the connection dropped while the answer was on its way. Putting
// its spend back for the next flush would then count it twice. So each
// flush records its process and a sequence number in budget_flushes, in
// the flush's own transaction, and a flush whose COMMIT failed stays in
// doubt until the next flush reads that record before writing anything:
// applied, the flush is finished as if its COMMIT had answered; not
// applied, its spend goes back and is written with the next.

// flushLog is a process's record of its flushes.
type flushLog struct {
	id  string // this process, random at its start
	seq int64  // the last flush's number
	// doubt is the flush whose COMMIT failed, until a later flush finds
	// out whether it was applied.
	doubt *inDoubt
}

// inDoubt is a flush whose COMMIT failed.
type inDoubt struct {
	seq int64
	// finish ends the flush as applied or not; it takes mu itself.
	finish func(applied bool)
}

// pruneEvery is how often (in flushes) a process deletes the records of
// processes gone for pruneAfter.
const (
	pruneEvery = 1000
	pruneAfter = 7 * 24 * time.Hour
)

func newFlushLog() flushLog {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return flushLog{id: hex.EncodeToString(b)}
}

// commitError is a COMMIT that failed: the transaction may have been
// applied. It is never retried.
type commitError struct{ err error }

func (e *commitError) Error() string { return "commit: " + e.err.Error() }
func (e *commitError) Unwrap() error { return e.err }

// commit commits tx, marking a failure as a commitError.
func commit(tx *sql.Tx) error {
	if err := tx.Commit(); err != nil {
		return &commitError{err}
	}
	return nil
}

// nextFlush numbers a flush about to write; the caller holds flushMu.
func (m *memory) nextFlush() int64 {
	m.flushes.seq++
	return m.flushes.seq
}

// recordFlush writes seq as this process's last flush, in the flush's
// transaction, and now and then prunes the records of processes gone.
func (m *memory) recordFlush(ctx context.Context, tx *sql.Tx, seq int64, now time.Time) error {
	stmt, err := m.db.Prepared(ctx, tx, m.q(sqlFlushRecord))
	if err != nil {
		return fmt.Errorf("record budget flush: %w", err)
	}
	if _, err := stmt.ExecContext(ctx, m.flushes.id, seq, now); err != nil {
		return fmt.Errorf("record budget flush: %w", err)
	}
	if seq%pruneEvery == 1 {
		if _, err := tx.ExecContext(ctx, m.q(sqlFlushPrune), now.Add(-pruneAfter)); err != nil {
			return fmt.Errorf("prune budget flush records: %w", err)
		}
	}
	return nil
}

// doubtful keeps a flush whose COMMIT failed in doubt and reports
// whether it did; finish then runs when a later flush resolves it. The
// caller holds flushMu.
func (m *memory) doubtful(err error, seq int64, finish func(applied bool)) bool {
	var ce *commitError
	if !errors.As(err, &ce) {
		return false
	}
	m.flushes.doubt = &inDoubt{seq: seq, finish: finish}
	return true
}

// resolve finds out whether the flush in doubt was applied and finishes
// it, before a flush writes anything (a later flush's record would hide
// the answer). The caller holds flushMu.
func (m *memory) resolve(ctx context.Context) error {
	d := m.flushes.doubt
	if d == nil {
		return nil
	}
	var seq int64
	err := m.db.SQL.QueryRowContext(ctx, m.q(sqlFlushSeq), m.flushes.id).Scan(&seq)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("write budget spend: find whether the last flush was applied: %w", err)
	}
	m.flushes.doubt = nil
	d.finish(seq >= d.seq)
	return nil
}
