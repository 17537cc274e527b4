package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ServiceTarget is one provider credential a service routes to. A service
// with targets spreads its traffic over them by weight and fails over
// between them; a service without any keeps calling its single credential,
// so routing is opt-in and existing services are unchanged.
type ServiceTarget struct {
	ent.Schema
}

// Mixin of the ServiceTarget.
func (ServiceTarget) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the ServiceTarget.
func (ServiceTarget) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").
			Immutable().
			Comment("The service's organization, copied so that scoping needs no join.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("service_id").Immutable(),
		field.Int("credential_id").
			Immutable().
			Comment("The credential this target calls. It may be of another provider than the service's: requests are then translated to its API."),
		field.Int("position").
			Default(0).
			Comment("Order among the service's targets: the tiebreak of selection, and the order the dashboard shows."),
		field.Int("weight").
			Default(1).
			Validate(targetWeight).
			Comment("Share of the traffic relative to the other healthy targets."),
		field.JSON("model_map", map[string]string{}).
			Optional().
			Comment("Client model name → the name this upstream knows it by (an Azure-style deployment, an OpenRouter path).").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bool("enabled").Default(true),
	}
}

// Edges of the ServiceTarget.
func (ServiceTarget) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("service", Service.Type).Ref("targets").Field("service_id").Unique().Required().Immutable(),
		edge.From("credential", ProviderCredential.Type).Ref("service_targets").Field("credential_id").Unique().Required().Immutable(),
	}
}

// Indexes of the ServiceTarget.
func (ServiceTarget) Indexes() []ent.Index {
	return []ent.Index{index.Fields("service_id", "credential_id").Unique()}
}
