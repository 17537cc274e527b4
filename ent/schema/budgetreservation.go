package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// BudgetReservation is budget held in the spend windows it names: in the
// locking mode the worst-case cost of one request in flight, until the
// request settles; in the leased mode (several replicas on PostgreSQL) one
// replica's lease on a window's headroom, grown and shrunk as the replica
// admits and settles requests, and renewed while the replica lives. If the
// process dies first, the row expires and a sweeper returns its amount, so
// a crash never locks budget away.
type BudgetReservation struct {
	ent.Schema
}

// Fields of the BudgetReservation.
func (BudgetReservation) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Comment("When a sweeper may return the amount; a lease moves it forward while its replica lives."),
		field.Int64("amount").Comment("Reserved micro-USD, in every window listed."),
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
