package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Invitation lets whoever holds its one-time token join an organization
// with a role: as a new user who sets a password, or as an existing user
// who gains a membership. Only the token's hash is stored; the token is
// shown once, when the invitation is made.
type Invitation struct {
	ent.Schema
}

// Fields of the Invitation.
func (Invitation) Fields() []ent.Field {
	return []ent.Field{
		field.Int("organization_id").Immutable(),
		field.Enum("role").Values("admin", "member").Default("member").Immutable(),
		field.String("token_hash").Unique().Immutable().Sensitive().Comment("SHA-256 of the token, in hex."),
		field.String("note").Default("").MaxLen(200).Immutable().Comment("Whom the invitation is for, as its maker wrote it."),
		field.Int("created_by").Optional().Nillable().Immutable().Comment("The user who made it; null for a management key."),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("accepted_at").Optional().Nillable(),
		field.Int("accepted_by").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the Invitation.
func (Invitation) Indexes() []ent.Index {
	return []ent.Index{index.Fields("organization_id", "created_at")}
}

// Annotations of the Invitation: shown through the admin API's own type.
func (Invitation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
