package schema

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent"

	"github.com/sluicehq/sluice/usererr"
)

// apiName is the rule of a name the admin API is given: not empty, at most
// max bytes, no control characters, which would end up in headers, logs
// and the dashboard. Its errors name field, the name's GraphQL input field.
func apiName(field string, max int) func(string) error {
	return func(v string) error {
		if strings.TrimSpace(v) == "" {
			return usererr.FieldErrorf(field, "%s must not be empty", field)
		}
		if len(v) > max {
			return usererr.FieldErrorf(field, "%s is longer than %d characters", field, max)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return usererr.FieldErrorf(field, "%s contains a control character", field)
			}
		}
		return nil
	}
}

// maxWeight bounds a routing target's weight.
const maxWeight = 1_000_000

// targetWeight refuses weights below 1: a target that should get no
// traffic is disabled, not weighted zero.
func targetWeight(w int) error {
	if w < 1 || w > maxWeight {
		return usererr.FieldErrorf("weight", "weight must be from 1 to %d (got %d); disable the target to stop its traffic", maxWeight, w)
	}
	return nil
}

// keyMethods are the API standards' authentication methods: a bearer token,
// an API key header, a query parameter, or none.
var keyMethods = []string{"auth_bearer", "auth_apikey", "query_param", "none"}

// checkKeyMethod validates a standard's key method and field together.
func checkKeyMethod(method string, field *string) error {
	if !slices.Contains(keyMethods, method) {
		return usererr.FieldErrorf("keyMethod", "keyMethod %q is not one of %s", method, strings.Join(keyMethods, ", "))
	}
	if method != "none" && (field == nil || strings.TrimSpace(*field) == "") {
		return usererr.FieldErrorf("keyField", "keyField is required for keyMethod %s: the header or query parameter that carries the key", method)
	}
	if field != nil && strings.ContainsAny(*field, "\r\n:= ") && method != "none" {
		return usererr.FieldErrorf("keyField", "keyField %q is not a valid header or parameter name", *field)
	}
	return nil
}

// keyMethodRule checks an API standard's key method and field together,
// as the mutation leaves them: the values it sets, else those stored. A
// bulk update, which has no single stored row, is checked when it sets
// both.
func keyMethodRule(next ent.Mutator) ent.Mutator {
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		method, methodOK := stringField(ctx, m, "key_method")
		field, fieldOK := stringField(ctx, m, "key_field")
		_, methodSet := m.Field("key_method")
		_, fieldSet := m.Field("key_field")
		if (methodSet || fieldSet) && methodOK && fieldOK {
			if err := checkKeyMethod(method, &field); err != nil {
				return nil, err
			}
		}
		return next.Mutate(ctx, m)
	})
}

// stringField is the value a mutation leaves in a field: the one it sets,
// or for an update of one row the stored one; a create that sets none
// leaves the default, empty.
func stringField(ctx context.Context, m ent.Mutation, name string) (string, bool) {
	if v, ok := m.Field(name); ok {
		return fmt.Sprint(v), true
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		return "", true
	case m.Op().Is(ent.OpUpdateOne):
		v, err := m.OldField(ctx, name)
		return fmt.Sprint(v), err == nil
	}
	return "", false
}
