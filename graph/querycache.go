package graph

import (
	"container/list"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/lexer"
)

// queryCache keeps parsed and validated documents, least recently used
// out first, bounded by an entry count and by an estimate of the memory
// the documents hold. gqlgen offers each document to Add right after
// validation, before the depth and complexity limits run, so Add ignores
// it: admitQueries, the last extension, admits what passed every limit.
type queryCache struct {
	maxEntries int
	maxBytes   int64

	mu      sync.Mutex
	order   *list.List // of *cachedQuery, most recent first
	entries map[string]*list.Element
	bytes   int64
}

type cachedQuery struct {
	query string
	doc   *ast.QueryDocument
	bytes int64
}

// bytesPerToken is what a parsed document holds per lexical token of its
// text, measured on documents of short names (gqlparser v2.5: ~220 bytes).
const bytesPerToken = 256

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(maxEntries int, maxBytes int64) *queryCache {
	return &queryCache{maxEntries: maxEntries, maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// Get returns the document parsed from query, if it is held.
func (c *queryCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[query]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cachedQuery).doc, true
}

// Add is gqlgen's offer of a document that has only been validated; see
// admit.
func (c *queryCache) Add(context.Context, string, *ast.QueryDocument) {}

// holds says whether query is cached, without refreshing it.
func (c *queryCache) holds(query string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[query]
	return ok
}

// admit caches a document that passed every limit, evicting the least
// recently used until both bounds hold. A document larger than the whole
// byte bound is not kept.
func (c *queryCache) admit(query string, doc *ast.QueryDocument) {
	if c.holds(query) {
		return // Get has already refreshed it
	}
	size := documentBytes(query)
	if size > c.maxBytes || c.maxEntries <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[query]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.entries[query] = c.order.PushFront(&cachedQuery{query: query, doc: doc, bytes: size})
	c.bytes += size
	for len(c.entries) > c.maxEntries || c.bytes > c.maxBytes {
		oldest := c.order.Remove(c.order.Back()).(*cachedQuery)
		delete(c.entries, oldest.query)
		c.bytes -= oldest.bytes
	}
}

// size reports the entries held and their estimated bytes.
func (c *queryCache) size() (entries int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// documentBytes estimates the memory of query's parsed document: its text
// plus bytesPerToken for each token.
func documentBytes(query string) int64 {
	lex := lexer.New(&ast.Source{Input: query})
	tokens := int64(0)
	for {
		tok, err := lex.ReadToken()
		if err != nil || tok.Kind == lexer.EOF {
			break
		}
		tokens++
	}
	return int64(len(query)) + tokens*bytesPerToken
}

// admitQueries caches the operation's document once every other
// extension has accepted it: it must be the last OperationContextMutator.
type admitQueries struct{ cache *queryCache }

var _ graphql.OperationContextMutator = admitQueries{}

func (admitQueries) ExtensionName() string                   { return "AdmitQueries" }
func (admitQueries) Validate(graphql.ExecutableSchema) error { return nil }

func (a admitQueries) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Doc != nil {
		a.cache.admit(oc.RawQuery, oc.Doc)
	}
	return nil
}
