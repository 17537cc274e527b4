package graph

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sluicehq/sluice/graph/generated"
)

// Options tune the GraphQL endpoint.
type Options struct {
	// Introspection allows schema introspection (the playground needs it).
	Introspection bool
	// MaxBodyBytes bounds a request body; larger ones are refused before
	// parsing. Default 1 MiB.
	MaxBodyBytes int64
	// MaxDepth bounds how deeply a query nests; default 15, enough for the
	// standard introspection query.
	MaxDepth int
	// MaxComplexity bounds gqlgen's complexity score; default 2000.
	MaxComplexity int
	// MaxPageSize bounds a connection's first and last and the ids of
	// nodes; default MaxPageSize.
	MaxPageSize int
	// AllowedOrigins may open subscription websockets besides the
	// gateway's own origin (the dashboard's dev server).
	AllowedOrigins []string
	// AuditAnonymousPerMinute bounds the audit rows of refused mutations
	// without a login, per address (one summary row a request); default 30.
	AuditAnonymousPerMinute int
	// Websocket bounds the subscription transport.
	Websocket WebsocketOptions
}

// NewHandler serves the GraphQL API over HTTP POST and GET. Callers are
// identified by auth.Authenticator's middleware around it.
func NewHandler(r *Resolver, opts Options) http.Handler {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 15
	}
	if opts.MaxComplexity == 0 {
		opts.MaxComplexity = 2000
	}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	srv.AddTransport(websocketTransport(r, opts.AllowedOrigins, opts.Websocket))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(depthLimit(opts.MaxDepth))
	srv.Use(pageLimit(cmp.Or(opts.MaxPageSize, MaxPageSize)))
	srv.Use(subscriptionsOverWebsocket{})
	srv.Use(subscriptionGuard{})
	srv.Use(extension.FixedComplexityLimit(opts.MaxComplexity))
	srv.Use(newAuditor(r.Client, r.Log, opts.AuditAnonymousPerMinute))
	srv.SetErrorPresenter(presentError(r.Log))
	srv.SetRecoverFunc(recoverPanic(r.Log))
	return rememberUpgradeCredential(limitBody(srv, opts.MaxBodyBytes))
}

// limitBody refuses bodies over max with 413 and a GraphQL error that says
// so, before gqlgen reads them (it would report a generic decode failure).
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Method == http.MethodPost {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
			if err != nil {
				var tooBig *http.MaxBytesError
				status, msg := http.StatusBadRequest, "could not read the request body"
				if errors.As(err, &tooBig) {
					status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than the limit of %d bytes", max)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
					"message": msg, "extensions": map[string]any{"code": string(CodeBadUserInput)},
				}}})
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// subscriptionsOverWebsocket refuses subscriptions on the HTTP transports,
// where one would hold the request open until the next event.
type subscriptionsOverWebsocket struct{}

var _ graphql.OperationContextMutator = subscriptionsOverWebsocket{}

func (subscriptionsOverWebsocket) ExtensionName() string                   { return "SubscriptionsOverWebsocket" }
func (subscriptionsOverWebsocket) Validate(graphql.ExecutableSchema) error { return nil }

func (subscriptionsOverWebsocket) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription || ctx.Value(websocketKey{}) != nil {
		return nil
	}
	err := gqlerror.Errorf("subscriptions need the websocket transport (graphql-transport-ws) at this endpoint")
	err.Extensions = map[string]any{"code": string(CodeBadUserInput)}
	return err
}

// originHosts turns allowed origins (http://localhost:5173) into the host
// patterns the websocket library matches (localhost:5173).
func originHosts(origins []string) []string {
	var hosts []string
	for _, o := range origins {
		if o == "*" {
			hosts = append(hosts, "*")
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// Playground serves the GraphQL playground for the endpoint at path.
func Playground(path string) http.Handler {
	return playground.Handler("Sluice GraphQL", path)
}

// depthLimit refuses operations nested deeper than max before they run:
// complexity alone lets a narrow but very deep query through.
type depthLimit int

var (
	_ graphql.HandlerExtension        = depthLimit(0)
	_ graphql.OperationContextMutator = depthLimit(0)
)

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet); depth > int(d) {
		err := gqlerror.Errorf("query is nested %d levels deep; the limit is %d", depth, int(d))
		err.Extensions = map[string]any{"code": string(CodeBadUserInput)}
		return err
	}
	return nil
}

// selectionDepth is the deepest chain of fields in set, through fragments.
// Validation has already refused fragment cycles.
func selectionDepth(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			d = 1 + selectionDepth(s.SelectionSet)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet)
			}
		}
		if d > deepest {
			deepest = d
		}
	}
	return deepest
}
