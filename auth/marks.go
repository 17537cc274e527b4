package auth

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/throttlemark"
)

// Marks keeps limiters' attempts in the throttle_marks table, so that
// replicas sharing a PostgreSQL database enforce one limit between them
// instead of one each. A Take is one transaction that locks its keys
// (a transaction-scoped advisory lock on PostgreSQL; SQLite's write
// transactions hold the whole database), counts their live marks and adds
// its own, so that concurrent attempts on any replica are counted in
// turn. Keys are stored hashed.
type Marks struct {
	db      *sql.DB
	dialect string
	stmts   marksSQL
	swept   atomic.Int64 // unix seconds of the last sweep of expired marks
}

// NewMarks keeps marks in db, of the given dialect.
func NewMarks(db *sql.DB, dialectName string) *Marks {
	return &Marks{db: db, dialect: dialectName, stmts: newMarksSQL(dialectName)}
}

// marksSQL are Marks' statements in one dialect.
type marksSQL struct {
	lock, live, insert, sweep string
}

func newMarksSQL(d string) marksSQL {
	t, k, exp := throttlemark.Table, throttlemark.FieldKey, throttlemark.FieldExpiresAt
	s := marksSQL{
		live:   database.Rebind(d, fmt.Sprintf(`SELECT %s FROM %s WHERE %s = ? AND %[1]s > ? ORDER BY %[1]s`, exp, t, k)),
		insert: database.Rebind(d, fmt.Sprintf(`INSERT INTO %s (%s, %s) VALUES (?, ?) RETURNING %s`, t, k, exp, throttlemark.FieldID)),
		sweep:  database.Rebind(d, fmt.Sprintf(`DELETE FROM %s WHERE %s <= ?`, t, exp)),
	}
	if d == dialect.Postgres {
		s.lock = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
	}
	return s
}

// take counts an attempt for each key unless one has max live marks.
func (m *Marks) take(ctx context.Context, name string, keys []string, max int, window time.Duration, now time.Time) (ids []int, wait time.Duration, err error) {
	now = now.UTC()
	m.sweepExpired(ctx, now)
	hashed := make([]string, len(keys))
	for i, k := range keys {
		sum := sha256.Sum256([]byte(name + "\x00" + k))
		hashed[i] = hex.EncodeToString(sum[:])
	}
	slices.Sort(hashed) // one lock order for every transaction
	hashed = slices.Compact(hashed)
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("throttle: begin: %w", err)
	}
	defer tx.Rollback()
	for _, h := range hashed {
		if w, err := m.waitFor(ctx, tx, h, max, now); err != nil {
			return nil, 0, err
		} else if w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return nil, wait, nil
	}
	for _, h := range hashed {
		var id int
		if err := tx.QueryRowContext(ctx, m.stmts.insert, h, now.Add(window)).Scan(&id); err != nil {
			return nil, 0, fmt.Errorf("throttle: count attempt: %w", err)
		}
		ids = append(ids, id)
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("throttle: commit: %w", err)
	}
	return ids, 0, nil
}

// waitFor locks a hashed key and says how long until it has fewer than max
// live marks.
func (m *Marks) waitFor(ctx context.Context, tx *sql.Tx, hashed string, max int, now time.Time) (time.Duration, error) {
	if m.stmts.lock != "" {
		if _, err := tx.ExecContext(ctx, m.stmts.lock, hashed); err != nil {
			return 0, fmt.Errorf("throttle: lock: %w", err)
		}
	}
	rows, err := tx.QueryContext(ctx, m.stmts.live, hashed, now)
	if err != nil {
		return 0, fmt.Errorf("throttle: read attempts: %w", err)
	}
	defer rows.Close()
	var live []time.Time
	for rows.Next() {
		var exp time.Time
		if err := rows.Scan(&exp); err != nil {
			return 0, fmt.Errorf("throttle: read attempts: %w", err)
		}
		live = append(live, exp)
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("throttle: read attempts: %w", err)
	}
	if len(live) < max {
		return 0, nil
	}
	return live[len(live)-max].Sub(now), nil
}

// remove deletes marks, for attempts that must not count.
func (m *Marks) remove(ctx context.Context, ids []int) error {
	if len(ids) == 0 {
		return nil
	}
	q := fmt.Sprintf(`DELETE FROM %s WHERE %s IN (%s)`, throttlemark.Table, throttlemark.FieldID, strings.TrimSuffix(strings.Repeat("?,", len(ids)), ","))
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	if _, err := m.db.ExecContext(ctx, database.Rebind(m.dialect, q), args...); err != nil {
		return fmt.Errorf("throttle: return attempts: %w", err)
	}
	return nil
}

// sweepExpired deletes expired marks at most once a minute per process, so
// that keys never tried again do not stay for ever. Failing is harmless:
// expired marks do not count, and the next sweep takes them.
func (m *Marks) sweepExpired(ctx context.Context, now time.Time) {
	last := m.swept.Load()
	if now.Unix()-last < 60 || !m.swept.CompareAndSwap(last, now.Unix()) {
		return
	}
	_, _ = m.db.ExecContext(ctx, m.stmts.sweep, now)
}
