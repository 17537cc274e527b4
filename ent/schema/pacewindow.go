package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// PaceWindow is one subject's (a key's, a service's or an
// organization's) rolling minute of one pace limit, shared by the
// replicas on PostgreSQL. For requests (rpm) and tokens (tpm) it holds
// what was granted in each of the last 61 one-second buckets: a replica
// leases a slice of the headroom for the current second with one locked
// read-and-update, so that the sum over the buckets never passes the
// limit. For concurrency (concurrency) the row holds no counts and is the
// lock that serializes grants of the subject's slots (PaceSlot).
type PaceWindow struct {
	ent.Schema
}

// Fields of the PaceWindow.
func (PaceWindow) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("scope").Values("key", "service", "org").Immutable(),
		field.Int("scope_id").Immutable(),
		field.Enum("kind").Values("rpm", "tpm", "concurrency").Immutable(),
		field.Int64("head").Default(0).Comment("The newest bucket, in Unix seconds."),
		field.JSON("counts", []int64{}).Comment("Granted units per bucket, newest first: counts[i] is bucket head-i."),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Indexes of the PaceWindow.
func (PaceWindow) Indexes() []ent.Index {
	return []ent.Index{index.Fields("scope", "scope_id", "kind").Unique()}
}

// Annotations of the PaceWindow: internal bookkeeping, not API.
func (PaceWindow) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
