package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// dashboardDocs are the GraphQL documents the dashboard sends, read from
// its generated code (web/src/gql/graphql.ts), so that the harness times
// what the dashboard asks for, field lists included, whatever they become.
type dashboardDocs struct {
	// operations by name ("ApiKeys", "UsageLog"), each printed with the
	// fragments it uses.
	operations map[string]string
	// fragments by name ("APIKeyFields"), printed alone.
	fragments map[string]string
	// uses lists the fragments each fragment or operation spreads.
	uses map[string][]string
}

// readDashboardDocs parses the codegen output at path: one
// `export const XDocument = {…JSON AST…} as unknown as …;` line a document.
func readDashboardDocs(path string) (*dashboardDocs, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the dashboard's documents: %w", err)
	}
	d := &dashboardDocs{operations: map[string]string{}, fragments: map[string]string{}, uses: map[string][]string{}}
	ops := map[string]string{}
	for line := range strings.Lines(string(raw)) {
		rest, ok := strings.CutPrefix(line, "export const ")
		if !ok {
			continue
		}
		_, js, ok := strings.Cut(rest, "Document = ")
		if !ok {
			continue
		}
		js, _, ok = strings.Cut(js, " as unknown as ")
		if !ok {
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(js), &doc); err != nil {
			return nil, fmt.Errorf("parse a document of %s: %w", path, err)
		}
		for _, def := range list(doc["definitions"]) {
			p := &gqlPrinter{}
			p.definition(obj(def))
			name := nameOf(obj(def))
			d.uses[name] = p.spreads
			if str(obj(def)["kind"]) == "FragmentDefinition" {
				d.fragments[name] = p.b.String()
			} else {
				ops[name] = p.b.String()
			}
		}
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("no documents in %s", path)
	}
	for name, text := range ops {
		d.operations[name] = text + d.fragmentsFor(name)
	}
	return d, nil
}

// operation is a dashboard operation with its fragments.
func (d *dashboardDocs) operation(name string) (string, error) {
	op, ok := d.operations[name]
	if !ok {
		return "", fmt.Errorf("the dashboard sends no operation %q", name)
	}
	return op, nil
}

// withFragments appends to query the dashboard's fragments it spreads.
func (d *dashboardDocs) withFragments(query string, spreads ...string) (string, error) {
	for _, s := range spreads {
		if _, ok := d.fragments[s]; !ok {
			return "", fmt.Errorf("the dashboard defines no fragment %q", s)
		}
	}
	return query + d.printFragments(spreads), nil
}

// fragmentsFor prints the fragments the operation or fragment name uses.
func (d *dashboardDocs) fragmentsFor(name string) string { return d.printFragments(d.uses[name]) }

// printFragments prints spreads and the fragments they use in turn, each
// once, in name order.
func (d *dashboardDocs) printFragments(spreads []string) string {
	seen := map[string]bool{}
	for _, s := range spreads {
		d.collect(s, seen)
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("\n" + d.fragments[n])
	}
	return b.String()
}

func (d *dashboardDocs) collect(name string, seen map[string]bool) {
	if seen[name] {
		return
	}
	seen[name] = true
	for _, s := range d.uses[name] {
		d.collect(s, seen)
	}
}

// gqlPrinter prints a graphql-js AST (as JSON) back to GraphQL text.
type gqlPrinter struct {
	b       strings.Builder
	spreads []string
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func str(v any) string         { s, _ := v.(string); return s }
func nameOf(n map[string]any) string {
	return str(obj(n["name"])["value"])
}

func (p *gqlPrinter) definition(n map[string]any) {
	switch str(n["kind"]) {
	case "FragmentDefinition":
		fmt.Fprintf(&p.b, "fragment %s on %s", nameOf(n), nameOf(obj(n["typeCondition"])))
	case "OperationDefinition":
		p.b.WriteString(str(n["operation"]))
		if name := nameOf(n); name != "" {
			p.b.WriteString(" " + name)
		}
		if vars := list(n["variableDefinitions"]); len(vars) > 0 {
			p.b.WriteString("(")
			for i, v := range vars {
				if i > 0 {
					p.b.WriteString(", ")
				}
				vd := obj(v)
				p.b.WriteString("$" + nameOf(obj(vd["variable"])) + ": ")
				p.typ(obj(vd["type"]))
				if dv := obj(vd["defaultValue"]); dv != nil {
					p.b.WriteString(" = ")
					p.value(dv)
				}
			}
			p.b.WriteString(")")
		}
	}
	p.directives(n)
	p.selections(obj(n["selectionSet"]))
}

func (p *gqlPrinter) typ(n map[string]any) {
	switch str(n["kind"]) {
	case "NonNullType":
		p.typ(obj(n["type"]))
		p.b.WriteString("!")
	case "ListType":
		p.b.WriteString("[")
		p.typ(obj(n["type"]))
		p.b.WriteString("]")
	default:
		p.b.WriteString(nameOf(n))
	}
}

func (p *gqlPrinter) directives(n map[string]any) {
	for _, d := range list(n["directives"]) {
		p.b.WriteString(" @" + nameOf(obj(d)))
		p.arguments(obj(d))
	}
}

func (p *gqlPrinter) arguments(n map[string]any) {
	if args := list(n["arguments"]); len(args) > 0 {
		p.fields("(", args, ")")
	}
}

// fields prints name: value pairs (arguments, object fields) between
// open and close.
func (p *gqlPrinter) fields(open string, fs []any, close string) {
	p.b.WriteString(open)
	for i, f := range fs {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.b.WriteString(nameOf(obj(f)) + ": ")
		p.value(obj(obj(f)["value"]))
	}
	p.b.WriteString(close)
}

func (p *gqlPrinter) selections(set map[string]any) {
	sel := list(set["selections"])
	if len(sel) == 0 {
		return
	}
	p.b.WriteString(" {")
	for _, s := range sel {
		n := obj(s)
		p.b.WriteString(" ")
		switch str(n["kind"]) {
		case "FragmentSpread":
			p.b.WriteString("..." + nameOf(n))
			p.spreads = append(p.spreads, nameOf(n))
			p.directives(n)
		case "InlineFragment":
			p.b.WriteString("...")
			if tc := obj(n["typeCondition"]); tc != nil {
				p.b.WriteString(" on " + nameOf(tc))
			}
			p.directives(n)
			p.selections(obj(n["selectionSet"]))
		default:
			if alias := obj(n["alias"]); alias != nil {
				p.b.WriteString(nameOf(map[string]any{"name": alias}) + ": ")
			}
			p.b.WriteString(nameOf(n))
			p.arguments(n)
			p.directives(n)
			p.selections(obj(n["selectionSet"]))
		}
	}
	p.b.WriteString(" }")
}

func (p *gqlPrinter) value(n map[string]any) {
	switch str(n["kind"]) {
	case "Variable":
		p.b.WriteString("$" + nameOf(n))
	case "IntValue", "FloatValue", "EnumValue":
		p.b.WriteString(str(n["value"]))
	case "StringValue":
		p.b.WriteString(strconv.Quote(str(n["value"])))
	case "BooleanValue":
		b, _ := n["value"].(bool)
		p.b.WriteString(strconv.FormatBool(b))
	case "NullValue":
		p.b.WriteString("null")
	case "ListValue":
		p.b.WriteString("[")
		for i, v := range list(n["values"]) {
			if i > 0 {
				p.b.WriteString(", ")
			}
			p.value(obj(v))
		}
		p.b.WriteString("]")
	case "ObjectValue":
		p.fields("{", list(n["fields"]), "}")
	}
}
