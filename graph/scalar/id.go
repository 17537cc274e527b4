package scalar

import (
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalIntID writes a database ID as a GraphQL ID: a string of digits.
func MarshalIntID(id int) graphql.Marshaler { return graphql.MarshalIntID(id) }

// UnmarshalIntID reads a GraphQL ID (a string or a number) and refuses
// anything but a whole number with BAD_USER_INPUT: a malformed ID is the
// caller's mistake, not the server's.
func UnmarshalIntID(v any) (int, error) {
	id, err := graphql.UnmarshalIntID(v)
	if err != nil {
		return 0, badInput("an ID is a whole number such as \"42\"; got %s", describe(v))
	}
	return id, nil
}

// describe names a bad input value briefly: a string quoted and cut at 40
// characters, a number or a boolean as itself, anything else by its kind.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if r := []rune(x); len(r) > 40 {
			x = string(r[:40]) + "…"
		}
		return fmt.Sprintf("%q", x)
	case json.Number, bool, float64, int, int64:
		return fmt.Sprint(x)
	case []any:
		return "a list"
	case nil:
		return "null"
	default:
		return "an object"
	}
}
