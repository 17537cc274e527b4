package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SpendWindow is the running spend of one scope (a key, a service or an
// organization) in one calendar window (UTC hour, day, month, or total).
// Budget checks reserve into it and settle from it with one atomic
// conditional update each, so concurrent requests and several replicas
// never pass a block limit.
type SpendWindow struct {
	ent.Schema
}

// Fields of the SpendWindow.
func (SpendWindow) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope").Values("key", "service", "org").Immutable(),
		field.Int("scope_id").Immutable(),
		field.Enum("window").Values("hour", "day", "month", "total").Immutable(),
		field.Time("window_start").Immutable().Comment("Start of the calendar window in UTC; the zero time for total."),
		field.Int64("spent").Default(0).Comment("Settled spend, micro-USD."),
		field.Int64("reserved").Default(0).Comment("Worst-case cost of requests in flight, micro-USD."),
		field.Bool("warned").Default(false).Comment("Set by the one request whose settled spend crossed the warn threshold, so that each crossing raises exactly one alert."),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Indexes of the SpendWindow.
func (SpendWindow) Indexes() []ent.Index {
	return []ent.Index{index.Fields("scope", "scope_id", "window", "window_start").Unique()}
}

// Annotations of the SpendWindow. Spend reaches GraphQL through the spend
// fields of Service and APIKey, not as rows.
func (SpendWindow) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
