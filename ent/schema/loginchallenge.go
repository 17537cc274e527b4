package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// LoginChallenge is the second step of a login of a user with two-factor
// on: the password was right, a code is still due. Its token is given to
// the caller once and works once, for a few minutes; only its hash is
// stored.
type LoginChallenge struct {
	ent.Schema
}

// Fields of the LoginChallenge.
func (LoginChallenge) Fields() []ent.Field {
	return []ent.Field{
		field.String("token_hash").Unique().NotEmpty().MaxLen(64).Immutable().Comment("SHA-256 of the challenge token, in hex."),
		field.Int("user_id").Immutable(),
		field.Int("organization_id").Default(0).Immutable().Comment("The organization the login asked for; 0 for the one last used."),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
	}
}

// Indexes of the LoginChallenge.
func (LoginChallenge) Indexes() []ent.Index {
	return []ent.Index{index.Fields("expires_at")}
}

// Annotations of the LoginChallenge: internal to login, not API.
func (LoginChallenge) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
