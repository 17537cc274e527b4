package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/sluicehq/sluice/money"
	"github.com/sluicehq/sluice/requestid"
	"github.com/sluicehq/sluice/traceid"
	"github.com/sluicehq/sluice/wirecode"
)

// A usage table holds millions of rows, so its columns are as narrow as
// their values allow: on PostgreSQL, one request's token counts fit an
// integer, statuses and wirecode's codes a smallint (SQLite stores every
// integer in as few bytes as its value needs; ids stay bigint, as ent's
// global ids need); protocols and endpoints are stored as wirecode's
// codes, request IDs as requestid's bytes.
var (
	int32Column = map[string]string{dialect.Postgres: "integer"}
	codeColumn  = map[string]string{dialect.Postgres: "smallint", dialect.SQLite: "integer"}
	bytesColumn = map[string]string{dialect.Postgres: "bytea", dialect.SQLite: "blob"}
)

// UsageRecord is one proxied request: who made it, what it used and what it
// cost. Records are written off the request path in batches and refer to
// keys and services by id without foreign keys, so history outlives a
// deleted key and inserts stay cheap.
type UsageRecord struct {
	ent.Schema
}

// Fields of the UsageRecord.
func (UsageRecord) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.String("request_id").Immutable().SchemaType(bytesColumn).ValueScanner(requestid.ValueScanner).Comment("The X-Request-Id answered to the client."),
		field.Int("organization_id").Immutable(),
		field.Int("service_id").Immutable(),
		field.Int("api_key_id").Immutable(),
		field.Int("credential_id").Optional().Nillable().Immutable(),
		field.String("protocol").Immutable().SchemaType(codeColumn).ValueScanner(wirecode.Protocols.ValueScanner(false)).Comment("Wire protocol of the call: openai, anthropic, gemini or cohere."),
		field.String("endpoint").Immutable().SchemaType(codeColumn).ValueScanner(wirecode.Endpoints.ValueScanner(false)).Comment("The proxy route, e.g. /v1/chat/completions."),
		field.String("model").Immutable().Annotations(entgql.OrderField("MODEL")),
		field.Int64("input_tokens").Default(0).Immutable().SchemaType(int32Column),
		field.Int64("output_tokens").Default(0).Immutable().SchemaType(int32Column),
		field.Int64("cached_input_tokens").Default(0).Immutable().SchemaType(int32Column),
		field.Int64("cost").GoType(money.Micros(0)).Default(0).Immutable().Annotations(append(usd, entgql.OrderField("COST"))...),
		field.Bool("priced").Default(true).Immutable().Comment("False when the model has no price: the cost is unknown, not zero."),
		field.Int("status").Immutable().SchemaType(codeColumn).Comment("HTTP status answered to the client."),
		field.String("error").Optional().Immutable(),
		field.Int64("latency_us").Default(0).Immutable().Annotations(entgql.OrderField("LATENCY")),
		field.Int64("ttfb_us").Optional().Nillable().Immutable().Comment("Time to first byte of the upstream answer."),
		field.Bool("streamed").Default(false).Immutable(),
		field.Bool("partial").Default(false).Immutable().Comment("The stream ended before its usage was reported (client or upstream gone); tokens are estimated from what was streamed."),
		field.JSON("attempts", []Attempt{}).
			Optional().
			Immutable().
			Comment("Each upstream attempt of a routed request, in order; empty for a service with a single credential.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		// Columns added after the table had rows are nullable, without a
		// default, and last: SQLite can then add them in place (it cannot add
		// a column whose default is an expression, which is how Atlas writes
		// ent's defaults) instead of rebuilding a table that may hold
		// millions of records. Records from before read as 0 or "".
		field.Int64("cache_write_tokens").Optional().Immutable().SchemaType(int32Column).Comment("Part of input_tokens written to the provider's prompt cache, priced at the model's cache-write price."),
		field.Int64("cache_write_1h_tokens").Optional().Immutable().SchemaType(int32Column).Comment("Part of cache_write_tokens written to a one-hour cache."),
		field.String("provider_protocol").Optional().Immutable().SchemaType(codeColumn).ValueScanner(wirecode.Protocols.ValueScanner(true)).Comment("Wire protocol of the upstream that answered: openai, anthropic, gemini or cohere; differs from protocol when the request was translated."),
		field.String("trace_id").Optional().Immutable().SchemaType(bytesColumn).ValueScanner(traceid.ValueScanner).
			Comment("W3C trace id of the request in hex: the gateway's span's when tracing is on, else the one the client's traceparent carried; empty when neither.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Attempt is one try of a routed request at one of its service's targets.
// Only the attempt that produced the answer is charged; the others are kept
// so that an operator can see why a request was retried.
type Attempt struct {
	TargetID     int `json:"target_id"`
	CredentialID int `json:"credential_id"`
	// Status is the upstream's HTTP status, 0 when it never answered.
	Status    int    `json:"status"`
	LatencyMs int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// Indexes of the UsageRecord. The usage log is read newest first, by
// (created_at, id), in one organization, unfiltered or by key, service,
// model or errors, within a time range or not: each index leads with the
// filter's column and ends in created_at, so a page is the index's first
// rows in order, with no sort (the id breaking ties is the row id SQLite
// keeps in every index, and PostgreSQL's rows of one instant are few).
// Errors are few, so their index holds only theirs; successes are most
// rows, which the organization's index finds without one.
func (UsageRecord) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "created_at"),
		index.Fields("service_id", "created_at"),
		index.Fields("api_key_id", "created_at"),
		index.Fields("organization_id", "model", "created_at"),
		index.Fields("organization_id", "created_at").
			StorageKey("usagerecord_errors_organization_id_created_at").
			Annotations(entsql.IndexWhere("status >= 400")),
		// A key's or a service's errors, without walking its successes.
		index.Fields("api_key_id", "created_at").
			StorageKey("usagerecord_errors_api_key_id_created_at").
			Annotations(entsql.IndexWhere("status >= 400")),
		index.Fields("service_id", "created_at").
			StorageKey("usagerecord_errors_service_id_created_at").
			Annotations(entsql.IndexWhere("status >= 400")),
	}
}

// Annotations of the UsageRecord.
func (UsageRecord) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField("usageRecords"), entgql.RelayConnection()}
}
