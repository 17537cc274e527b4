package bodycapture

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/usererr"
)

func TestRedact(t *testing.T) {
	custom, err := NewRedactor("redact", []string{`\b\d{3}-\d{2}-\d{4}\b`, `(?i)account=\w+`})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in, want string
		custom         *Redactor
	}{
		{"sluice client key", `{"key":"sk_Ab12cd34EF56gh78IJ90kl12MN34op56QR78st90UVw"}`, `{"key":"[redacted]"}`, nil},
		{"openai key", `use sk-proj-AbCdEfGh1234567890_xyz now`, `use [redacted] now`, nil},
		{"openai legacy key", `"sk-AbCdEfGh12345678901234"`, `"[redacted]"`, nil},
		{"anthropic key", `x-api-key: sk-ant-api03-AbCdEfGh1234567890-xyz`, `x-api-key: [redacted]`, nil},
		{"google key", `?key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW`, `?key=[redacted]`, nil},
		{"bearer header echoed", `{"error":{"message":"bad header Authorization: Bearer eyJhbGciOi.J9.abc-def"}}`,
			`{"error":{"message":"bad header Authorization: Bearer [redacted]"}}`, nil},
		{"bearer in lower case", `bearer abcdefgh12345678`, `bearer [redacted]`, nil},
		{"custom pattern", `{"ssn":"123-45-6789","note":"Account=alice"}`, `{"ssn":"[redacted]","note":"[redacted]"}`, custom},
		{"custom pattern not given", `{"ssn":"123-45-6789"}`, `{"ssn":"123-45-6789"}`, nil},
		{"keys after JSON escapes", `{"content":"line\nsk-AbCdEfGh12345678901234\tsk_Ab12cd34EF56gh78IJ90\nAIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"}`,
			`{"content":"line\n[redacted]\t[redacted]\n[redacted]"}`, nil},
		{"short words untouched", `{"model":"gpt-4o-mini","sk-":1,"task":"ask"}`, `{"model":"gpt-4o-mini","sk-":1,"task":"ask"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Redact([]byte(tc.in), tc.custom))
			if got != tc.want {
				t.Fatalf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewRedactorRefuses(t *testing.T) {
	for _, tc := range []struct {
		name     string
		patterns []string
		want     string
	}{
		{"invalid syntax", []string{`ok`, `(unclosed`}, "pattern 2 is not a valid regular expression"},
		{"backreference is not RE2", []string{`(a)\1`}, "not a valid regular expression"},
		{"empty", []string{``}, "pattern 1 is empty"},
		{"too long", []string{strings.Repeat("a", maxPatternLength+1)}, "longer than"},
		{"too many", make([]string, maxPatterns+1), "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRedactor("bodyCapture.redact", tc.patterns)
			var ue *usererr.Error
			if !errors.As(err, &ue) || ue.Field != "bodyCapture.redact" || !strings.Contains(ue.Message, tc.want) {
				t.Fatalf("NewRedactor(%q) = %v, want a field error on bodyCapture.redact containing %q", tc.patterns, err, tc.want)
			}
		})
	}
}
