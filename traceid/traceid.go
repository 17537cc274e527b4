// Package traceid carries a request's W3C trace id: 16 bytes, written as
// 32 lowercase hex digits, stored as its bytes. The zero id means none.
package traceid

import (
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"

	"entgo.io/ent/schema/field"
)

// ID is a trace id; the zero ID is none.
type ID [16]byte

// IsZero reports whether id is none.
func (id ID) IsZero() bool { return id == ID{} }

// String is id in lowercase hex; "" for none.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// Parse reads 32 hex digits; "" is none. An all-zero id is invalid in W3C
// Trace Context and refused.
func Parse(s string) (ID, error) {
	var id ID
	if s == "" {
		return id, nil
	}
	if len(s) != 2*len(id) {
		return ID{}, fmt.Errorf("trace id %q: want %d hex digits", s, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return ID{}, fmt.Errorf("trace id %q: %w", s, err)
	}
	if id.IsZero() {
		return ID{}, fmt.Errorf("trace id %q: all zeros is not a trace id", s)
	}
	return id, nil
}

// FromTraceparent is the trace id of a W3C traceparent header value
// ("00-<32 hex>-<16 hex>-<2 hex>"); false when the value is not one. It
// does not allocate.
func FromTraceparent(v string) (ID, bool) {
	var id ID
	// version "00" has exactly 55 characters; later versions may append.
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || v[:2] == "ff" || (v[:2] == "00" && len(v) != 55) {
		return id, false
	}
	for i := range id {
		hi, ok1 := unhex(v[3+2*i])
		lo, ok2 := unhex(v[4+2*i])
		if !ok1 || !ok2 {
			return ID{}, false
		}
		id[i] = hi<<4 | lo
	}
	for i := 36; i < 52; i++ {
		if _, ok := unhex(v[i]); !ok {
			return ID{}, false
		}
	}
	if id.IsZero() || v[36:52] == "0000000000000000" {
		return ID{}, false
	}
	return id, true
}

// unhex reads one lowercase hex digit, as W3C Trace Context writes them.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// ValueScanner stores an ent string field holding hex (String's form) as
// the id's 16 bytes, and "" as NULL.
var ValueScanner = field.ValueScannerFunc[string, *sql.Null[[]byte]]{
	V: func(s string) (driver.Value, error) {
		id, err := Parse(s)
		if err != nil || id.IsZero() {
			return nil, err
		}
		return id[:], nil
	},
	S: func(v *sql.Null[[]byte]) (string, error) {
		if !v.Valid || len(v.V) == 0 {
			return "", nil
		}
		if len(v.V) != len(ID{}) {
			return "", fmt.Errorf("stored trace id has %d bytes, want %d", len(v.V), len(ID{}))
		}
		return hex.EncodeToString(v.V), nil
	},
}
