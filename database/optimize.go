package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
)

// countedFrom is the row count from which Optimize counts a table's
// statistics itself instead of letting ANALYZE do it.
var countedFrom = 100_000

// countedIndex, when set (by tests), runs after each index is counted.
var countedIndex func()

// Optimize refreshes SQLite's query-planner statistics, without which
// SQLite may read a filter's rows through the wrong index. ANALYZE counts
// under the write lock: on a table of ten million rows without statistics
// (a database restored, loaded or rebuilt by a migration) that held every
// writer off for longer than the busy timeout. So a table of countedFrom
// rows or more whose statistics are missing, or off by half or more, is
// counted here by plain reads, which under WAL block no writer, and only
// the result is written; PRAGMA optimize then finds its statistics fresh
// and analyzes the small tables that need it. PostgreSQL's autovacuum
// keeps its own statistics; there it does nothing.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Dialect != dialect.SQLite {
		return nil
	}
	// One connection throughout: PRAGMA optimize judges staleness by the
	// statistics its connection loaded, which must be the ones counted.
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return fmt.Errorf("optimize sqlite statistics: %w", err)
	}
	defer conn.Close()
	if err := countStatistics(ctx, conn); err != nil {
		return err
	}
	// 0x10000: every table, not only those this connection queried;
	// 0x02: analyze where it would help.
	if _, err := conn.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		return fmt.Errorf("optimize sqlite statistics: %w", err)
	}
	return nil
}

// countStatistics counts the statistics of each large table whose
// statistics are missing or stale.
func countStatistics(ctx context.Context, conn *sql.Conn) error {
	// Creates sqlite_stat1 when it is missing; analyzes nothing else.
	if _, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema"); err != nil {
		return fmt.Errorf("create sqlite statistics table: %w", err)
	}
	tables, err := texts(ctx, conn, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	for _, table := range tables {
		// The span of row ids, two index seeks, is at least the row count
		// and close to it in a table rows are appended to: a table whose
		// span is under countedFrom, or that its statistics agree with,
		// is left without counting its rows, so that Optimize costs next
		// to nothing on a database whose statistics are fresh.
		// A table without row ids (WITHOUT ROWID) has its rows counted.
		// (Each of max and min alone in its SELECT: together they would
		// read the whole table.)
		var span int
		q := "SELECT coalesce((SELECT max(rowid) FROM " + quoteIdent(table) + ") - (SELECT min(rowid) FROM " + quoteIdent(table) + ") + 1, 0)"
		if err := conn.QueryRowContext(ctx, q).Scan(&span); err == nil &&
			(span < countedFrom || !staleStatistics(ctx, conn, table, span)) {
			continue
		}
		var rows int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&rows); err != nil {
			return fmt.Errorf("count %s: %w", table, err)
		}
		if rows < countedFrom || !staleStatistics(ctx, conn, table, rows) {
			continue
		}
		stats, err := tableStatistics(ctx, conn, table, rows)
		if err != nil {
			return fmt.Errorf("count statistics of %s: %w", table, err)
		}
		if stats == nil {
			continue // an index on an expression: left to ANALYZE
		}
		if err := writeStatistics(ctx, conn, table, stats); err != nil {
			return fmt.Errorf("write statistics of %s: %w", table, err)
		}
	}
	// The connection's planner, and PRAGMA optimize, read the new
	// statistics.
	if _, err := conn.ExecContext(ctx, "ANALYZE sqlite_schema"); err != nil {
		return fmt.Errorf("reload sqlite statistics: %w", err)
	}
	return nil
}

// staleStatistics reports whether table's statistics are missing or give
// a row count under half or over twice rows. The row count is the largest
// line's first number: a partial index's line counts only its rows.
func staleStatistics(ctx context.Context, conn *sql.Conn, table string, rows int) bool {
	var n sql.NullInt64
	err := conn.QueryRowContext(ctx, "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = ?", table).Scan(&n)
	return err != nil || !n.Valid || int(n.Int64)*2 < rows || int(n.Int64) > rows*2
}

// tableStatistics is each index's sqlite_stat1 line, by index name, as
// ANALYZE would write it: the index's rows, then for each leading run of
// its columns the average number of rows that share one value of them; a
// table without indexes has one line, its rows, under "". It is nil when
// an index is on an expression, which is not counted here.
func tableStatistics(ctx context.Context, conn *sql.Conn, table string, rows int) (map[string]string, error) {
	indexes, err := texts(ctx, conn, "SELECT name FROM pragma_index_list(?)", table)
	if err != nil {
		return nil, err
	}
	if len(indexes) == 0 {
		return map[string]string{"": strconv.Itoa(rows)}, nil // the table's own line
	}
	stats := make(map[string]string, len(indexes))
	for _, index := range indexes {
		columns, err := texts(ctx, conn, "SELECT coalesce(name, '') FROM pragma_index_info(?) ORDER BY seqno", index)
		if err != nil {
			return nil, err
		}
		var where string
		var definition sql.NullString
		if err := conn.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?", index).Scan(&definition); err != nil && err != sql.ErrNoRows {
			return nil, err
		}
		if i := strings.LastIndex(strings.ToUpper(definition.String), " WHERE "); i >= 0 {
			where = " WHERE " + definition.String[i+len(" WHERE "):]
		}
		from := quoteIdent(table) + " INDEXED BY " + quoteIdent(index) + where
		n := rows
		if where != "" {
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM "+from).Scan(&n); err != nil {
				return nil, err
			}
		}
		line := []string{strconv.Itoa(n)}
		for k := range columns {
			if columns[k] == "" {
				return nil, nil
			}
			quoted := make([]string, k+1)
			for i, c := range columns[:k+1] {
				quoted[i] = quoteIdent(c)
			}
			var distinct int
			if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM "+from+" GROUP BY "+strings.Join(quoted, ", ")+")").Scan(&distinct); err != nil {
				return nil, err
			}
			line = append(line, strconv.Itoa(rowsPerValue(n, distinct)))
		}
		if n > 0 {
			stats[index] = strings.Join(line, " ")
		}
		if countedIndex != nil {
			countedIndex()
		}
	}
	return stats, nil
}

// rowsPerValue is the average rows per distinct value as ANALYZE rounds
// it: up, except that a nearly unique run (under 10% repeats) is 1.
func rowsPerValue(rows, distinct int) int {
	if distinct == 0 {
		return 0
	}
	v := (rows + distinct - 1) / distinct
	if v == 2 && rows*10 <= distinct*11 {
		v = 1
	}
	return v
}

// writeStatistics replaces table's statistics with stats, in one short
// write.
func writeStatistics(ctx context.Context, conn *sql.Conn, table string, stats map[string]string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM sqlite_stat1 WHERE tbl = ?", table); err != nil {
		return err
	}
	// Samples ANALYZE took of the table before, when SQLite keeps them,
	// would no longer match.
	if _, err := tx.ExecContext(ctx, "DELETE FROM sqlite_stat4 WHERE tbl = ?", table); err != nil && !strings.Contains(err.Error(), "no such table") {
		return err
	}
	for index, stat := range stats {
		idx := sql.NullString{String: index, Valid: index != ""}
		if _, err := tx.ExecContext(ctx, "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", table, idx, stat); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// texts runs query and returns its one text column.
func texts(ctx context.Context, conn *sql.Conn, query string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// quoteIdent quotes an SQLite identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
