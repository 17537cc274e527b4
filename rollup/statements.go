package rollup

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/ent/usagerollup"
	"github.com/sluicehq/sluice/ent/usagerollupday"
	"github.com/sluicehq/sluice/latencyhist"
)

// The roll-ups' statements, built from ent's names: the report by ent's
// SQL builder, the upsert and the prune by hand (ent's builder does not
// say "add to the existing row" or "delete a limited batch"), once, with ?
// placeholders that database.Rebind numbers for PostgreSQL.

// rollupCounters are the columns the upsert adds to besides the latency
// histogram, in the order of an upserted row's elements.
var rollupCounters = []string{usagerollup.FieldRequests, usagerollup.FieldErrors, usagerollup.FieldUnpricedRequests,
	usagerollup.FieldInputTokens, usagerollup.FieldOutputTokens, usagerollup.FieldCachedInputTokens,
	usagerollup.FieldCost, usagerollup.FieldLatencyUsSum,
	usagerollup.FieldCacheWriteTokens, usagerollup.FieldCacheWrite1hTokens, usagerollup.FieldRefusedRequests}

// rollupSums are the columns the upsert adds to: the counters, then the
// latency histogram's buckets. Both roll-up tables have them.
var rollupSums = append(slices.Clone(rollupCounters), histogramColumns()...)

func histogramColumns() []string {
	c := make([]string, latencyhist.Buckets)
	for i := range c {
		c[i] = latencyhist.Column(i)
	}
	return c
}

// A table is a roll-up table: its name, its key (the upsert's conflict
// target: a time, ids, then the model) and its upsert in each dialect.
type table struct {
	name string
	key  []string
	// ids is how many of the key's columns after the first are ids.
	ids int
	// values are a row's key values after the time: its ids.
	values func(k key) []int64
	// The upsert differs by dialect, each in the form its database runs
	// fastest: SQLite, in process, runs one prepared single-row statement
	// once a row; PostgreSQL takes the batch as one array a column, which
	// it unnests, so that one round trip and one small statement carry it
	// however large it is. A zero histogram count is stored as NULL.
	upsertSQLite, upsertPostgres string
}

// The roll-up tables: hours by key (and the organization's own rows), and
// the organization's days.
var (
	hourly = newTable(usagerollup.Table, []string{usagerollup.FieldHour, usagerollup.FieldOrganizationID,
		usagerollup.FieldServiceID, usagerollup.FieldAPIKeyID, usagerollup.FieldModel},
		func(k key) []int64 { return []int64{int64(k.org), int64(k.service), int64(k.apiKey)} })
	daily = newTable(usagerollupday.Table, []string{usagerollupday.FieldDay, usagerollupday.FieldOrganizationID,
		usagerollupday.FieldModel},
		func(k key) []int64 { return []int64{int64(k.org)} })
)

func newTable(name string, keyColumns []string, values func(key) []int64) *table {
	t := &table{name: name, key: keyColumns, ids: len(keyColumns) - 2, values: values}
	t.upsertSQLite = t.upsertSQL(strings.TrimSuffix(strings.Repeat("?, ", len(t.key)+len(rollupSums)), ", "), "VALUES (%s)")
	types := make([]string, 0, len(t.key)+len(rollupSums))
	names := append(slices.Clone(t.key), rollupSums...)
	for i := range names {
		typ := "bigint[]"
		switch i {
		case 0:
			typ = "timestamptz[]"
		case len(t.key) - 1:
			typ = "text[]"
		}
		types = append(types, "CAST(? AS "+typ+")")
	}
	t.upsertPostgres = t.upsertSQL(strings.Join(names, ", "),
		"SELECT %s FROM unnest("+strings.Join(types, ", ")+") AS v("+strings.Join(names, ", ")+")")
	return t
}

// upsertSQL builds the upsert from the values of one row (or the column
// names of a set of rows) and the clause that produces them.
func (t *table) upsertSQL(values, source string) string {
	cols := append(slices.Clone(t.key), rollupSums...)
	vals := strings.Split(values, ", ")
	for i := len(t.key) + len(rollupCounters); i < len(vals); i++ {
		vals[i] = "NULLIF(" + vals[i] + ", 0)"
	}
	// Columns added later are NULL in older rows, and an empty histogram
	// bucket stays NULL.
	set := make([]string, len(rollupSums))
	for i, c := range rollupSums {
		if i < len(rollupCounters) {
			set[i] = fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s, 0) + excluded.%[2]s", t.name, c)
		} else {
			set[i] = fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s + excluded.%[2]s, %[1]s.%[2]s, excluded.%[2]s)", t.name, c)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\n"+source+"\nON CONFLICT (%s) DO UPDATE SET\n%s",
		t.name, strings.Join(cols, ", "), strings.Join(vals, ", "),
		strings.Join(t.key, ", "), strings.Join(set, ",\n"))
}

