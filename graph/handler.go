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
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
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
	// Limits bound a query's size and shape before it is validated.
	Limits QueryLimits
	// QueryCacheEntries and QueryCacheBytes bound the cache of parsed
	// queries, by count and by the memory their documents hold (an
	// estimate); defaults 1,000 and 32 MiB.
	QueryCacheEntries int
	QueryCacheBytes   int64
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
	h, _ := newHandler(r, opts)
	return h
}

// newHandler is NewHandler, and the cache of parsed queries it uses.
func newHandler(r *Resolver, opts Options) (http.Handler, *queryCache) {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 15
	}
	if opts.MaxComplexity == 0 {
		opts.MaxComplexity = 2000
	}
	opts.Limits.defaults()
	if opts.QueryCacheEntries == 0 {
		opts.QueryCacheEntries = 1000
	}
	if opts.QueryCacheBytes == 0 {
		opts.QueryCacheBytes = 32 << 20
	}
	cache := newQueryCache(opts.QueryCacheEntries, opts.QueryCacheBytes)
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	srv.AddTransport(websocketTransport(r, opts.AllowedOrigins, opts.Websocket))
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(cache)
	srv.SetParserTokenLimit(opts.Limits.MaxTokens)
	srv.SetDisableSuggestion(!opts.Introspection)
	srv.Use(queryGate{limits: opts.Limits, cache: cache})
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.Use(introspectionOff{})
	}
	srv.Use(depthLimit(opts.MaxDepth))
	pages := pageLimit(cmp.Or(opts.MaxPageSize, MaxPageSize))
	srv.Use(pages)
	srv.Use(subscriptionsOverWebsocket{})
	srv.Use(extension.FixedComplexityLimit(opts.MaxComplexity))
	audit := newAuditor(r.Client, r.Log, opts.AuditAnonymousPerMinute)
	srv.Use(audit)
	srv.Use(rootFields{pages, subscriptionGuard{}, audit, publishChanges{pub: r.Changes, log: r.Log}})
	srv.Use(capErrors(maxErrors))
	srv.Use(admitQueries{cache: cache}) // the last operation check
	srv.Use(pageLoads{r: r})
	var db pinger
	if r.DB != nil {
		db = r.DB
	}
	srv.SetErrorPresenter(presentError(r.Log, db, !opts.Introspection))
	srv.SetRecoverFunc(recoverPanic(r.Log))
	return rememberUpgradeCredential(limitBody(srv, opts.MaxBodyBytes)), cache
}

// limitBody refuses bodies over max with 413, and JSON bodies that are not
// one GraphQL request with 400, before gqlgen reads them: gqlgen answers a
// body it cannot decode with an error quoting the whole body, secrets
// included, which would reach the error log too.
func limitBody(next http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Method == http.MethodPost {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					WriteError(w, http.StatusRequestEntityTooLarge, CodeBadUserInput, fmt.Sprintf("request body is larger than the limit of %d bytes", max))
				} else {
					WriteError(w, http.StatusBadRequest, CodeBadRequest, "could not read the request body")
				}
				return
			}
			if (transport.POST{}).Supports(r) {
				if msg := requestBodyError(body); msg != "" {
					WriteError(w, http.StatusBadRequest, CodeBadRequest, msg)
					return
				}
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		next.ServeHTTP(w, r)
	})
}

// requestBodyError says what is wrong with a JSON request body that gqlgen
// could not decode as one operation, without quoting it; "" when nothing.
func requestBodyError(body []byte) string {
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return "batched operations are not supported; send one operation per request"
	}
	var params graphql.RawParams // what gqlgen decodes, the same way
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	err := dec.Decode(&params)
	var syntax *json.SyntaxError
	var wrongType *json.UnmarshalTypeError
	switch {
	case err == nil && len(bytes.TrimSpace(body[dec.InputOffset():])) > 0:
		// gqlgen would read the first value and ignore the rest.
		return fmt.Sprintf("the request body holds more than one JSON value (the first ends at byte %d); send one object", dec.InputOffset())
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		return `the request body is empty; send {"query": "…", "variables": {…}}`
	case errors.As(err, &wrongType) && wrongType.Field == "":
		return `the request body must be a JSON object: {"query": "…", "variables": {…}}`
	case errors.As(err, &wrongType):
		return fmt.Sprintf("%q in the request body must be %s, not a JSON %s", wrongType.Field, jsonKind(wrongType.Type.Kind()), wrongType.Value)
	case errors.As(err, &syntax):
		return fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntax.Offset)
	default:
		return "the request body is not valid JSON (it ends early)"
	}
}

func jsonKind(k reflect.Kind) string {
	if k == reflect.String {
		return "a string"
	}
	return "an object"
}

// writeRequestError answers a request refused before it reached gqlgen,
// in GraphQL's error shape.
func WriteError(w http.ResponseWriter, status int, code Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": string(code)},
	}}})
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
	if depth := selectionDepth(oc.Doc, oc.Operation.SelectionSet); depth > int(d) {
		err := gqlerror.Errorf("query is nested %d levels deep; the limit is %d", depth, int(d))
		err.Extensions = map[string]any{"code": string(CodeBadUserInput)}
		return err
	}
	return nil
}

// selectionDepth is the deepest chain of fields in set, through fragments,
// each fragment measured once: a fragment that spreads the next one twice
// would otherwise be walked 2ⁿ times.
func selectionDepth(doc *ast.QueryDocument, set ast.SelectionSet) int {
	return newDocShape(doc, saturation).set(set).depth
}
