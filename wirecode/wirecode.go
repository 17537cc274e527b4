// Package wirecode numbers the gateway's wire protocols and proxy routes
// for storage: a usage record keeps a small integer per protocol and
// endpoint instead of its name. The numbers are stored, so each list only
// ever grows at its end; a name not listed is stored as 0 and reads back
// empty.
package wirecode

import (
	"database/sql"
	"database/sql/driver"

	"entgo.io/ent/schema/field"
)

// protocols are the wire protocols by code; 0 is none.
var protocols = []string{"", "openai", "anthropic", "gemini", "cohere"}

// endpoints are the proxy routes by code; 0 is none. Gemini's routes
// carry the model as a placeholder.
var endpoints = []string{"",
	"/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/embeddings",
	"/v1/messages", "/v1/messages/count_tokens", "/v2/chat", "/v2/embed",
	"/v1beta/models/{model}:generateContent", "/v1beta/models/{model}:streamGenerateContent",
	"/v1beta/models/{model}:countTokens", "/v1beta/models/{model}:embedContent",
	"/v1beta/models/{model}:batchEmbedContents",
	"/v1/models/{model}:generateContent", "/v1/models/{model}:streamGenerateContent",
	"/v1/models/{model}:countTokens", "/v1/models/{model}:embedContent",
	"/v1/models/{model}:batchEmbedContents",
}

// Table is one list of names and its codes.
type Table struct {
	names []string
	codes map[string]int16
}

func newTable(names []string) *Table {
	t := &Table{names: names, codes: make(map[string]int16, len(names))}
	for i, n := range names {
		t.codes[n] = int16(i)
	}
	return t
}

// The tables.
var (
	Protocols = newTable(protocols)
	Endpoints = newTable(endpoints)
)

// Code is name's code, 0 for a name not listed.
func (t *Table) Code(name string) int16 { return t.codes[name] }

// Name is code's name, "" for a code not listed.
func (t *Table) Name(code int64) string {
	if code < 0 || code >= int64(len(t.names)) {
		return ""
	}
	return t.names[code]
}

// Names lists the names in code order, 0's empty name first.
func (t *Table) Names() []string { return append([]string(nil), t.names...) }

// Value is what the database stores for name: its code, or NULL for ""
// in a column that may be NULL.
func (t *Table) Value(name string, nullable bool) driver.Value {
	if name == "" && nullable {
		return nil
	}
	return int64(t.Code(name))
}

// ValueScanner stores an ent string field as its code in t; nullable
// fields store "" as NULL.
func (t *Table) ValueScanner(nullable bool) field.ValueScannerFunc[string, *sql.NullInt64] {
	return field.ValueScannerFunc[string, *sql.NullInt64]{
		V: func(name string) (driver.Value, error) { return t.Value(name, nullable), nil },
		S: func(v *sql.NullInt64) (string, error) {
			if !v.Valid {
				return "", nil
			}
			return t.Name(v.Int64), nil
		},
	}
}
