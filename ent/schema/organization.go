package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Organization is a tenant: everything an admin configures belongs to one,
// and every query is scoped to the caller's. The default organization is
// created at first start; its admins are the instance admins.
type Organization struct {
	ent.Schema
}

// Mixin of the Organization: its cost limits cap the spend of all its
// services and keys together.
func (Organization) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, LimitsMixin{}, PaceMixin{}} }

// Fields of the Organization.
func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").
			NotEmpty().
			MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.Bool("is_default").
			Default(false).
			Immutable().
			Comment("The organization created at first start; its admins administer the instance."),
		field.Bool("require_two_factor").
			Optional().
			Nillable().
			Comment("Its members must turn on two-factor sign-in: until they do, a login of theirs can only enroll. Nil is false.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Organization.
func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("provider_credentials", ProviderCredential.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("services", Service.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("api_keys", APIKey.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("settings", ProjectSettings.Type).Unique().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("balance", Balance.Type).Unique().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the Organization.
func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField("organizations"), entgql.RelayConnection()}
}
