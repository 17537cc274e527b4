package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// ProjectSettings is an organization's configuration.
type ProjectSettings struct {
	ent.Schema
}

// Mixin of the ProjectSettings.
func (ProjectSettings) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the ProjectSettings.
func (ProjectSettings) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Unique().Immutable(),
		field.Bool("allow_overwrite").
			Default(true).
			Comment("Let API calls set their own inference parameters; when false, each service's request defaults are enforced."),
		field.String("alert_webhook_url").
			Optional().
			Nillable().
			Comment("Budget alerts are POSTed here when set."),
	}
}

// Edges of the ProjectSettings.
func (ProjectSettings) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("settings").Field("organization_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the ProjectSettings.
func (ProjectSettings) Annotations() []schema.Annotation {
	return nil
}
