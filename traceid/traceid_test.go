package traceid

import (
	"database/sql"
	"testing"
)

func TestFromTraceparent(t *testing.T) {
	cases := []struct {
		in   string
		want string
		ok   bool
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "4bf92f3577b34da6a3ce929d0e0e4736", true},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "", false}, // version 00 has no tail
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", false},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "", false},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "", false},
		{"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		id, ok := FromTraceparent(c.in)
		if ok != c.ok || id.String() != c.want {
			t.Errorf("FromTraceparent(%q) = %q, %v; want %q, %v", c.in, id, ok, c.want, c.ok)
		}
	}
}

func TestFromTraceparentAllocatesNothing(t *testing.T) {
	v := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if n := testing.AllocsPerRun(100, func() { _, _ = FromTraceparent(v) }); n != 0 {
		t.Errorf("FromTraceparent allocates %v times", n)
	}
}

func TestValueScanner(t *testing.T) {
	hex := "4bf92f3577b34da6a3ce929d0e0e4736"
	v, err := ValueScanner.V(hex)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := v.([]byte)
	if !ok || len(b) != 16 {
		t.Fatalf("stored %T %v, want 16 bytes", v, v)
	}
	back, err := ValueScanner.S(&sql.Null[[]byte]{V: b, Valid: true})
	if err != nil || back != hex {
		t.Errorf("read back %q, %v; want %q", back, err, hex)
	}
	if v, err := ValueScanner.V(""); v != nil || err != nil {
		t.Errorf(`V("") = %v, %v; want NULL`, v, err)
	}
	if s, err := ValueScanner.S(&sql.Null[[]byte]{}); s != "" || err != nil {
		t.Errorf("S(NULL) = %q, %v; want empty", s, err)
	}
	if _, err := ValueScanner.V("not-hex"); err == nil {
		t.Error("V accepted a value that is not a trace id")
	}
	if _, err := ValueScanner.S(&sql.Null[[]byte]{V: []byte{1, 2}, Valid: true}); err == nil {
		t.Error("S accepted 2 stored bytes")
	}
}
