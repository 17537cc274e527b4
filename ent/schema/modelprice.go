package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/sluicehq/sluice/money"
)

// ModelPrice is one model's list price, seeded from the price catalog
// embedded in the binary (model_config/{provider}.yaml) and
// editable by admins; an edited price is never overwritten at start.
type ModelPrice struct {
	ent.Schema
}

// Mixin of the ModelPrice.
func (ModelPrice) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the ModelPrice.
func (ModelPrice) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").NotEmpty().Annotations(entgql.OrderField("PROVIDER")),
		field.String("model").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("MODEL")),
		field.Int64("input_per_mtok").GoType(money.Micros(0)).Annotations(usd...).Default(0).Comment("USD per million input tokens."),
		field.Int64("output_per_mtok").GoType(money.Micros(0)).Annotations(usd...).Default(0).Comment("USD per million output tokens (per image for image models)."),
		field.Int64("cached_input_per_mtok").GoType(money.Micros(0)).Annotations(usd...).Optional().Nillable().Comment("USD per million cached input tokens, where the provider discounts them."),
		field.Int64("cache_write_per_mtok").GoType(money.Micros(0)).Annotations(usd...).Optional().Nillable().Comment("USD per million input tokens written to the provider's prompt cache, where it charges more for them (Anthropic: 1.25x input for its five-minute cache); unset bills them as input."),
		field.Int64("cache_write_1h_per_mtok").GoType(money.Micros(0)).Annotations(usd...).Optional().Nillable().Comment("USD per million input tokens written to a one-hour prompt cache (Anthropic: 2x input); unset bills them as other cache writes."),
		field.Enum("kind").Values("text", "image", "embedding").Default("text"),
		field.Int("max_output_tokens").Default(0).Comment("Worst-case output used for budget reservations when a request sets no limit; 0 if unknown."),
		field.String("description").Default(""),
		field.Bool("customized").Default(false).Comment("Set when an admin edits the price, so the catalog no longer overwrites it."),
	}
}

// Indexes of the ModelPrice.
func (ModelPrice) Indexes() []ent.Index {
	return []ent.Index{index.Fields("provider", "model").Unique()}
}

// Annotations of the ModelPrice.
func (ModelPrice) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField("modelPrices"), entgql.RelayConnection()}
}
