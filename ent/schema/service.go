package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Service is a provider configuration: which provider and
// credential requests go to, which models clients may use, and the USD
// limits that apply to its total spend and, where a key sets none, to
// each of its keys.
type Service struct {
	ent.Schema
}

// Mixin of the Service.
func (Service) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, LimitsMixin{}, PaceMixin{}} }

// Fields of the Service.
func (Service) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Immutable(),
		field.String("service_name").
			Validate(apiName("serviceName", 100)).
			MaxLen(100).
			Comment("Unique in the organization; used in API calls.").
			Annotations(entgql.OrderField("SERVICE_NAME")),
		field.String("description").Default("").MaxLen(2000),
		field.String("provider").
			NotEmpty().
			Annotations(entgql.OrderField("PROVIDER")),
		field.Int("credential_id").
			Optional().
			Nillable(),
		field.Strings("models_enabled").
			Default([]string{}).
			Comment("Model IDs clients may use through this service.").
			Annotations(entgql.Skip(entgql.SkipMutationUpdateInput)),
		field.Bool("allow_unpriced_models").
			Default(false).
			Comment("Lets models_enabled name models the price catalog does not know; their usage is recorded as unpriced."),
		field.JSON("request_defaults", map[string]any{}).
			Optional().
			Comment("Request parameters (e.g. max_tokens, temperature) the proxy applies; enforced over the client's unless project settings allow overwrite.").
			Annotations(entgql.Type("Map")),
		field.Bool("active").Default(true),
		// Nullable, without a default, and last: added after the table had
		// rows. A service without one captures no bodies.
		field.JSON("body_capture", &BodyCapture{}).
			Optional().
			Comment("Which requests' bodies are kept, how much of each and for how long.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of the Service.
func (Service) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("services").Field("organization_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("credential", ProviderCredential.Type).Ref("services").Field("credential_id").Unique(),
		edge.To("api_keys", APIKey.Type).Annotations(entgql.RelayConnection()),
		// The credential created from the service's providerApiKey belongs
		// to the service by id, so a rename keeps it and a delete removes it.
		edge.To("own_credential", ProviderCredential.Type).Unique().
			Annotations(entgql.Skip(entgql.SkipAll), entsql.OnDelete(entsql.Cascade)),
		// Listed in position order by a resolver of its own (graph/routing.graphqls).
		edge.To("targets", ServiceTarget.Type).
			Annotations(entgql.Skip(entgql.SkipAll), entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of the Service.
func (Service) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "service_name").Unique()}
}

// Annotations of the Service.
func (Service) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
