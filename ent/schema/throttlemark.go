package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ThrottleMark is one attempt counted against a throttled admin action
// (a login, a credential test) while it is inside its limit's window, so
// that replicas sharing a database share the limit. Rows past the window
// are deleted by the next attempts.
type ThrottleMark struct {
	ent.Schema
}

// Fields of the ThrottleMark.
func (ThrottleMark) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").MaxLen(64).NotEmpty().Immutable().Comment("SHA-256 of the limiter's name and the throttled key (a username, a client address), in hex: who tried is not stored."),
		field.Time("expires_at").Immutable().Comment("When the attempt leaves its window and stops counting."),
	}
}

// Indexes of the ThrottleMark.
func (ThrottleMark) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("key", "expires_at"),
		index.Fields("expires_at"),
	}
}

// Annotations of the ThrottleMark: internal bookkeeping, not API.
func (ThrottleMark) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
