// Package modelname is the one rule for what a model name may be, shared by
// the dashboard (which stores model names in services, routing targets and
// the price catalog) and the proxy (which reads them from requests). A name
// one accepts and the other refuses would be a model that can be enabled but
// never called, or called but never enabled.
package modelname

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the longest model name, in bytes; ModelPrice.model has the same
// limit.
const MaxLen = 200

var (
	// ErrEmpty is returned for an empty name, which a request may send
	// when it forgot the model.
	ErrEmpty = errors.New("the model name is empty")
	// ErrPath is wrapped by the error for a name that holds a path (/, ..,
	// //), which could change the upstream URL the name is put into.
	ErrPath = errors.New("the model name contains a path (/, .., //)")
)

// Check refuses model names that could only be mistakes or attacks: empty
// or too long names, control characters, white space, characters with a
// meaning in URLs or JSON (\ ? # % "), bytes that are not UTF-8 (PostgreSQL
// refuses such text) and path traversal. Such a name never matches an
// enabled model, and nothing odd ever reaches an upstream URL. The error
// names the problem; errors.Is tells ErrEmpty and ErrPath apart.
func Check(name string) error {
	if name == "" {
		return ErrEmpty
	}
	if len(name) > MaxLen {
		return fmt.Errorf("the model name is longer than %d characters", MaxLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c == 0x7f || c == '\\' || c == '?' || c == '#' || c == '%' || c == '"' {
			return fmt.Errorf("the model name contains a character not allowed in model names at byte %d", i)
		}
	}
	if !utf8.ValidString(name) {
		return errors.New("the model name is not valid UTF-8")
	}
	if name == ".." || strings.HasPrefix(name, "../") || strings.HasSuffix(name, "/..") || strings.Contains(name, "/../") ||
		strings.HasPrefix(name, "/") || strings.Contains(name, "//") {
		return ErrPath
	}
	return nil
}

// Valid reports whether Check accepts name.
func Valid(name string) bool { return Check(name) == nil }
