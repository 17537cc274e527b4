package database

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
