package usagelog

import (
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/ent/usagerecord"
)

// The writer's statements, built once from ent's names by ent's SQL
// builder, which writes each dialect's placeholders.

// usageColumns are the columns a batch writes, in the order of row's values.
var usageColumns = []string{
	usagerecord.FieldCreatedAt, usagerecord.FieldRequestID, usagerecord.FieldOrganizationID, usagerecord.FieldServiceID,
	usagerecord.FieldAPIKeyID, usagerecord.FieldCredentialID, usagerecord.FieldProtocol, usagerecord.FieldEndpoint,
	usagerecord.FieldModel, usagerecord.FieldInputTokens, usagerecord.FieldOutputTokens, usagerecord.FieldCachedInputTokens,
	usagerecord.FieldCacheWriteTokens, usagerecord.FieldCacheWrite1hTokens, usagerecord.FieldCost, usagerecord.FieldPriced,
	usagerecord.FieldStatus, usagerecord.FieldError, usagerecord.FieldLatencyUs, usagerecord.FieldTtfbUs,
	usagerecord.FieldStreamed, usagerecord.FieldPartial, usagerecord.FieldAttempts, usagerecord.FieldProviderProtocol,
	usagerecord.FieldTraceID,
}

// appliedQuery, by dialect, finds a record by its key, time and request
// id, which the (api_key_id, created_at) index answers; its arguments are
// in that order.
var appliedQuery = map[string]string{dialect.SQLite: appliedSQL(dialect.SQLite), dialect.Postgres: appliedSQL(dialect.Postgres)}

func appliedSQL(dialectName string) string {
	q, _ := entsql.Dialect(dialectName).
		SelectExpr(entsql.Expr("1")).
		From(entsql.Table(usagerecord.Table)).
		Where(entsql.And(
			entsql.EQ(usagerecord.FieldAPIKeyID, 0),
			entsql.EQ(usagerecord.FieldCreatedAt, 0),
			entsql.EQ(usagerecord.FieldRequestID, 0),
		)).
		Limit(1).
		Query()
	return q
}

// insertQueries are SQLite's INSERTs of chunkSizes rows, in that order
// (PostgreSQL takes a batch by COPY).
var insertQueries = func() (q [len(chunkSizes)]string) {
	row := make([]any, len(usageColumns)) // any non-nil value is a placeholder; nil would be NULL
	for i := range row {
		row[i] = 0
	}
	for k, size := range chunkSizes {
		ins := entsql.Dialect(dialect.SQLite).Insert(usagerecord.Table).Columns(usageColumns...)
		for range size {
			ins.Values(row...)
		}
		q[k], _ = ins.Query()
	}
	return q
}()

// statements lists every statement above that runs on the dialect, for
// the test that prepares them against the migrated schema.
func statements(dialectName string) []string {
	out := []string{appliedQuery[dialectName]}
	if dialectName == dialect.SQLite {
		out = append(out, insertQueries[:]...)
	}
	return out
}
