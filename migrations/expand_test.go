package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
)

// contractHistory lists, by name, the migrations released before the
// expand-only rule that contract the schema, with what each changed: the
// release before it could not serve on the migrated database, so that
// upgrade stopped every replica first.
var contractHistory = map[string]string{
	"usage_records_narrow": "usage_records' request_id, protocol and endpoint changed from text to stored codes, its counts to narrower integers",
}

// contractMarker is the comment a migration carries when it contracts the
// schema on purpose, saying why no running binary still needs what goes.
var contractMarker = regexp.MustCompile(`(?m)^--\s*contract:\s*\S`)

// TestMigrationsOnlyExpand applies the migrations one at a time on each
// dialect and compares the schema before and after each: a migration may
// add tables, nullable columns, columns with a default and indexes, and
// widen a column's type; dropping or renaming a table or column, adding a
// NOT NULL column without a default, making a column NOT NULL or changing
// its type otherwise breaks the release before it, which still runs
// during a rolling upgrade. Such a migration needs a "-- contract: why"
// line, or is one of the listed history.
func TestMigrationsOnlyExpand(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		db := testenv.Empty(t, d)
		all, err := migrations.Load(d)
		if err != nil {
			t.Fatal(err)
		}
		before := readSchema(t, db.SQL, d)
		contracting := map[string]bool{}
		for i, m := range all {
			stop := ""
			if i+1 < len(all) {
				stop = all[i+1].Version
			}
			if _, err := migrations.ApplyBefore(ctx, db.SQL, d, stop); err != nil {
				t.Fatalf("apply up to %s_%s: %v", m.Version, m.Name, err)
			}
			after := readSchema(t, db.SQL, d)
			problems := contractions(before, after)
			before = after
			if len(problems) == 0 {
				continue
			}
			contracting[m.Name] = true
			if contractMarker.MatchString(m.SQL) || contractHistory[m.Name] != "" {
				continue
			}
			t.Errorf("migration %s contracts the schema, which breaks the release before it during a rolling upgrade:\n  %s\n"+
				"expand in this release and contract in the next one, with a \"-- contract: <why no binary still uses it>\" line (docs/upgrades.md)",
				m.Version+"_"+m.Name, strings.Join(problems, "\n  "))
		}
		for name := range contractHistory {
			if !contracting[name] {
				t.Errorf("%s is listed as contracting history but does not contract the schema on %s", name, d)
			}
		}
	})
}

// TestContractions: each way of breaking the release before is found, and
// expanding is not.
func TestContractions(t *testing.T) {
	before := schemaOf{"t": {"a": {typ: "varchar(10)", nullable: true}, "b": {typ: "text"}}}
	for _, tt := range []struct {
		name  string
		after schemaOf
		want  string
	}{
		{"add a table, a nullable column, one with a default; widen", schemaOf{
			"t": {"a": {typ: "varchar(20)", nullable: true}, "b": {typ: "text"}, "c": {typ: "int", nullable: true}, "d": {typ: "int", hasDefault: true}},
			"u": {"x": {typ: "int"}}}, ""},
		{"drop the table", schemaOf{}, "table t dropped"},
		{"rename a column", schemaOf{"t": {"a": {typ: "varchar(10)", nullable: true}, "c": {typ: "text"}}}, "column t.b dropped; column t.c added NOT NULL without a default"},
		{"not null without default", schemaOf{"t": {"a": {typ: "varchar(10)", nullable: true}, "b": {typ: "text"}, "c": {typ: "int"}}}, "column t.c added NOT NULL without a default"},
		{"make a column not null", schemaOf{"t": {"a": {typ: "varchar(10)"}, "b": {typ: "text"}}}, "column t.a made NOT NULL"},
		{"narrow", schemaOf{"t": {"a": {typ: "varchar(5)", nullable: true}, "b": {typ: "text"}}}, "column t.a changed type from varchar(10) to varchar(5)"},
		{"change type", schemaOf{"t": {"a": {typ: "varchar(10)", nullable: true}, "b": {typ: "integer"}}}, "column t.b changed type from text to integer"},
	} {
		got := strings.Join(contractions(before, tt.after), "; ")
		if got != tt.want {
			t.Errorf("%s: contractions = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// column is what an older binary relies on in a column.
type column struct {
	typ        string
	nullable   bool
	hasDefault bool
}

// schemaOf is table → column → column.
type schemaOf map[string]map[string]column

// contractions lists what after takes away from before, sorted.
func contractions(before, after schemaOf) []string {
	var out []string
	for table, cols := range before {
		now, ok := after[table]
		if !ok {
			out = append(out, fmt.Sprintf("table %s dropped", table))
			continue
		}
		for name, was := range cols {
			c, ok := now[name]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("column %s.%s dropped", table, name))
			case c.typ != was.typ && !widens(was.typ, c.typ):
				out = append(out, fmt.Sprintf("column %s.%s changed type from %s to %s", table, name, was.typ, c.typ))
			case was.nullable && !c.nullable:
				out = append(out, fmt.Sprintf("column %s.%s made NOT NULL", table, name))
			}
		}
		for name, c := range now {
			if _, ok := cols[name]; !ok && !c.nullable && !c.hasDefault {
				out = append(out, fmt.Sprintf("column %s.%s added NOT NULL without a default", table, name))
			}
		}
	}
	slices.Sort(out)
	return out
}

var sizedType = regexp.MustCompile(`^(.*)\((\d+)\)$`)

// widens reports whether every value of type from fits type to: a longer
// length of the same type, any character type to text, or a wider integer.
func widens(from, to string) bool {
	if m, n := sizedType.FindStringSubmatch(from), sizedType.FindStringSubmatch(to); m != nil && n != nil && m[1] == n[1] {
		a, _ := strconv.Atoi(m[2])
		b, _ := strconv.Atoi(n[2])
		return b >= a
	}
	if to == "text" && (strings.HasPrefix(from, "character varying") || strings.HasPrefix(from, "varchar")) {
		return true
	}
	ints := []string{"smallint", "integer", "bigint"}
	i, j := slices.Index(ints, from), slices.Index(ints, to)
	return i >= 0 && j >= i
}

// readSchema reads every table's columns but the migrations' own table.
func readSchema(t *testing.T, db *sql.DB, d string) schemaOf {
	t.Helper()
	s := schemaOf{}
	add := func(table, name string, c column) {
		if table == "sluice_schema_migrations" || strings.HasPrefix(table, "sqlite_") {
			return
		}
		if s[table] == nil {
			s[table] = map[string]column{}
		}
		s[table][name] = c
	}
	q := `SELECT table_name, column_name, data_type || COALESCE('(' || character_maximum_length || ')', ''), is_nullable = 'YES', column_default IS NOT NULL
		FROM information_schema.columns WHERE table_schema = current_schema()`
	if d == dialect.SQLite {
		q = `SELECT m.name, p.name, lower(p.type), p."notnull" = 0, p.dflt_value IS NOT NULL
		FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("read the schema: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, name string
		var c column
		if err := rows.Scan(&table, &name, &c.typ, &c.nullable, &c.hasDefault); err != nil {
			t.Fatal(err)
		}
		add(table, name, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}
