package graph

import (
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/predicate"
)

// keySearch matches the keys whose name or display prefix starts with s,
// each comparison one an index answers.
func keySearch(s string) predicate.APIKey {
	return predicate.APIKey(func(sel *sql.Selector) {
		if s == "" {
			return
		}
		sel.Where(sql.Or(
			hasPrefix(sel, apikey.FieldName, s),
			hasPrefix(sel, apikey.FieldKeyPrefix, clientkey.DisplayPrefix(s)),
		))
	})
}

// hasPrefix is column col starting with s, byte for byte. PostgreSQL
// answers LIKE 's%' from an index of the pattern operator class;
// SQLite's LIKE ignores case and so uses no ordinary index, so there it
// is the range of strings from s up to s with its last character
// incremented, which the column's index answers.
func hasPrefix(sel *sql.Selector, col, s string) *sql.Predicate {
	c := sel.C(col)
	if sel.Dialect() == dialect.Postgres {
		return sql.HasPrefix(c, s)
	}
	if next, ok := prefixEnd(s); ok {
		return sql.And(sql.GTE(c, s), sql.LT(c, next))
	}
	return sql.GTE(c, s) // s ends in the last code point: nothing sorts after it
}

// prefixEnd is the least string after every string that starts with s:
// s with its last character incremented (UTF-8 sorts as its code points
// do). ok is false when s ends in the last code point.
func prefixEnd(s string) (string, bool) {
	r, size := utf8.DecodeLastRuneInString(s)
	if r == utf8.MaxRune || r == utf8.RuneError {
		return "", false
	}
	r++
	if r >= 0xD800 && r <= 0xDFFF { // surrogates are not characters
		r = 0xE000
	}
	return s[:len(s)-size] + string(r), true
}
