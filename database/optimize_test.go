package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestOptimize: on SQLite, Optimize leaves statistics for an indexed
// table the planner can use; on PostgreSQL it does nothing and fails not.
func TestOptimize(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var values []string
		for i := range 500 {
			values = append(values, fmt.Sprintf("('k%d', '2026-01-01 00:00:00')", i))
		}
		if _, err := db.SQL.ExecContext(ctx, "INSERT INTO throttle_marks (key, expires_at) VALUES "+strings.Join(values, ",")); err != nil {
			t.Fatal(err)
		}
		if err := db.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		if db.Dialect != dialect.SQLite {
			return
		}
		var n int
		if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'throttle_marks'").Scan(&n); err != nil {
			t.Fatalf("no statistics table after Optimize: %v", err)
		}
		if n == 0 {
			t.Fatal("Optimize left no statistics for an indexed table of 500 rows")
		}
	})
}

// TestOptimizeCountsLargeTables: on SQLite, a table of the counted size
// gets from Optimize the statistics ANALYZE would write, counted while
// another connection writes without waiting, and PRAGMA optimize does not
// analyze it again; they are counted again once the table's rows double,
// not before.
func TestOptimizeCountsLargeTables(t *testing.T) {
	db := testenv.New(t, dialect.SQLite)
	ctx := context.Background()
	writer, err := sql.Open("sqlite", db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	writer.SetMaxOpenConns(1)
	if _, err := writer.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	var writes int
	database.CountStatisticsFrom(t, 1_000, func() {
		// Fails at once with SQLITE_BUSY if counting held the write lock.
		if _, err := writer.ExecContext(ctx, "INSERT INTO throttle_marks (key, expires_at) VALUES (?, '2026-01-01 00:00:00')", fmt.Sprint("w", writes)); err != nil {
			t.Errorf("a write while Optimize counts: %v", err)
		}
		writes++
	})
	for _, q := range []string{
		"CREATE TABLE probe (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, c TEXT)",
		"CREATE INDEX probe_a_b ON probe (a, b)",
		"CREATE INDEX probe_c ON probe (c)",
		"CREATE INDEX probe_errors ON probe (a) WHERE b >= 40",
		"CREATE UNIQUE INDEX probe_b_id ON probe (b, id)",
		"CREATE TABLE plain (x INTEGER)",
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	fill := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := db.SQL.ExecContext(ctx, "INSERT INTO probe (a, b, c) VALUES (?, ?, ?); INSERT INTO plain (x) VALUES (?)",
				i%7, i%50, fmt.Sprint("c", i%300), i); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats := func() map[string]string {
		t.Helper()
		rows, err := db.SQL.QueryContext(ctx, "SELECT tbl || '.' || coalesce(idx, ''), stat FROM sqlite_stat1 WHERE tbl IN ('probe', 'plain')")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			m[k] = v
		}
		return m
	}
	fill(0, 3_000)
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	counted := stats()
	var samples int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_stat4 WHERE tbl = 'probe'").Scan(&samples); err != nil {
		t.Fatal(err)
	}
	if samples != 0 { // PRAGMA optimize judged the counted statistics missing
		t.Errorf("ANALYZE ran on probe after it was counted (%d samples)", samples)
	}
	if writes != 4 {
		t.Errorf("%d writes while counting, want one after each of probe's 4 indexes", writes)
	}
	if _, err := db.SQL.ExecContext(ctx, "DELETE FROM sqlite_stat1 WHERE tbl IN ('probe', 'plain'); ANALYZE probe; ANALYZE plain"); err != nil {
		t.Fatal(err)
	}
	analyzed := stats()
	if len(counted) != 5 || fmt.Sprint(counted) != fmt.Sprint(analyzed) {
		t.Fatalf("Optimize counted %v, ANALYZE wrote %v", counted, analyzed)
	}

	// The partial index's line first, which counts only its own rows: the
	// table's row count is its largest line's.
	if _, err := db.SQL.ExecContext(ctx, `CREATE TEMP TABLE kept AS SELECT * FROM sqlite_stat1 WHERE tbl = 'probe';
		DELETE FROM sqlite_stat1 WHERE tbl = 'probe';
		INSERT INTO sqlite_stat1 SELECT * FROM kept ORDER BY idx != 'probe_errors';
		DROP TABLE kept`); err != nil {
		t.Fatal(err)
	}
	fill(3_000, 4_000) // a third more: not stale
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stats()["probe.probe_c"]; got != analyzed["probe.probe_c"] {
		t.Errorf("statistics recounted after a third more rows: %q, want %q kept", got, analyzed["probe.probe_c"])
	}
	fill(4_000, 7_000) // more than doubled since counted
	if err := db.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if got := stats()["probe.probe_c"]; got != "7000 24" {
		t.Errorf("statistics after the rows doubled: %q, want %q", got, "7000 24")
	}
}
