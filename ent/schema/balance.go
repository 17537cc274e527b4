package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/sluicehq/sluice/money"
)

// Balance is an organization's prepaid balance: topped up by an
// admin, decremented by settled spend, and when enforced, requests stop at
// zero.
type Balance struct {
	ent.Schema
}

// Mixin of the Balance.
func (Balance) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the Balance.
func (Balance) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Unique().Immutable(),
		field.Int64("current_balance").GoType(money.Micros(0)).Annotations(usd...).Default(0),
		field.String("currency").Default("USD").MaxLen(3),
		field.Bool("enforced").Default(false).Comment("Refuse requests once the balance reaches zero."),
	}
}

// Edges of the Balance.
func (Balance) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("balance").Field("organization_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the Balance.
func (Balance) Annotations() []schema.Annotation {
	return nil
}
