package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/sluicehq/sluice/requestid"
)

// RequestBody is the captured request and response body of one proxied
// request of a service whose body capture is on: redacted, compressed and
// sealed under the master key. Like usage records, rows refer to their
// organization and service by id without foreign keys, and are found by
// their request id; they are deleted once expires_at has passed.
type RequestBody struct {
	ent.Schema
}

// Fields of the RequestBody.
func (RequestBody) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(now).Immutable().Comment("When the request began, as its usage record's created_at."),
		field.String("request_id").Immutable().SchemaType(bytesColumn).ValueScanner(requestid.ValueScanner).Comment("The X-Request-Id answered to the client."),
		field.Int("organization_id").Immutable(),
		field.Int("service_id").Immutable(),
		field.Time("expires_at").Immutable().Comment("When the retention of the service's capture setting ends."),
		field.String("key_id").Comment("Which master key sealed ciphertext."),
		field.Bytes("ciphertext").Comment("The bodies, compressed, then sealed with AES-256-GCM."),
		field.Bool("request_truncated").Default(false).Immutable().Comment("The request body was longer than the capture cap."),
		field.Bool("response_truncated").Default(false).Immutable().Comment("The response body was longer than the capture cap."),
	}
}

// A master key rotation re-seals key_id and ciphertext; the rest of a row
// never changes.

// Indexes of the RequestBody: a usage record's bodies are looked up by
// request id, and the retention job deletes by expiry.
func (RequestBody) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("request_id"),
		index.Fields("expires_at"),
	}
}

// Annotations of the RequestBody: not an ent GraphQL type; admins read
// the bodies through a resolver that opens them.
func (RequestBody) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
