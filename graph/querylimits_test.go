package graph

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// doublingFragments is a document of levels fragments, each spreading the
// next one twice: 1.1 KB at 26 levels, 2²⁶ fields once expanded.
func doublingFragments(levels int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", levels)
	return b.String()
}

// attacks are the documents that took the gateway's CPU or memory: each
// must be refused by the limit named.
var attacks = []struct {
	name, query, limit string
}{
	{"fragments spreading the next twice, 26 levels", doublingFragments(26), "fields with its fragments expanded"},
	{"fragments spreading the next twice, 200 levels", doublingFragments(200), "fields with its fragments expanded"},
	{"one field 20,000 times", "{ " + strings.Repeat("__typename ", 20_000) + "}", "tokens"},
	{"one field 100 times", "{ " + strings.Repeat("__typename ", 100) + "}", "appears 100 times"},
	{"one field 60 times through fragments", "{ ...A ...A ...A } fragment A on Query { " + strings.Repeat("__typename ", 20) + "}", "appears 60 times"},
	{"50,000 directives", "{ __typename " + strings.Repeat("@skip(if: false) ", 50_000) + "}", "tokens"},
	{"1,000 directives", "{ __typename " + strings.Repeat("@skip(if: false) ", 1_000) + "}", "field __typename has 1000 directives"},
	{"2,001 distinct aliases", "{ " + aliases(2001) + "}", "fields with its fragments expanded"},
	{"an unused fragment of 2,001 fields", "{ __typename } fragment U on Query { " + aliases(2001) + "}", "fields with its fragments expanded"},
	{"a fragment cycle", "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", "spreads itself"},
}

func aliases(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "a%d: __typename ", i)
	}
	return b.String()
}

func defaultLimits() QueryLimits {
	var l QueryLimits
	l.defaults()
	return l
}

// TestQueryLimitsRefuseAttacks: every attack is refused, naming its limit,
// with one short error.
func TestQueryLimitsRefuseAttacks(t *testing.T) {
	limits := defaultLimits()
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			err := limits.Check(a.query)
			if err == nil {
				t.Fatalf("%d bytes passed", len(a.query))
			}
			if !strings.Contains(err.Message, a.limit) || len(err.Message) > 200 {
				t.Errorf("error %q does not name %q", err.Message, a.limit)
			}
		})
	}
}

// TestQueryLimitsPassLegitimateQueries: the standard introspection query
// and every operation of the dashboard (with all its fragments) pass.
func TestQueryLimitsPassLegitimateQueries(t *testing.T) {
	limits := defaultLimits()
	if err := limits.Check(introspection.Query); err != nil {
		t.Errorf("the introspection query: %s", err.Message)
	}
	ops, fragments := dashboardDocuments(t)
	for _, op := range ops {
		if err := limits.Check(op + strings.Join(fragments, "\n")); err != nil {
			t.Errorf("%s: %s", strings.Fields(op)[:2], err.Message)
		}
	}
}

// dashboardDocuments reads the operations and fragments the dashboard
// sends from its generated client, web/src/gql/gql.ts.
func dashboardDocuments(t *testing.T) (ops, fragments []string) {
	f, err := os.Open("../web/src/gql/gql.ts")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		quoted, _, ok := strings.Cut(line, ": typeof types.")
		if !ok || !strings.HasPrefix(quoted, `"`) {
			continue
		}
		doc, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("read %.60s: %v", quoted, err)
		}
		if strings.HasPrefix(strings.TrimSpace(doc), "fragment") {
			fragments = append(fragments, doc)
		} else {
			ops = append(ops, doc)
		}
	}
	if len(ops) < 20 {
		t.Fatalf("read only %d operations from gql.ts", len(ops))
	}
	return ops, fragments
}

// TestSelectionDepthIsLinear: the depth check measures each fragment once,
// so 60 levels of fragments spreading the next twice (2⁶⁰ paths) take no
// longer than reading them.
func TestSelectionDepthIsLinear(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: doublingFragments(60)})
	if err != nil {
		t.Fatal(err)
	}
	if d := selectionDepth(doc, doc.Operations[0].SelectionSet); d != 1 {
		t.Errorf("depth %d, want 1", d)
	}
	nested, _ := parser.ParseQuery(&ast.Source{Input: "{ a { ...B } } fragment B on T { b { ...C } c } fragment C on T { d { e } }"})
	if d := selectionDepth(nested, nested.Operations[0].SelectionSet); d != 4 {
		t.Errorf("depth %d, want 4 (a b d e)", d)
	}
}

// BenchmarkQueryLimits measures the check on the attacks and on the
// introspection query.
func BenchmarkQueryLimits(b *testing.B) {
	limits := defaultLimits()
	cases := append([]struct{ name, query, limit string }{{"introspection query", introspection.Query, ""}}, attacks...)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.query)))
			for b.Loop() {
				limits.Check(c.query)
			}
		})
	}
}
