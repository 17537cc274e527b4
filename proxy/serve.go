package proxy

import (
	"strconv"

	"github.com/sluicehq/sluice/money"
)

// usd renders micro-USD as a decimal dollar amount with six places.
func usd(m money.Micros) string {
	neg := m < 0
	if neg {
		m = -m
	}
	var buf [32]byte
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(m/money.PerUSD), 10)
	b = append(b, '.')
	frac := int64(m % money.PerUSD)
	for d := int64(100_000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	return string(b)
}
