package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Where the count of a connection that can hold a great many rows stops:
// counting every match costs time in proportion to them, reading at most
// cap+1 costs a bounded time. Keys stop higher than the logs (usage
// records, audit events), which grow without end and whose filters may
// match most of them.
const (
	keyCountCap = 10_000
	logCountCap = 1_000
)

// cappedCount counts a query's rows up to limit: the count, and whether
// it is exact (at most limit rows match). Both steps count in the
// database, which hands back one row: whether a row lies past limit, then,
// when none does, how many there are. Each reads only column of the rows
// (not the id): one that the table's indexes hold, so that PostgreSQL
// counts from an index alone instead of fetching every row counted (up to
// limit of them) from the table.
func cappedCount[Q cappable[Q, S], S selectScanner](ctx context.Context, q Q, limit int, column string) (int, bool, error) {
	var past []any
	if err := q.Clone().Offset(limit).Limit(1).Select(column).Scan(ctx, &past); err != nil {
		return 0, false, fmt.Errorf("count: %w", err)
	}
	if len(past) > 0 {
		return limit, false, nil
	}
	all := q.Clone()
	all.Select(column) // counts column's values, not the ids
	n, err := all.Count(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("count: %w", err)
	}
	if n > limit { // rows written between the two steps
		return limit, false, nil
	}
	return n, true, nil
}

// cappable is an ent query that cappedCount can count; S is its select
// builder.
type cappable[Q any, S selectScanner] interface {
	Clone() Q
	Offset(int) Q
	Limit(int) Q
	Select(...string) S
	Count(context.Context) (int, error)
}

// selectScanner is an ent select builder.
type selectScanner interface {
	Scan(context.Context, any) error
}

// countTotal sets a connection's totalCount (through total) and its
// totalCountIsExact from q's matches counted up to limit by column (see
// cappedCount), when the query asks for either; otherwise it counts
// nothing.
func countTotal[Q cappable[Q, S], S selectScanner](ctx context.Context, l *pageLoader, conn any, total *int, q Q, limit int, column string) error {
	if !countAsked(ctx) {
		return nil
	}
	n, exact, err := cappedCount(ctx, q, limit, column)
	if err != nil {
		return err
	}
	*total = n
	l.setExact(conn, exact)
	return nil
}

// countParts is countTotal of a query answered in parts that share no
// row: the sum of the parts' capped counts, itself capped.
func countParts[Q cappable[Q, S], S selectScanner](ctx context.Context, l *pageLoader, conn any, total *int, parts []Q, limit int, column string) error {
	if !countAsked(ctx) {
		return nil
	}
	sum, exact := 0, true
	for _, q := range parts {
		n, e, err := cappedCount(ctx, q, limit, column)
		if err != nil {
			return err
		}
		sum, exact = sum+n, exact && e
	}
	if sum > limit {
		sum, exact = limit, false
	}
	*total = sum
	l.setExact(conn, exact)
	return nil
}

// countAsked reports whether the connection field being resolved asks
// for totalCount or totalCountIsExact.
func countAsked(ctx context.Context) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		if f.Name == "totalCount" || f.Name == "totalCountIsExact" {
			return true
		}
	}
	return false
}

// withoutCount is ctx with the connection field's selections minus what
// makes the generated Paginate count every match: totalCount and
// pageInfo. Paginate then sets pageInfo from the page it reads; when only
// pageInfo was asked for, an edges selection (never answered) makes it
// read that page. Counting is left to cappedCount.
func withoutCount(ctx context.Context) context.Context {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ctx
	}
	var sels ast.SelectionSet
	edges, pageInfo := false, false
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		edges = edges || f.Name == "edges"
		pageInfo = pageInfo || f.Name == "pageInfo"
		if f.Name == "totalCount" || f.Name == "pageInfo" {
			continue
		}
		field := *f.Field
		field.SelectionSet = f.Selections
		sels = append(sels, &field)
	}
	if pageInfo && !edges {
		sels = append(sels, &ast.Field{Alias: "edges", Name: "edges"})
	}
	c := *fc
	c.Field.Selections = sels
	return graphql.WithFieldContext(ctx, &c)
}

// setExact remembers whether a connection's count is exact, for its
// totalCountIsExact; the pageLoader of the response holds it.
func (l *pageLoader) setExact(conn any, exact bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exact[conn] = exact
}

func (l *pageLoader) isExact(conn any) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	exact, ok := l.exact[conn]
	return !ok || exact
}
