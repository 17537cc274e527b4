package database

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
)

// The batches of DeleteBefore: at most pruneBatch rows, fewer when a batch
// takes longer than pruneBatchTime, so that no delete holds SQLite's one
// write lock (or PostgreSQL's I/O) for long.
const (
	pruneBatch     = 5000
	minPruneBatch  = 250
	pruneBatchTime = 100 * time.Millisecond
)

// DeleteBefore runs query, a DELETE of the rows its arguments select
// (args) and at most its last argument (a batch size, appended here),
// until a batch deletes fewer than it was allowed, and returns how many
// rows went. Short transactions mean a long backlog holds no huge one; on
// SQLite, where writers take turns on one lock and a waiting writer polls
// for it, it rests between batches as long as the last one took (at least
// pruneBatchTime), so that the write-behind writers get the lock between
// them instead of waiting out the whole delete.
func (d *DB) DeleteBefore(ctx context.Context, query string, args ...any) (int64, error) {
	var total int64
	size := pruneBatch
	query = Rebind(d.Dialect, query)
	for {
		start := time.Now()
		res, err := d.SQL.ExecContext(ctx, query, append(args, size)...)
		if err != nil {
			return total, fmt.Errorf("delete in batches: %w", err)
		}
		took := time.Since(start)
		n, _ := res.RowsAffected()
		total += n
		if n < int64(size) {
			return total, nil
		}
		if took > pruneBatchTime {
			size = max(minPruneBatch, int(int64(size)*int64(pruneBatchTime)/int64(took)))
		} else {
			size = min(pruneBatch, size*2)
		}
		if d.Dialect == dialect.Postgres {
			continue
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(max(took, pruneBatchTime)):
		}
	}
}
