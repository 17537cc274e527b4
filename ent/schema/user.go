package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// User is a person who logs in to the admin API and the dashboard
// (the dashboard's login). Roles live on Membership, per organization.
type User struct {
	ent.Schema
}

// Mixin of the User.
func (User) Mixin() []ent.Mixin { return []ent.Mixin{TimeMixin{}} }

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").
			Unique().
			NotEmpty().
			MaxLen(100).
			Annotations(entgql.OrderField("USERNAME")),
		field.String("password_hash").
			Sensitive().
			Comment("argon2id or bcrypt hash in its encoded form; never leaves the server. Empty for a user of single sign-on, who has no password."),
		field.Time("last_login_at").
			Optional().
			Nillable(),
		field.Int("last_organization_id").
			Optional().
			Nillable().
			Comment("The organization the user last logged in to or switched to; login picks it when none is asked for.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("email").
			Optional().
			Nillable().
			MaxLen(320).
			Comment("The verified email single sign-on gave; a first SSO login also links by it.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("oidc_issuer").
			Optional().
			Nillable().
			MaxLen(512).
			Comment("The OpenID Connect issuer whose subject oidc_subject is this user.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("oidc_subject").
			Optional().
			Nillable().
			MaxLen(255).
			Comment("The user's sub at oidc_issuer: single sign-on finds the user by the pair.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Bytes("totp_ciphertext").
			Optional().
			Nillable().
			Sensitive().
			Comment("Nonce and AES-256-GCM ciphertext of the two-factor secret; set at enrollment, nil when two-factor is off.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("totp_key_id").
			Optional().
			Nillable().
			Comment("Which master key sealed totp_ciphertext.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("totp_enabled_at").
			Optional().
			Nillable().
			Comment("When a first code confirmed the secret; nil while enrolling or off. Login asks for a code only once it is set.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int64("totp_last_step").
			Optional().
			Nillable().
			Comment("The 30-second step of the last code accepted: a code of that step or an earlier one is refused, so a code works once.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of the User: one user per identity at an issuer, one per email.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("oidc_issuer", "oidc_subject").Unique(),
		index.Fields("email").Unique(),
	}
}

// Edges of the User.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("memberships", Membership.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
