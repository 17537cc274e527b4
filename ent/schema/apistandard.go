package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// APIStandard says how to authenticate to an upstream. It is
// global: anyone may read it, instance admins write it, and it cannot be
// deleted while a provider credential refers to it.
type APIStandard struct {
	ent.Schema
}

// Mixin of the APIStandard.
func (APIStandard) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the APIStandard.
func (APIStandard) Fields() []ent.Field {
	return []ent.Field{
		field.String("api_standard_handle").
			Unique().
			Validate(apiName("apiStandardHandle", 100)).
			MaxLen(100).
			Comment("Unique identifier, e.g. openai, cohere, gemini.").
			Annotations(entgql.OrderField("HANDLE")),
		field.String("description").
			MaxLen(2000).
			Comment("What the standard is, with the provider's API documentation URL."),
		field.Enum("key_method").
			Values("auth_bearer", "auth_apikey", "query_param", "none").
			Comment("auth_bearer: Authorization: Bearer <key>; auth_apikey: the key in the header named by key_field; query_param: the key in the query parameter named by key_field; none: no authentication."),
		field.String("key_field").
			Default("").
			MaxLen(200).
			Comment("Header or query parameter that carries the key; empty for none."),
	}
}

// Edges of the APIStandard.
func (APIStandard) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("provider_credentials", ProviderCredential.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the APIStandard.
func (APIStandard) Annotations() []schema.Annotation {
	// Inputs are written in graph/resources.graphqls: keyMethod is a String
	// there so that a wrong value gets BAD_USER_INPUT naming the allowed
	// ones, not a generic enum validation failure.
	return nil
}

// Hooks of the APIStandard: its key method and key field are checked
// together (keyMethodRule).
func (APIStandard) Hooks() []ent.Hook {
	return []ent.Hook{keyMethodRule}
}
