package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// rootFieldInterceptor wraps the resolver of a root field: a query's,
// mutation's or subscription's top-level field, whose context is fc.
type rootFieldInterceptor interface {
	interceptRootField(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error)
}

// rootFields runs the interceptors that act on root fields alone, the
// first outermost, as one field interceptor. A page of keys resolves
// thousands of nested fields; each passes one check (is it a root
// field?) here instead of a layer of its own per interceptor, which cost
// each field a closure, a context look-up per layer and a deeper stack.
type rootFields []rootFieldInterceptor

var _ interface {
	graphql.HandlerExtension
	graphql.FieldInterceptor
} = rootFields{}

func (rootFields) ExtensionName() string                   { return "RootFields" }
func (rootFields) Validate(graphql.ExecutableSchema) error { return nil }

func (rf rootFields) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Parent == nil || fc.Parent.Parent != nil {
		return next(ctx)
	}
	return rf.run(ctx, fc, next)
}

// run is rf's first interceptor around the rest of rf around next.
func (rf rootFields) run(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if len(rf) == 0 {
		return next(ctx)
	}
	return rf[0].interceptRootField(ctx, fc, func(ctx context.Context) (any, error) {
		return rf[1:].run(ctx, fc, next)
	})
}
