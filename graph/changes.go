package graph

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/changehook"
)

// publishChanges lets the data layer announce each root mutation's
// committed changes on the change feed (changehook.Collect): every topic
// the mutation changed, once, as soon as its change is committed. It wraps
// every mutation field, so no resolver can forget to tell the caches.
type publishChanges struct {
	pub Publisher
	log *slog.Logger
}

var (
	_ graphql.HandlerExtension = publishChanges{}
	_ graphql.FieldInterceptor = publishChanges{}
)

func (publishChanges) ExtensionName() string                   { return "PublishChanges" }
func (publishChanges) Validate(graphql.ExecutableSchema) error { return nil }

func (p publishChanges) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if p.pub == nil || fc == nil || fc.Object != "Mutation" || fc.Parent == nil || fc.Parent.Parent != nil {
		return next(ctx)
	}
	return next(changehook.Collect(ctx, p.pub, p.log))
}
