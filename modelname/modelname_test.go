package modelname

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		wantErr string // "" means accepted
		is      error
	}{
		{"plain", "gpt-4o", "", nil},
		{"vendor prefix", "meta-llama/Llama-3.1-8B", "", nil},
		{"dots inside a segment", "claude-3.5..sonnet", "", nil},
		{"colon and at", "gemini-2.5-pro@001:latest", "", nil},
		{"non-ASCII", "modèle-ü", "", nil},
		{"longest", strings.Repeat("a", MaxLen), "", nil},
		{"empty", "", "empty", ErrEmpty},
		{"too long", strings.Repeat("a", MaxLen+1), "longer than 200", nil},
		{"space", "gpt 4o", "at byte 3", nil},
		{"tab", "gpt\t4o", "at byte 3", nil},
		{"newline", "gpt-4o\n", "at byte 6", nil},
		{"DEL", "gpt\x7f", "at byte 3", nil},
		{"backslash", `a\b`, "at byte 1", nil},
		{"query", "gpt?x=1", "at byte 3", nil},
		{"fragment", "gpt#x", "at byte 3", nil},
		{"percent escape", "gpt%2F..", "at byte 3", nil},
		{"quote", `gpt"`, "at byte 3", nil},
		{"invalid UTF-8", "gpt\xff", "not valid UTF-8", nil},
		{"dot dot", "..", "path", ErrPath},
		{"leading traversal", "../admin", "path", ErrPath},
		{"trailing traversal", "a/..", "path", ErrPath},
		{"inner traversal", "a/../b", "path", ErrPath},
		{"absolute", "/v1/models", "path", ErrPath},
		{"double slash", "a//b", "path", ErrPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.model)
			if tt.wantErr == "" {
				if err != nil || !Valid(tt.model) {
					t.Fatalf("Check(%q) = %v, want nil", tt.model, err)
				}
				return
			}
			if err == nil || Valid(tt.model) {
				t.Fatalf("Check(%q) = nil, want an error containing %q", tt.model, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check(%q) = %q, want it to contain %q", tt.model, err, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Check(%q) = %v, want errors.Is %v", tt.model, err, tt.is)
			}
		})
	}
}
