package requestid

import (
	"bytes"
	"database/sql"
	"testing"
)

// TestEncode: gateway-made IDs take 17 bytes, others their own length,
// and every ID reads back as it was.
func TestEncode(t *testing.T) {
	cases := []struct {
		id      string
		size    int
		decoded string
	}{
		{"req_0123456789abcdef0123456789abcdef", 17, ""},
		{"req_00000000000000000000000000000000", 17, ""},
		{"req_0123456789ABCDEF0123456789ABCDEF", 36, ""}, // upper case: a client's
		{"req_0123456789abcdef0123456789abcde", 35, ""},  // one digit short
		{"req_0123456789abcdef0123456789abcdefa", 37, ""},
		{"client-trace:42", 15, ""},
		{"", 0, ""},
		{"\x00abcdefghijklmnop", 16, "abcdefghijklmnop"}, // would look made: stored without its zero byte
	}
	for _, c := range cases {
		b := Encode(c.id)
		want := c.decoded
		if want == "" {
			want = c.id
		}
		if len(b) != c.size {
			t.Errorf("Encode(%q) is %d bytes, want %d", c.id, len(b), c.size)
		}
		if got := Decode(b); got != want {
			t.Errorf("Decode(Encode(%q)) = %q, want %q", c.id, got, want)
		}
		v, _ := ValueScanner.Value(c.id)
		if !bytes.Equal(v.([]byte), b) {
			t.Errorf("ValueScanner stores %q as %x, want %x", c.id, v, b)
		}
		got, err := ValueScanner.FromValue(&sql.Null[[]byte]{V: b, Valid: true})
		if err != nil || got != want {
			t.Errorf("ValueScanner reads %x as %q, %v; want %q", b, got, err, want)
		}
	}
}
