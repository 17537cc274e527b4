// Package scalar holds the GraphQL scalars Sluice adds to gqlgen's.
package scalar

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/sluicehq/sluice/money"
)

// MarshalUSD writes an amount of micro-USD as a JSON number of dollars. The
// value is formatted from the integer, not through a float sum, so what a
// client reads is exactly what is stored (1 micro-USD is 0.000001).
func MarshalUSD(m money.Micros) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		_, _ = io.WriteString(w, formatUSD(m))
	})
}

// UnmarshalUSD reads a dollar amount from a GraphQL input (an Int or Float
// literal, or a JSON number in variables) and refuses what cannot be money:
// negatives, NaN, strings and amounts too large for int64 micro-USD.
func UnmarshalUSD(v any) (money.Micros, error) {
	var usd float64
	switch x := v.(type) {
	case int:
		usd = float64(x)
	case int64:
		usd = float64(x)
	case float64:
		usd = x
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, badInput("USD must be a number of dollars, got %q", x.String())
		}
		usd = f
	default:
		return 0, badInput("USD must be a number of dollars, got %T", v)
	}
	m, err := money.ParseUSD(usd)
	if err != nil {
		return 0, badInput("USD amount: %v", err)
	}
	return m, nil
}

// formatUSD prints micro-USD as a decimal number of dollars without
// trailing zeros: 50000000 → 50, 1500 → 0.0015.
func formatUSD(m money.Micros) string {
	return strings.TrimSuffix(strings.TrimRight(m.Decimal(), "0"), ".")
}

// badInput is a GraphQL error with extensions.code BAD_USER_INPUT, so that
// a bad amount is answered as the caller's mistake, not as INTERNAL.
func badInput(format string, args ...any) error {
	return &gqlerror.Error{Message: fmt.Sprintf(format, args...), Extensions: map[string]any{"code": "BAD_USER_INPUT"}}
}
