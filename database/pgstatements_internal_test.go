package database

import "testing"

// TestIsCopy: a COPY is found whatever its case and leading space; a
// short query is not one, and does not panic.
func TestIsCopy(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{`COPY "usage_records" ("id") FROM STDIN`, true},
		{" \n\tcopy t FROM STDIN", true},
		{"SELECT 1", false},
		{"\n\n\nab", false},
		{"", false},
		{"COP", false},
	} {
		if got := isCopy(tc.query); got != tc.want {
			t.Errorf("isCopy(%q) = %v, want %v", tc.query, got, tc.want)
		}
	}
}
