package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ProviderCredential is an organization's account at an LLM provider
// (seeds 002, 003). The provider's API key is stored only as AES-256-GCM
// ciphertext under the master key and never leaves the server; responses
// show its last four characters and whether one is set.
type ProviderCredential struct {
	ent.Schema
}

// Mixin of the ProviderCredential.
func (ProviderCredential) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the ProviderCredential.
func (ProviderCredential) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Immutable(),
		field.String("provider").
			NotEmpty().
			Immutable().
			Comment("One of the supported providers (see the providers query).").
			Annotations(entgql.OrderField("PROVIDER")),
		field.String("account_key").
			Validate(apiName("accountKey", 200)).
			MaxLen(200).
			Comment("Names the account among the organization's credentials for this provider.").
			Annotations(entgql.OrderField("ACCOUNT_KEY")),
		field.String("display_name").
			Validate(apiName("displayName", 200)).
			MaxLen(200).
			Annotations(entgql.OrderField("DISPLAY_NAME")),
		field.Bytes("api_key_ciphertext").
			Optional().
			Nillable().
			Sensitive().
			Comment("Nonce and AES-256-GCM ciphertext of the provider key; nil when none is set."),
		field.String("api_key_key_id").
			Optional().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("Which master key sealed api_key_ciphertext, so the master key can be rotated."),
		field.String("api_key_last_four").
			Optional().
			Nillable(),
		field.String("base_url").
			Optional().
			Nillable().
			MaxLen(2000).
			Comment("Overrides the provider's default base URL.").
			Annotations(entgql.MapsTo("baseUrl")),
		field.Int("api_standard_id").
			Optional().
			Nillable().
			Comment("How requests authenticate upstream; defaults from the provider."),
		field.Bool("active").Default(true),
		field.Int("owner_service_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The service this credential was created for from its providerApiKey; it is rotated through that service and deleted with it."),
	}
}

// Edges of the ProviderCredential.
func (ProviderCredential) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("provider_credentials").Field("organization_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("api_standard", APIStandard.Type).Ref("provider_credentials").Field("api_standard_id").Unique(),
		edge.To("services", Service.Type).Annotations(entgql.RelayConnection()),
		edge.To("service_targets", ServiceTarget.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("owner_service", Service.Type).Ref("own_credential").Field("owner_service_id").Unique().
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the ProviderCredential.
func (ProviderCredential) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "provider", "account_key").Unique()}
}

// Annotations of the ProviderCredential.
func (ProviderCredential) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
