package graph

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/sluicehq/sluice/graph/generated"
)

// Options tune the GraphQL endpoint.
type Options struct {
	// Introspection allows schema introspection (the playground needs it).
	Introspection bool
	// MaxBodyBytes bounds a request body; larger ones are refused before
	// parsing.
	MaxBodyBytes int64
}

// NewHandler serves the GraphQL API over HTTP POST and GET.
func NewHandler(r *Resolver, opts Options) http.Handler {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))
	return http.MaxBytesHandler(srv, opts.MaxBodyBytes)
}

// Playground serves the GraphQL playground for the endpoint at path.
func Playground(path string) http.Handler {
	return playground.Handler("Sluice GraphQL", path)
}

// requestTimeout bounds a single GraphQL request's work.
const requestTimeout = 30 * time.Second

var _ = slog.Default
