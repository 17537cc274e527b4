package bodycapture

import (
	"regexp"

	"github.com/sluicehq/sluice/usererr"
)

// redacted replaces what a pattern matched.
const redacted = "[redacted]"

// builtin are the secrets every captured body is cleared of: the
// gateway's own client keys, the providers' key shapes and bearer tokens.
// Each pattern's first group, when it has one, is kept. Key shapes have no
// word boundary before them: in JSON text a key after an escaped newline
// or tab follows the escape's letter (\nsk-…), and clearing a little too
// much is the safe way to be wrong.
var builtin = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`),
	regexp.MustCompile(`sk_[A-Za-z0-9]{16,}`),
	regexp.MustCompile(`sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}`),
	regexp.MustCompile(`AIza[0-9A-Za-z_-]{30,}`),
}

// Limits of the configurable patterns: each is RE2 (linear time), and
// their number and size are bounded so that redaction stays cheap.
const (
	maxPatterns      = 32
	maxPatternLength = 512
)

// Redactor clears captured bodies of secrets: the built-in shapes, then
// its own patterns.
type Redactor struct {
	patterns []*regexp.Regexp
}

// NewRedactor compiles patterns, naming field in the error of a bad one.
func NewRedactor(field string, patterns []string) (*Redactor, error) {
	if len(patterns) > maxPatterns {
		return nil, usererr.FieldErrorf(field, "at most %d patterns", maxPatterns)
	}
	r := &Redactor{}
	for i, p := range patterns {
		if p == "" {
			return nil, usererr.FieldErrorf(field, "pattern %d is empty", i+1)
		}
		if len(p) > maxPatternLength {
			return nil, usererr.FieldErrorf(field, "pattern %d is longer than %d characters", i+1, maxPatternLength)
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, usererr.FieldErrorf(field, "pattern %d is not a valid regular expression (RE2 syntax): %v", i+1, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// Redact returns b with every built-in secret shape and every match of
// the patterns of rs (nil ones are skipped) replaced by [redacted].
func Redact(b []byte, rs ...*Redactor) []byte {
	for _, re := range builtin {
		b = re.ReplaceAll(b, []byte("${1}"+redacted))
	}
	for _, r := range rs {
		if r == nil {
			continue
		}
		for _, re := range r.patterns {
			b = re.ReplaceAllLiteral(b, []byte(redacted))
		}
	}
	return b
}
