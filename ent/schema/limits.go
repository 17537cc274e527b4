package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"github.com/sluicehq/sluice/money"
)

// LimitsMixin holds the seven USD cost limits. They are stored as
// integer micro-USD (money.Micros) so spend never accumulates float error;
// GraphQL shows them as USD through the USD scalar. A nil limit means none:
// on an Organization or a Service no limit, on an APIKey "inherit the
// service's".
type LimitsMixin struct {
	mixin.Schema
}

// Fields of the LimitsMixin.
func (LimitsMixin) Fields() []ent.Field {
	names := []string{
		"limit_cost_hour_warn", "limit_cost_hour_block",
		"limit_cost_day_warn", "limit_cost_day_block",
		"limit_cost_month_warn", "limit_cost_month_block",
		"limit_cost_total_block",
	}
	fields := make([]ent.Field, 0, len(names))
	for _, name := range names {
		fields = append(fields, field.Int64(name).GoType(money.Micros(0)).Optional().Nillable().Annotations(usd...))
	}
	return fields
}

// PaceMixin holds the three pace limits: requests per minute, input and
// output tokens per minute (the provider's tokens) and requests in flight.
// A minute is rolling, never a calendar minute. A nil limit means none: on
// an Organization or a Service no limit, on an APIKey "inherit the
// service's".
type PaceMixin struct {
	mixin.Schema
}

// Fields of the PaceMixin.
func (PaceMixin) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("limit_rpm").Optional().Nillable().Positive().
			Comment("Requests per rolling minute."),
		field.Int64("limit_tpm").Optional().Nillable().Positive().
			Comment("Input plus output tokens per rolling minute."),
		field.Int64("limit_concurrency").Optional().Nillable().Positive().
			Comment("Requests in flight at once."),
	}
}

// usd annotates an amount of money, an int64 micro-USD field with
// GoType(money.Micros(0)), so GraphQL shows it through the USD scalar.
var usd = []schema.Annotation{entgql.Type("USD"), entgql.Skip(entgql.SkipWhereInput)}
