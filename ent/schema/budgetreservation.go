package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// BudgetReservation is the worst-case cost of one request in flight, held
// in the spend windows it names until the request settles. If the process
// dies first, the reservation expires and a sweeper returns it, so a crash
// never locks budget away.
type BudgetReservation struct {
	ent.Schema
}

// Fields of the BudgetReservation.
func (BudgetReservation) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Int64("amount").Immutable().Comment("Reserved micro-USD, in every window listed."),
		field.Ints("window_ids").Immutable().Comment("The spend windows holding the reservation."),
	}
}

// Indexes of the BudgetReservation.
func (BudgetReservation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations of the BudgetReservation: internal bookkeeping, not API.
func (BudgetReservation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
