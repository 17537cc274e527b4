package schema

import (
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/usererr"
)

// The rules answer with the GraphQL input field and a message that says
// what to do.
func TestRules(t *testing.T) {
	field := func(s string) *string { return &s }
	for _, c := range []struct {
		name       string
		err        error
		field, msg string
	}{
		{"fine name", apiName("name", 10)("ok"), "", ""},
		{"empty name", apiName("name", 10)(" "), "name", "name must not be empty"},
		{"long name", apiName("serviceName", 3)("abcd"), "serviceName", "serviceName is longer than 3 characters"},
		{"control character", apiName("accountKey", 10)("a\nb"), "accountKey", "accountKey contains a control character"},
		{"weight 1", targetWeight(1), "", ""},
		{"weight 0", targetWeight(0), "weight", "weight must be from 1 to 1000000 (got 0); disable the target to stop its traffic"},
		{"weight too high", targetWeight(maxWeight + 1), "weight", "weight must be from 1 to 1000000 (got 1000001)"},
		{"bearer with a header", checkKeyMethod("auth_bearer", field("Authorization")), "", ""},
		{"none without a field", checkKeyMethod("none", nil), "", ""},
		{"unknown method", checkKeyMethod("oauth", nil), "keyMethod", `keyMethod "oauth" is not one of auth_bearer, auth_apikey, query_param, none`},
		{"header missing", checkKeyMethod("auth_apikey", field(" ")), "keyField", "keyField is required for keyMethod auth_apikey"},
		{"header not a name", checkKeyMethod("query_param", field("a=b")), "keyField", `keyField "a=b" is not a valid header or parameter name`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.msg == "" {
				if c.err != nil {
					t.Fatalf("err = %v, want none", c.err)
				}
				return
			}
			var e *usererr.Error
			if !errors.As(c.err, &e) {
				t.Fatalf("err = %v, want a *usererr.Error", c.err)
			}
			if e.Code != usererr.CodeBadUserInput || e.Field != c.field || !strings.HasPrefix(e.Message, c.msg) {
				t.Errorf("got %s %s %q, want BAD_USER_INPUT %s %q", e.Code, e.Field, e.Message, c.field, c.msg)
			}
		})
	}
}