// upsert is the table's upsert in the dialect.
func (t *table) upsert(dialectName string) string {
	if dialectName == dialect.Postgres {
		return t.upsertPostgres
	}
	return t.upsertSQLite
}

var (
	// sqlPruneFrom is the first record, in the order records were
	// written, created at or after its argument: the records before it are
	// the old ones (but for a few written late).
	sqlPruneFrom = fmt.Sprintf(`SELECT %[2]s FROM %[1]s WHERE %[3]s >= ? ORDER BY %[2]s LIMIT 1`,
		usagerecord.Table, usagerecord.FieldID, usagerecord.FieldCreatedAt)
	// sqlPrune deletes a batch of raw records written before the record
	// its first argument names and created before its second, as many as
	// its third. Reading by id from the first, it reads the old records
	// and stops, where the created_at condition alone, which no index
	// leads with, read the whole table for the last batch of every prune
	// when SQLite had no planner statistics: 6.7 s under its write lock at
	// ten million records.
	sqlPrune = fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[2]s < ? AND %[3]s < ? LIMIT ?)`,
		usagerecord.Table, usagerecord.FieldID, usagerecord.FieldCreatedAt)
)

// A statement is a query and its arguments.
type statement struct {
	query string
	args  []any
}

// splitSQL sums the hourly rows a filter selects by bucket and by model,
// service or key: the organization's own rows by model, a service's or
// key's own rows by service or key.
func splitSQL(dialectName string, f Filter, bucket Bucket, by SplitBy) (statement, error) {
	col, pred := usagerollup.FieldModel, f.predicate()
	switch by {
	case SplitModel:
	case SplitService:
		col = usagerollup.FieldServiceID
		pred = entsql.And(f.part(), entsql.NEQ(usagerollup.FieldServiceID, 0))
	case SplitAPIKey:
		col = usagerollup.FieldAPIKeyID
		pred = entsql.And(f.part(), entsql.NEQ(usagerollup.FieldAPIKeyID, 0))
	default:
		return statement{}, fmt.Errorf("unknown split %q", by)
	}
	return sumSQL(dialectName, usagerollup.Table, rollupSums, pred, bucketOf(dialectName, bucket), col), nil
}

// bucketOf is the expression of an hourly row's bucket: its hour, or its
// day as YYYY-MM-DD in UTC, so that the database sums a long report by day
// and hands over a row a day, not one an hour.
func bucketOf(dialectName string, bucket Bucket) string {
	switch {
	case bucket != ByDay:
		return usagerollup.FieldHour
	case dialectName == dialect.Postgres:
		return "to_char(" + usagerollup.FieldHour + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "strftime('%Y-%m-%d', " + usagerollup.FieldHour + " / 1000000, 'unixepoch')"
}

// sumSQL sums the columns sums (rollupSums, or rollupCounters alone) of
// the rows of a roll-up table where pred holds by each of the expressions
// by (grp, grp2, …): the groups, then the sums, in the order scanSums
// scans.
func sumSQL(dialectName, table string, sums []string, pred *entsql.Predicate, by ...string) statement {
	cols := make([]string, 0, len(sums)+len(by))
	groups := make([]string, len(by))
	for i, b := range by {
		groups[i] = "grp"
		if i > 0 {
			groups[i] = fmt.Sprintf("grp%d", i+1)
		}
		cols = append(cols, entsql.As(b, groups[i]))
	}
	for _, c := range sums {
		cols = append(cols, entsql.Sum(c))
	}
	q, args := entsql.Dialect(dialectName).
		Select(cols...).
		From(entsql.Table(table)).
		Where(pred).
		GroupBy(groups...).
		Query()
	return statement{q, args}
}

// statements lists the statements above for the dialect, for the test that
// prepares them against the migrated schema, with ? placeholders.
func statements(dialectName string) []string {
	out := []string{hourly.upsert(dialectName), daily.upsert(dialectName), sqlPruneFrom, sqlPrune}
	f := Filter{OrgID: 1, Model: "m", From: time.Unix(3600, 0), To: time.Unix(10*86400+3600, 0)}
	for _, p := range f.parts(ByDay) {
		series, byModel := p.sql(dialectName, ByDay, rollupSums)
		out = append(out, series.query, byModel.query)
	}
	for _, by := range []SplitBy{SplitModel, SplitService, SplitAPIKey} {
		st, err := splitSQL(dialectName, f, ByDay, by)
		if err != nil {
			panic(err)
		}
		out = append(out, st.query)
	}
	return out
}
