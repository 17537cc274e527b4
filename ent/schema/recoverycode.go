package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RecoveryCode is one unused recovery code of a user with two-factor on,
// which stands in for a code from the authenticator app once: using it
// deletes its row. Only its hash is stored.
type RecoveryCode struct {
	ent.Schema
}

// Fields of the RecoveryCode.
func (RecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.String("code_hash").NotEmpty().MaxLen(64).Immutable().Comment("SHA-256 of the code, in hex."),
	}
}

// Indexes of the RecoveryCode.
func (RecoveryCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "code_hash").Unique()}
}

// Annotations of the RecoveryCode: internal to login, not API.
func (RecoveryCode) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
