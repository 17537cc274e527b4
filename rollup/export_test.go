package rollup

// Statements is every hand-written statement the roll-ups run on the
// dialect.
func Statements(dialectName string) []string { return statements(dialectName) }

// ReportSQL is each statement of the report of a filter, with its
// arguments, for their plans.
func ReportSQL(dialectName string, f Filter, b Bucket) (queries []string, args [][]any) {
	for _, p := range f.parts(b) {
		series, byModel := p.sql(dialectName, b, rollupSums)
		for _, st := range []statement{series, byModel} {
			queries, args = append(queries, st.query), append(args, st.args)
		}
	}
	return queries, args
}

// PruneSQL is the prune's two statements: the first kept record, and a
// batch's delete.
func PruneSQL() (from, del string) { return sqlPruneFrom, sqlPrune }
