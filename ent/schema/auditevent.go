package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditEvent records one admin action: who, what, on which
// target, the fields it changed and whether it succeeded. Secret values
// never appear: a changed provider key is recorded as "changed".
type AuditEvent struct {
	ent.Schema
}

// Fields of the AuditEvent.
func (AuditEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable().Annotations(entgql.OrderField("CREATED_AT")),
		field.Int("organization_id").Optional().Nillable().Immutable(),
		field.Enum("actor_type").Values("user", "management_key", "system", "anonymous").Immutable(),
		field.Int("actor_id").Optional().Nillable().Immutable(),
		field.String("actor_name").Default("").Immutable(),
		field.String("action").Immutable().Comment("The GraphQL operation, e.g. createService.").Annotations(entgql.OrderField("ACTION")),
		field.String("target_type").Default("").Immutable(),
		field.String("target_id").Default("").Immutable(),
		field.String("target_name").Default("").Immutable(),
		field.JSON("changes", map[string]string{}).Optional().Immutable().Comment("Changed field → new value, or \"changed\" for secrets.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("outcome").Values("success", "denied", "error").Immutable(),
		field.String("error").Default("").Immutable(),
		field.String("client_ip").Default("").Immutable(),
	}
}

// Indexes of the AuditEvent.
func (AuditEvent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "created_at"),
		index.Fields("actor_type", "actor_id"),
		index.Fields("target_type", "target_id"),
	}
}

// Annotations of the AuditEvent.
func (AuditEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
