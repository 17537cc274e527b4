// Package money holds amounts as integer micro-USD so that spend, budgets and
// prices add up exactly: floats appear only at the edges (YAML prices, GraphQL
// USD fields) and are converted once, never accumulated.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Micros is an amount in micro-USD (one millionth of a US dollar). A budget of
// $50 is 50_000_000; the smallest chargeable amount is one micro-USD, which is
// fine-grained enough that per-request costs of cheap models do not vanish.
type Micros int64

// PerUSD is the number of Micros in one US dollar; callers scaling amounts by
// hand use it instead of writing the magic 1e6 again.
const PerUSD Micros = 1_000_000

// maxUSD is the first USD value that no longer fits in Micros. Checking against
// it before converting keeps the int64 conversion well defined.
const maxUSD = float64(math.MaxInt64) / float64(PerUSD)

// ErrInvalidUSD is wrapped by every ParseUSD failure so callers (GraphQL input
// validation, the catalog loader) can map it to a user-input error with errors.Is.
var ErrInvalidUSD = errors.New("invalid USD amount")

// ParseUSD converts a dollar amount that came from outside the program (an
// admin's limit, a catalog price) and refuses values that cannot be money:
// NaN, infinities, negatives, and amounts too large for int64 micro-USD. It
// rounds half away from zero on the decimal the float prints as, so 0.0000005
// becomes 1 micro-USD rather than losing to binary rounding.
func ParseUSD(usd float64) (Micros, error) {
	switch {
	case math.IsNaN(usd):
		return 0, fmt.Errorf("%w: NaN is not a number of dollars", ErrInvalidUSD)
	case math.IsInf(usd, 0):
		return 0, fmt.Errorf("%w: %v is not a finite number of dollars", ErrInvalidUSD, usd)
	case usd < 0:
		return 0, fmt.Errorf("%w: %v is negative; amounts must be zero or more", ErrInvalidUSD, usd)
	case usd >= maxUSD:
		return 0, fmt.Errorf("%w: %v is too large (at most about $%.0f)", ErrInvalidUSD, usd, maxUSD)
	}
	return roundDecimal(usd), nil
}

// FromUSD converts a dollar amount the program already trusts, such as a
// constant or a difference between two amounts, so it accepts negatives.
// Unlike ParseUSD it never fails: NaN becomes 0 and values beyond the int64
// range saturate, so use ParseUSD for anything a user or file supplied.
func FromUSD(usd float64) Micros {
	switch {
	case math.IsNaN(usd):
		return 0
	case usd >= maxUSD:
		return math.MaxInt64
	case usd <= -maxUSD:
		return math.MinInt64
	case usd < 0:
		return -roundDecimal(-usd)
	}
	return roundDecimal(usd)
}

// roundDecimal rounds a finite, non-negative usd below maxUSD to the nearest
// micro-USD, half up. It works on the shortest decimal form of the float
// because that is the number a human wrote (2.675 is "2.675", not
// 2.67499999...), which keeps catalog prices exact.
func roundDecimal(usd float64) Micros {
	s := strconv.FormatFloat(usd, 'f', -1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64) // cannot fail or overflow: usd < maxUSD
	m := Micros(w) * PerUSD
	unit := PerUSD / 10
	for i := 0; i < len(frac) && unit > 0; i++ {
		m += Micros(frac[i]-'0') * unit
		unit /= 10
	}
	if len(frac) > 6 && frac[6] >= '5' && m < math.MaxInt64 {
		m++
	}
	return m
}

// USD converts back to dollars for display and for GraphQL Float fields. The
// result is for showing, not for adding up: keep sums in Micros.
func (m Micros) USD() float64 {
	return float64(m) / float64(PerUSD)
}

// String formats the amount as dollars with two decimals, and more only when
// the amount has sub-cent micro-USD, so "$50.00" and "$0.0015" both read
// naturally in logs, error messages and 429 responses.
func (m Micros) String() string {
	d := m.Decimal()
	sign := ""
	if d[0] == '-' {
		sign, d = "-", d[1:]
	}
	d = strings.TrimRight(d, "0")
	for len(d)-strings.IndexByte(d, '.') <= 2 {
		d += "0"
	}
	return sign + "$" + d
}

// Decimal formats the amount as a number of dollars with all six decimal
// places, "0.001500" or "-2.000000": exact, and one form for machines to
// read (the proxy's cost header).
func (m Micros) Decimal() string {
	var buf [32]byte
	b := buf[:0]
	u := uint64(m) // magnitude via uint64 so math.MinInt64 does not overflow
	if m < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/uint64(PerUSD), 10)
	b = append(b, '.')
	frac := u % uint64(PerUSD)
	for d := uint64(PerUSD / 10); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return string(b)
}
