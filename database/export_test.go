package database

import "database/sql"

// CachedStatements is how many shared statements Prepared holds.
func CachedStatements(d *DB) int {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	return len(d.stmts.m)
}

// CloseStatements is the first half of Close: Prepared's statements and
// background preparations end, the pool stays open.
func CloseStatements(d *DB) { d.stmts.closeStatements() }

// Warming is how many statements are being prepared in the background.
func Warming(d *DB) int {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	return len(d.stmts.warming)
}

// OpenPostgresPool opens a pool of one PostgreSQL connection, at dsn, that
// keeps at most perConn statements prepared.
func OpenPostgresPool(dsn string, perConn int) (*sql.DB, error) {
	c, err := newPGConnector(dsn)
	if err != nil {
		return nil, err
	}
	c.perConn = perConn
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db, nil
}

// CountStatisticsFrom makes Optimize count the statistics of tables of n
// rows or more, and calls during after each index it counts, until t ends.
func CountStatisticsFrom(t interface{ Cleanup(func()) }, n int, during func()) {
	was := countedFrom
	countedFrom, countedIndex = n, during
	t.Cleanup(func() { countedFrom, countedIndex = was, nil })
}
