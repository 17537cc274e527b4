package budget

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
)

// Sweep releases leases that expired without being renewed (their
// replica died, or stalled past leaseTTL) and returns how many; Run calls
// it every 30 s.
func (l *Leased) Sweep(ctx context.Context) (int, error) {
	now := l.clock()
	rows, err := l.db.SQL.QueryContext(ctx, l.q(sqlLeasesExpired), now)
	if err != nil {
		return 0, fmt.Errorf("sweep reservations: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for _, id := range ids {
		released, err := l.release(ctx, id)
		if err != nil {
			return n, err
		}
		if released {
			n++
		}
	}
	return n, nil
}

// release returns one expired lease's hold to its window, unless it was
// handed back or renewed meanwhile.
func (l *Leased) release(ctx context.Context, id int64) (bool, error) {
	now := l.clock()
	tx, err := l.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after commit
	var idsJSON string
	err = tx.QueryRowContext(ctx, l.q(sqlLeaseWindows), id, now).Scan(&idsJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // handed back, or renewed, meanwhile
	} else if err != nil {
		return false, fmt.Errorf("release reservation %d: %w", id, err)
	}
	var windowIDs []int
	_ = json.Unmarshal([]byte(idsJSON), &windowIDs)
	if l.db.Dialect == dialect.Postgres && len(windowIDs) > 0 {
		// Window rows first, in the canonical order, as leases' grants
		// and flushes lock them before their lease row.
		rows, err := tx.QueryContext(ctx, l.q(lockWindowsSQL(len(windowIDs))), intArgs(windowIDs)...)
		if err != nil {
			return false, fmt.Errorf("release reservation %d: lock windows: %w", id, err)
		}
		rows.Close()
	}
	// Still expired: a lease renewed since the SELECT stays.
	var amount int64
	if err := tx.QueryRowContext(ctx, l.q(sqlLeaseSweep), id, now).Scan(&amount); errors.Is(err, sql.ErrNoRows) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("release reservation %d: %w", id, err)
	}
	if len(windowIDs) > 0 {
		if _, err := tx.ExecContext(ctx, l.q(unreserveSQL(len(windowIDs))),
			append([]any{amount}, intArgs(windowIDs)...)...); err != nil {
			return false, fmt.Errorf("release reservation %d: %w", id, err)
		}
	}
	return true, tx.Commit()
}
