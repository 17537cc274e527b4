package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// BudgetFlush is the last write-behind flush of budget spend one process
// made, written in that flush's transaction. A flush whose COMMIT failed
// may have been applied all the same (the connection dropped while the
// answer was on its way); the process reads its row before writing again
// and knows whether to write that spend again or not, so spend is never
// counted twice. Rows of processes gone a week are pruned.
type BudgetFlush struct {
	ent.Schema
}

// Fields of the BudgetFlush.
func (BudgetFlush) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(64).NotEmpty().Immutable().Comment("The process, random at its start."),
		field.Int64("seq").Comment("The process's last flush applied, numbered from 1."),
		field.Time("updated_at").Default(now).UpdateDefault(now),
	}
}

// Indexes of the BudgetFlush.
func (BudgetFlush) Indexes() []ent.Index {
	return []ent.Index{index.Fields("updated_at")}
}

// Annotations of the BudgetFlush: internal bookkeeping, not API.
func (BudgetFlush) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
