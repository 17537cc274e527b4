package database

import (
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
)

// Rebind turns ? placeholders into PostgreSQL's $1, $2, … so that hand-written
// SQL is written once for both dialects. A '?' inside a string literal
// ('a?b', with ” as an escaped quote), a quoted identifier ("a?b") or a
// comment (-- to the end of the line, /* … */) is text, not a placeholder,
// and stays. Build statements once, not per call: Rebind copies the query.
func Rebind(dialectName, q string) string {
	if dialectName != dialect.Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == '\'' || c == '"':
			// A doubled quote inside is an escaped one: the scan ends at the
			// first closing quote and the next iteration opens again.
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+2])
			i += end + 1
			continue
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end])
			i += end - 1
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+end+4])
			i += end + 3
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
