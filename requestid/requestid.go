// Package requestid stores request IDs compactly: an ID the gateway made
// ("req_" and 32 lowercase hex digits) as a zero byte and its 16 random
// bytes, any other (a client's X-Request-Id) as its own bytes. Client IDs
// never start with a zero byte, so the two never collide.
package requestid

import (
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"strings"

	"entgo.io/ent/schema/field"
)

const (
	prefix   = "req_"
	hexLen   = 32
	madeMark = 0 // first byte of a gateway-made ID's encoding
)

// Encode is id's stored form. An id starting with a zero byte is stored
// without its zero bytes.
func Encode(id string) []byte {
	if len(id) == len(prefix)+hexLen && strings.HasPrefix(id, prefix) && lowerHex(id[len(prefix):]) {
		b := make([]byte, 1+hexLen/2)
		b[0] = madeMark
		_, _ = hex.Decode(b[1:], []byte(id[len(prefix):]))
		return b
	}
	if strings.HasPrefix(id, "\x00") {
		id = strings.ReplaceAll(id, "\x00", "")
	}
	return []byte(id)
}

// Decode is the ID whose stored form is b.
func Decode(b []byte) string {
	if len(b) == 1+hexLen/2 && b[0] == madeMark {
		return prefix + hex.EncodeToString(b[1:])
	}
	return string(b)
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// ValueScanner stores an ent string field by Encode.
var ValueScanner = field.ValueScannerFunc[string, *sql.Null[[]byte]]{
	V: func(id string) (driver.Value, error) { return Encode(id), nil },
	S: func(v *sql.Null[[]byte]) (string, error) { return Decode(v.V), nil },
}
