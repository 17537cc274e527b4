package database

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
)

// Optimize refreshes SQLite's query-planner statistics (PRAGMA optimize:
// only tables whose statistics are missing or stale are analyzed, each
// with a bounded amount of work), without which SQLite may read a
// filter's rows through the wrong index. PostgreSQL's autovacuum keeps its
// own statistics; there it does nothing.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Dialect != dialect.SQLite {
		return nil
	}
	// 0x10000: every table, not only those this connection queried;
	// 0x02: analyze where it would help.
	if _, err := d.SQL.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize sqlite statistics: %w", err)
	}
	return nil
}
