package rollup

import (
	"fmt"
	"strings"

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

// rollupSums are the columns the upsert adds to, in the order of Sums'
// arguments: the counters, then the latency histogram's buckets.
var rollupSums = append([]string{usagerollup.FieldRequests, usagerollup.FieldErrors, usagerollup.FieldUnpricedRequests,
	usagerollup.FieldInputTokens, usagerollup.FieldOutputTokens, usagerollup.FieldCachedInputTokens,
	usagerollup.FieldCost, usagerollup.FieldLatencyUsSum,
	usagerollup.FieldCacheWriteTokens, usagerollup.FieldCacheWrite1hTokens}, histogramColumns()...)

// rollupCounters is how many of rollupSums precede the histogram.
const rollupCounters = 10

func histogramColumns() []string {
	c := make([]string, latencyhist.Buckets)
	for i := range c {
		c[i] = latencyhist.Column(i)
	}
	return c
}

// rollupArgs is how many arguments one upserted row takes.
var rollupArgs = len(rollupKey) + len(rollupSums)

// upsertRows is the most rows one upsert carries, under SQLite's limit of
// 32,766 arguments a statement.
var upsertRows = 32766 / rollupArgs

var (
	// sqlUpsertInsert, then rows of sqlUpsertRow, then sqlUpsertConflict
	// add sums to their hours' rows, creating the missing ones.
	sqlUpsertInsert = fmt.Sprintf(`INSERT INTO %s (%s, %s) VALUES `,
		usagerollup.Table, strings.Join(rollupKey, ", "), strings.Join(rollupSums, ", "))
	sqlUpsertRow      = "(" + strings.TrimSuffix(strings.Repeat("?, ", rollupArgs), ", ") + ")"
	sqlUpsertConflict = func() string {
		// Columns added later are NULL in older rows, and an empty
		// histogram bucket stays NULL.
		set := make([]string, len(rollupSums))
		for i, c := range rollupSums {
			if i < rollupCounters {
				set[i] = fmt.Sprintf("%[2]s = COALESCE(%[1]s.%[2]s, 0) + excluded.%[2]s", usagerollup.Table, c)
			} else {
				set[i] = fmt.Sprintf("%[2]s = CASE WHEN excluded.%[2]s IS NULL THEN %[1]s.%[2]s ELSE COALESCE(%[1]s.%[2]s, 0) + excluded.%[2]s END", usagerollup.Table, c)
			}
		}
		return fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET\n%s", strings.Join(rollupKey, ", "), strings.Join(set, ",\n"))
	}()
	// sqlPrune deletes a batch of pruneBatch raw records created before
	// its argument.
	sqlPrune = fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT %[2]s FROM %[1]s WHERE %[3]s < ? LIMIT %[4]d)`,
		usagerecord.Table, usagerecord.FieldID, usagerecord.FieldCreatedAt, pruneBatch)
)

// pruneBatch is how many raw records one Prune statement deletes.
const pruneBatch = 5000

// upsertSQL adds n rows' sums to the roll-ups.
func upsertSQL(n int) string {
	return sqlUpsertInsert + strings.TrimSuffix(strings.Repeat(sqlUpsertRow+", ", n), ", ") + sqlUpsertConflict
}

// reportSQL sums the roll-ups where pred holds by hour and model.
func reportSQL(dialectName string, pred *entsql.Predicate) (string, []any) {
	sums := make([]string, 0, len(rollupSums)+2)
	sums = append(sums, usagerollup.FieldHour, usagerollup.FieldModel)
	for _, c := range rollupSums {
		sums = append(sums, entsql.Sum(c))
	}
	return entsql.Dialect(dialectName).
		Select(sums...).
		From(entsql.Table(usagerollup.Table)).
		Where(pred).
		GroupBy(usagerollup.FieldHour, usagerollup.FieldModel).
		OrderBy(usagerollup.FieldHour).
		Query()
}

// statements lists the statements above for the dialect, for the test that
// prepares them against the migrated schema, with ? placeholders.
func statements(dialectName string) []string {
	report, _ := reportSQL(dialectName, entsql.And(
		entsql.EQ(usagerollup.FieldOrganizationID, 0), entsql.EQ(usagerollup.FieldServiceID, 0),
		entsql.EQ(usagerollup.FieldAPIKeyID, 0), entsql.EQ(usagerollup.FieldModel, ""),
		entsql.GTE(usagerollup.FieldHour, 0), entsql.LT(usagerollup.FieldHour, 0)))
	return []string{upsertSQL(1), upsertSQL(upsertRows), sqlPrune, report}
}
