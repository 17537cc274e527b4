package rollup

// Statements is every hand-written statement the roll-ups run on the
// dialect.
func Statements(dialectName string) []string { return statements(dialectName) }
