package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Session is one login of a user in one organization. The login token
// names it, and the admin API refuses a token whose session has ended
// (logout, "end all my sessions", a password change or reset, a switch to
// another organization) or expired.
type Session struct {
	ent.Schema
}

// Fields of the Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.Int("organization_id").Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("last_seen_at").Default(now).Comment("When the token was last used, to a minute."),
		field.Time("expires_at").Immutable(),
		field.Time("ended_at").Optional().Nillable().Comment("When the session was ended; its token is refused from then on."),
		field.String("client_ip").Default("").MaxLen(64).Immutable(),
		field.String("user_agent").Default("").MaxLen(256).Immutable(),
		field.String("handoff_hash").Optional().Nillable().Sensitive().
			Comment("SHA-256 of the one-time code a single sign-on hands the dashboard for this session's token; cleared when exchanged."),
	}
}

// Indexes of the Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "ended_at"),
		index.Fields("expires_at"),
		index.Fields("handoff_hash"),
	}
}

// Annotations of the Session: the admin API shows a user's own sessions
// through its own type.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
