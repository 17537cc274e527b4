package rollup

import (
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent/usagerecord"
	"github.com/sluicehq/sluice/ent/usagerollup"
	"github.com/sluicehq/sluice/latencyhist"
)

// The roll-ups' statements, built from ent's names: the report by ent's
// SQL builder, the upsert and the prune by hand (ent's builder does not
// say "add to the existing row" or "delete a limited batch"), once, with ?
// placeholders that database.Rebind numbers for PostgreSQL.

// rollupKey is a roll-up row's key, the upsert's conflict target.
var rollupKey = []string{usagerollup.FieldHour, usagerollup.FieldOrganizationID, usagerollup.FieldServiceID,
	usagerollup.FieldAPIKeyID, usagerollup.FieldModel}

// rollupCounters are the columns the upsert adds to besides the latency
// histogram, in the order of an upserted row's elements.
var rollupCounters = []string{usagerollup.FieldRequests, usagerollup.FieldErrors, usagerollup.FieldUnpricedRequests,
	usagerollup.FieldInputTokens, usagerollup.FieldOutputTokens, usagerollup.FieldCachedInputTokens,
	usagerollup.FieldCost, usagerollup.FieldLatencyUsSum,
	usagerollup.FieldCacheWriteTokens, usagerollup.FieldCacheWrite1hTokens, usagerollup.FieldRefusedRequests}

// rollupSums are the columns the upsert adds to: the counters, then the
// latency histogram's buckets.
var rollupSums = append(slices.Clone(rollupCounters), histogramColumns()...)

func histogramColumns() []string {
	c := make([]string, latencyhist.Buckets)
	for i := range c {
		c[i] = latencyhist.Column(i)
	}
	return c
}

// The upsert differs by dialect, each in the form its database runs
// fastest: SQLite, in process, runs one prepared single-row statement
// once a row; PostgreSQL takes the batch as one array a column, which it
// unnests, so that one round trip and one small statement carry it
// however large it is. A zero histogram count is stored as NULL.
var (
	sqlUpsertSQLite   = upsertSQL(strings.TrimSuffix(strings.Repeat("?, ", len(rollupKey)+len(rollupSums)), ", "), "VALUES (%s)")
	sqlUpsertPostgres = func() string {
		types := make([]string, 0, len(rollupKey)+len(rollupSums))
		names := make([]string, 0, cap(types))
		for _, c := range append(slices.Clone(rollupKey), rollupSums...) {
			typ := "bigint[]"
			switch c {
			case usagerollup.FieldHour:
				typ = "timestamptz[]"
			case usagerollup.FieldModel:
				typ = "text[]"
			}
			types = append(types, "CAST(? AS "+typ+")")
			names = append(names, c)
		}
		return upsertSQL(strings.Join(names, ", "),
			"SELECT %s FROM unnest("+strings.Join(types, ", ")+") AS v("+strings.Join(names, ", ")+")")
	}()
)

// upsertSQL builds the upsert from the values of one row (or the column
// names of a set of rows) and the clause that produces them.
func upsertSQL(values, source string) string {
	cols := append(slices.Clone(rollupKey), rollupSums...)
	vals := strings.Split(values, ", ")
	for i := len(rollupKey) + len(rollupCounters); i < len(vals); i++ {
		vals[i] = "NULLIF(" + vals[i] + ", 0)"
	}
	// Columns added later are NULL in older rows, and an empty histogram
	// bucket stays NULL.
	set := make([]string, len(rollupSums))
	for i, c := range rollupSums {
		if i < len(rollupCounters) {
			set[i] = fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s, 0) + excluded.%[2]s", usagerollup.Table, c)
		} else {
			set[i] = fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s + excluded.%[2]s, %[1]s.%[2]s, excluded.%[2]s)", usagerollup.Table, c)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s)\n"+source+"\nON CONFLICT (%s) DO UPDATE SET\n%s",
		usagerollup.Table, strings.Join(cols, ", "), strings.Join(vals, ", "),
		strings.Join(rollupKey, ", "), strings.Join(set, ",\n"))
}

// upsertFor is the upsert of the dialect.
func upsertFor(dialectName string) string {
	if dialectName == dialect.Postgres {
		return sqlUpsertPostgres
	}
	return sqlUpsertSQLite
}

var (
	// sqlPrune deletes a batch of raw records created before its first
	// argument, as many as its second.
	sqlPrune = fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[3]s < ? LIMIT ?)`,
		usagerecord.Table, usagerecord.FieldID, usagerecord.FieldCreatedAt)
)

// reportSQL sums the roll-ups where pred holds by bucket and the group
// column (model, service_id or api_key_id): by
// hour, or by day (as YYYY-MM-DD in UTC), summed by the database so that a
// long report carries a row a day, not one an hour.
func reportSQL(dialectName string, pred *entsql.Predicate, bucket Bucket, group string) (string, []any) {
	start := usagerollup.FieldHour
	if bucket == ByDay {
		start = "substr(" + usagerollup.FieldHour + ", 1, 10)"
		if dialectName == dialect.Postgres {
			start = "to_char(" + usagerollup.FieldHour + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		}
	}
	sums := make([]string, 0, len(rollupSums)+2)
	sums = append(sums, entsql.As(start, "bucket"), group)
	for _, c := range rollupSums {
		sums = append(sums, entsql.Sum(c))
	}
	return entsql.Dialect(dialectName).
		Select(sums...).
		From(entsql.Table(usagerollup.Table)).
		Where(pred).
		GroupBy("bucket", group).
		OrderBy("bucket").
		Query()
}

// statements lists the statements above for the dialect, for the test that
// prepares them against the migrated schema, with ? placeholders.
func statements(dialectName string) []string {
	report, _ := reportSQL(dialectName, entsql.And(
		entsql.EQ(usagerollup.FieldOrganizationID, 0), entsql.EQ(usagerollup.FieldServiceID, 0),
		entsql.EQ(usagerollup.FieldAPIKeyID, 0), entsql.EQ(usagerollup.FieldModel, ""),
		entsql.GTE(usagerollup.FieldHour, 0), entsql.LT(usagerollup.FieldHour, 0)), ByDay, usagerollup.FieldModel)
	return []string{upsertFor(dialectName), sqlPrune, report}
}
