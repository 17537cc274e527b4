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

var _ rootFieldInterceptor = publishChanges{}

func (p publishChanges) interceptRootField(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if p.pub == nil || fc.Object != "Mutation" {
		return next(ctx)
	}
	return next(changehook.Collect(ctx, p.pub, p.log))
}
