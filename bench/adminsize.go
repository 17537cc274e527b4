package main

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
)

// dbSize is a database's size as live pages, in all and per table (with
// its indexes).
type dbSize struct {
	Total int64
	// Tables maps a table to its size with its indexes; empty when the
	// database cannot say (an SQLite without the dbstat table).
	Tables map[string]int64
	Note   string
}

// measureSize reads the size of the database at target: on SQLite
// (page_count − freelist_count) × page_size, split by the dbstat virtual
// table; on PostgreSQL pg_total_relation_size of each table of the schema.
func measureSize(ctx context.Context, target database.Target) (*dbSize, error) {
	db, err := database.Open(ctx, target)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if db.Dialect == dialect.Postgres {
		return postgresSize(ctx, db.SQL)
	}
	return sqliteSize(ctx, db.SQL)
}

func sqliteSize(ctx context.Context, db *sql.DB) (*dbSize, error) {
	var pages, free, pageSize int64
	for _, p := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &pageSize}} {
		if err := db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.into); err != nil {
			return nil, fmt.Errorf("read SQLite %s: %w", p.pragma, err)
		}
	}
	s := &dbSize{Total: (pages - free) * pageSize, Tables: map[string]int64{}}
	rows, err := db.QueryContext(ctx, `SELECT COALESCE(m.tbl_name, d.name), SUM(d.pgsize)
		FROM dbstat AS d LEFT JOIN sqlite_master AS m ON m.name = d.name
		WHERE d.aggregate = TRUE GROUP BY 1`)
	if err != nil {
		s.Note = "no per-table split: " + err.Error()
		return s, nil
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("read dbstat: %w", err)
		}
		s.Tables[name] += n
	}
	return s, rows.Err()
}

func postgresSize(ctx context.Context, db *sql.DB) (*dbSize, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')`)
	if err != nil {
		return nil, fmt.Errorf("read table sizes: %w", err)
	}
	defer rows.Close()
	s := &dbSize{Tables: map[string]int64{}}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("read table sizes: %w", err)
		}
		s.Tables[name] = n
		s.Total += n
	}
	return s, rows.Err()
}

// largest lists the tables by size, largest first, those under min
// bytes left out.
func (s *dbSize) largest(minBytes int64) []string {
	var out []string
	for t, n := range s.Tables {
		if n >= minBytes {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return s.Tables[out[i]] > s.Tables[out[j]] })
	return out
}
