package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// QueryLimits bound what a GraphQL document may cost before gqlgen
// validates it. Validation compares every pair of fields that share a
// response name in a selection (quadratic) and re-walks a fragment at each
// of its spreads (exponential when fragments spread each other twice), so
// these are counted first, in one linear pass that remembers each fragment.
type QueryLimits struct {
	// MaxTokens bounds a document's lexical tokens; the parser stops at the
	// limit. Default 10,000 (the standard introspection query has ~400).
	MaxTokens int
	// MaxFields bounds a document's fields counted with every fragment
	// spread expanded, over all its operations and fragments. Default
	// 2,000, the default complexity limit: a query over it could not run.
	MaxFields int
	// MaxRepeats bounds how often one response name (a field or an alias)
	// appears in one selection, fragments expanded. Default 50.
	MaxRepeats int
	// MaxDirectives bounds the directives on one field, fragment or
	// operation. Default 10.
	MaxDirectives int
}

func (l *QueryLimits) defaults() {
	if l.MaxTokens == 0 {
		l.MaxTokens = 10_000
	}
	if l.MaxFields == 0 {
		l.MaxFields = 2_000
	}
	if l.MaxRepeats == 0 {
		l.MaxRepeats = 50
	}
	if l.MaxDirectives == 0 {
		l.MaxDirectives = 10
	}
}

// Check parses query within the token limit and measures it; the error
// names the limit exceeded. A query that does not parse passes, for gqlgen
// to report with its position.
func (l QueryLimits) Check(query string) *gqlerror.Error {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, l.MaxTokens)
	if err != nil {
		if strings.Contains(err.Error(), "exceeded token limit") {
			return limitError("the query has more than %d tokens, the limit", l.MaxTokens)
		}
		return nil
	}
	d := newDocShape(doc, l.MaxFields)
	fields := d.document(doc)
	switch {
	case d.cycle != "":
		return validationError("fragment %s spreads itself", d.cycle)
	case d.spent > d.budget || fields > l.MaxFields:
		return limitError("the query has more than %d fields with its fragments expanded, the limit", l.MaxFields)
	case d.repeats > l.MaxRepeats:
		return limitError("%q appears %d times in one selection; the limit is %d", d.repeated, d.repeats, l.MaxRepeats)
	case d.directives > l.MaxDirectives:
		return limitError("%s has %d directives; the limit is %d", d.directed, d.directives, l.MaxDirectives)
	}
	return nil
}

// docShape measures a document in one pass, each fragment once however
// often it is spread, so that measuring costs what reading does.
type docShape struct {
	// budget bounds the walk's own work: each response name merged into a
	// selection is one unit, and a document never needs more units than
	// it has expanded fields, so past budget the walk stops.
	budget, spent int

	fragments map[string]*ast.FragmentDefinition
	measured  map[string]*setShape // a nil value: being measured
	cycle     string               // a fragment that spreads itself

	repeats    int // the most times one response name appears in a selection
	repeated   string
	directives int // the most directives in one place
	directed   string
}

// setShape is what a selection set costs with its fragments expanded.
type setShape struct {
	fields int            // every field, nested ones included (saturating)
	depth  int            // the deepest chain of fields
	names  map[string]int // response names at this level and their counts
}

// saturation caps counts: fragments that spread each other twice double
// the count at every level, which would overflow.
const saturation = 1 << 40

func newDocShape(doc *ast.QueryDocument, budget int) *docShape {
	d := &docShape{budget: budget, fragments: map[string]*ast.FragmentDefinition{}, measured: map[string]*setShape{}}
	for _, f := range doc.Fragments {
		if _, dup := d.fragments[f.Name]; !dup {
			d.fragments[f.Name] = f
		}
	}
	return d
}

// document counts the fields of every operation and every fragment
// definition, used or not, since validation walks each of them.
func (d *docShape) document(doc *ast.QueryDocument) int {
	total := 0
	for _, op := range doc.Operations {
		d.directivesAt(op.Directives, "the operation")
		total = min(total+d.set(op.SelectionSet).fields, saturation)
	}
	for _, f := range doc.Fragments {
		d.directivesAt(f.Directives, "fragment "+f.Name)
		s := d.fragment(f.Name)
		if d.fragments[f.Name] != f {
			s = d.set(f.SelectionSet) // a second definition of the name
		}
		total = min(total+s.fields, saturation)
	}
	return total
}

// fragment measures a fragment definition once.
func (d *docShape) fragment(name string) *setShape {
	if s, seen := d.measured[name]; seen {
		if s == nil {
			d.cycle = name
			return &setShape{}
		}
		return s
	}
	f := d.fragments[name]
	if f == nil {
		return &setShape{} // unknown: validation reports it
	}
	d.measured[name] = nil
	s := d.set(f.SelectionSet)
	d.measured[name] = s
	return s
}

// set measures a selection set: its fields, its depth, and how often each
// response name appears in it once fragments are inlined.
func (d *docShape) set(sels ast.SelectionSet) *setShape {
	s := &setShape{names: map[string]int{}}
	d.collect(s, sels)
	return s
}

// collect adds selections to s; an inline fragment's are at s's level.
func (d *docShape) collect(s *setShape, sels ast.SelectionSet) {
	for _, sel := range sels {
		if d.spent > d.budget {
			return
		}
		switch x := sel.(type) {
		case *ast.Field:
			d.directivesAt(x.Directives, "field "+x.Alias)
			sub := d.set(x.SelectionSet)
			s.fields = min(s.fields+1+sub.fields, saturation)
			s.depth = max(s.depth, 1+sub.depth)
			s.count(d, x.Alias, 1)
		case *ast.InlineFragment:
			d.directivesAt(x.Directives, "an inline fragment")
			d.collect(s, x.SelectionSet)
		case *ast.FragmentSpread:
			d.directivesAt(x.Directives, "the spread of "+x.Name)
			s.merge(d, d.fragment(x.Name))
		}
	}
}

// merge inlines a fragment's selection into s.
func (s *setShape) merge(d *docShape, o *setShape) {
	s.fields = min(s.fields+o.fields, saturation)
	s.depth = max(s.depth, o.depth)
	for name, n := range o.names {
		if d.spent > d.budget {
			return
		}
		s.count(d, name, n)
	}
}

// count adds n occurrences of a response name to s.
func (s *setShape) count(d *docShape, name string, n int) {
	d.spent++
	c := min(s.names[name]+n, saturation)
	s.names[name] = c
	if c > d.repeats {
		d.repeats, d.repeated = c, name
	}
}

func (d *docShape) directivesAt(list ast.DirectiveList, where string) {
	if len(list) > d.directives {
		d.directives, d.directed = len(list), where
	}
}

func limitError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	err.Extensions = map[string]any{"code": string(CodeBadUserInput)}
	return err
}

func validationError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// queryGate applies QueryLimits to every operation on every transport
// before gqlgen parses it, skipping documents the cache holds (they passed
// already), and refuses work for a client that has gone.
type queryGate struct {
	limits QueryLimits
	cache  *queryCache
}

var _ graphql.OperationParameterMutator = queryGate{}

func (queryGate) ExtensionName() string                   { return "QueryGate" }
func (queryGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g queryGate) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if err := ctx.Err(); err != nil {
		return limitError("the request was cancelled")
	}
	if g.cache.holds(p.Query) {
		return nil
	}
	return g.limits.Check(p.Query)
}
