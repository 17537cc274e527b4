package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PaceSlot is the concurrency slots one replica holds for one subject:
// its requests in flight plus the free slots it keeps for the next ones.
// The replica renews the row while it lives; once expires_at passes, the
// next grant on the subject deletes it, so a dead replica's slots come
// back without anyone releasing them.
type PaceSlot struct {
	ent.Schema
}

// Fields of the PaceSlot.
func (PaceSlot) Fields() []ent.Field {
	return []ent.Field{
		field.String("holder").MaxLen(64).NotEmpty().Immutable().Comment("The replica, random at its start."),
		field.Enum("scope").Values("key", "service", "org").Immutable(),
		field.Int("scope_id").Immutable(),
		field.Int64("held").Comment("Slots held."),
		field.Time("expires_at").Comment("When the slots go back unless renewed."),
	}
}

// Indexes of the PaceSlot.
func (PaceSlot) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("holder", "scope", "scope_id").Unique(),
		index.Fields("scope", "scope_id"),
		index.Fields("expires_at"),
	}
}

// Annotations of the PaceSlot: internal bookkeeping, not API.
func (PaceSlot) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
