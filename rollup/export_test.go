package rollup

// Statements is every hand-written statement the roll-ups run on the
// dialect.
func Statements(dialectName string) []string { return statements(dialectName) }

// ReportSQL is the report's statement for a filter, for its plan.
func ReportSQL(dialectName string, f Filter, b Bucket) (string, []any) {
	return reportSQL(dialectName, f.predicate(), b, "model")
}
