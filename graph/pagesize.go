package graph

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// MaxPageSize is the default bound on one page of any connection (first or
// last) and on the ids of one nodes query: a page is read whole into
// memory and answered whole, so the largest a caller may ask for must be
// bounded. The dashboard asks for at most 200.
const MaxPageSize = 1000

// pageLimit bounds every connection's page, in one rule for every
// connection field at any depth: an explicit first or last above the
// limit, or more ids than it, is refused before anything runs, and a
// top-level connection asked for without first or last gets the limit as
// its first, so that no query reads a whole table.
type pageLimit int

var (
	_ graphql.HandlerExtension        = pageLimit(0)
	_ graphql.OperationContextMutator = pageLimit(0)
	_ rootFieldInterceptor            = pageLimit(0)
)

func (pageLimit) ExtensionName() string                   { return "PageLimit" }
func (pageLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks every field of the document once: the
// operations' and each fragment's own selections, without following
// spreads, so the work is linear in the document's size.
func (p pageLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Doc == nil {
		return nil
	}
	for _, op := range oc.Doc.Operations {
		if err := p.check(op.SelectionSet, oc.Variables); err != nil {
			return err
		}
	}
	for _, f := range oc.Doc.Fragments {
		if err := p.check(f.SelectionSet, oc.Variables); err != nil {
			return err
		}
	}
	return nil
}

func (p pageLimit) check(set ast.SelectionSet, vars map[string]any) *gqlerror.Error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if err := p.checkField(s, vars); err != nil {
				return err
			}
			if err := p.check(s.SelectionSet, vars); err != nil {
				return err
			}
		case *ast.InlineFragment:
			if err := p.check(s.SelectionSet, vars); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p pageLimit) checkField(f *ast.Field, vars map[string]any) *gqlerror.Error {
	if f.Definition == nil {
		return nil
	}
	if isPaged(f.Definition) {
		for _, name := range []string{"first", "last"} {
			if n, ok := intArg(f, name, vars); ok && (n < 0 || n > int64(p)) {
				return p.refuse(f, name, fmt.Sprintf("is %d; a page holds from 0 to %d items: ask for the next page with after (or before)", n, int(p)))
			}
		}
	}
	if ids, ok := listArg(f, "ids", vars); ok && len(ids) > int(p) {
		return p.refuse(f, "ids", fmt.Sprintf("lists %d IDs; ask for at most %d at a time", len(ids), int(p)))
	}
	return nil
}

func (p pageLimit) refuse(f *ast.Field, arg, why string) *gqlerror.Error {
	err := gqlerror.Errorf("%s.%s %s", f.Alias, arg, why)
	err.Extensions = map[string]any{"code": string(CodeBadUserInput), "field": arg}
	return err
}

// listArg is the value of a field's list argument.
func listArg(f *ast.Field, name string, vars map[string]any) ([]any, bool) {
	v, ok := argValue(f, name, vars)
	list, isList := v.([]any)
	return list, ok && isList
}

// argValue is the value of a field's argument, given inline or as a
// variable (validation has checked its type already).
func argValue(f *ast.Field, name string, vars map[string]any) (any, bool) {
	a := f.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return nil, false
	}
	if a.Value.Kind == ast.Variable {
		v, ok := vars[a.Value.Raw]
		return v, ok
	}
	v, err := a.Value.Value(vars)
	return v, err == nil
}

// intArg is the value of a field's Int argument.
func intArg(f *ast.Field, name string, vars map[string]any) (int64, bool) {
	v, ok := argValue(f, name, vars)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// isPaged reports whether a field is a connection: it takes first and last.
func isPaged(def *ast.FieldDefinition) bool {
	return def.Arguments.ForName("first") != nil && def.Arguments.ForName("last") != nil
}

// interceptRootField gives a top-level connection asked for without first
// or last the limit as its first. (Nested connections are loaded with their
// parent and bounded by what their parent holds.)
func (p pageLimit) interceptRootField(ctx context.Context, fc *graphql.FieldContext, next graphql.Resolver) (any, error) {
	if fc.Field.Definition == nil || !isPaged(fc.Field.Definition) {
		return next(ctx)
	}
	first, _ := fc.Args["first"].(*int)
	last, _ := fc.Args["last"].(*int)
	if first == nil && last == nil {
		n := int(p)
		fc.Args["first"] = &n
	}
	return next(ctx)
}
