package database

// CachedStatements is how many shared statements Prepared holds.
func CachedStatements(d *DB) int {
	d.stmts.mu.Lock()
	defer d.stmts.mu.Unlock()
	return len(d.stmts.m)
}
