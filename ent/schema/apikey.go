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

// APIKey is a client key (`sk_…`) that applications use on the
// proxy, or a management key that works on the admin API with
// admin rights in its organization. Only the SHA-256 of the key is stored;
// the plaintext is shown once, at creation. Limits set here override the
// service's; nil inherits them.
type APIKey struct {
	ent.Schema
}

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}, LimitsMixin{}, PaceMixin{}} }

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Immutable(),
		field.Int("service_id").
			Optional().
			Nillable().
			Immutable().
			Comment("The service the key calls; nil for management keys."),
		field.String("name").
			Validate(apiName("name", 100)).
			MaxLen(100).
			Comment("Unique in the organization; keys are deleted by name.").
			Annotations(entgql.OrderField("NAME")),
		field.String("description").Default("").MaxLen(2000),
		field.String("key_hash").
			Unique().
			Sensitive().
			Comment("Hex SHA-256 of the full key."),
		field.String("key_prefix").
			Comment("Display prefix such as sk_ab12, to recognise a key without revealing it."),
		field.String("key_last_four"),
		field.Time("expires_at").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("EXPIRES_AT")),
		field.Bool("is_active").Default(true),
		field.Bool("is_management_key").Default(false).Immutable(),
		field.Time("last_used_at").
			Optional().
			Nillable().
			Annotations(entgql.OrderField("LAST_USED_AT")),
	}
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("api_keys").Field("organization_id").Unique().Required().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("service", Service.Type).Ref("api_keys").Field("service_id").Unique().Immutable(),
	}
}

// Indexes of the APIKey. The unique name index also orders the keys
// page by name; the two pattern indexes serve the keys search, a prefix
// match on the name or the display prefix (on PostgreSQL LIKE 'x%' can
// use an index under any collation only with the pattern operator class;
// SQLite searches by range over the plain order).
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "name").Unique(),
		index.Fields("organization_id", "name").
			Annotations(entsql.OpClassColumn("name", "varchar_pattern_ops")).
			StorageKey("apikey_organization_id_name_pattern"),
		index.Fields("organization_id", "key_prefix").
			Annotations(entsql.OpClassColumn("key_prefix", "varchar_pattern_ops")),
		// A service's keys: counted on the services page (which names
		// the organization too, so the count reads the index alone) and
		// deleted with it.
		index.Fields("service_id", "organization_id"),
	}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.QueryField(), entgql.RelayConnection()}
}
