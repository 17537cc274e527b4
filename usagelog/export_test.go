package usagelog

// Statements is every hand-written statement the writer runs on the
// dialect.
func Statements(dialectName string) []string { return statements(dialectName) }
