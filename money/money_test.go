package money

import (
	"errors"
	"math"
	"testing"
)

func TestParseUSD(t *testing.T) {
	tests := []struct {
		name    string
		usd     float64
		want    Micros
		wantErr bool
	}{
		{name: "zero", usd: 0, want: 0},
		{name: "whole dollars", usd: 50, want: 50_000_000},
		{name: "catalog price", usd: 2.5, want: 2_500_000},
		{name: "sub-cent", usd: 0.0015, want: 1_500},
		{name: "binary-unfriendly decimal", usd: 0.075, want: 75_000},
		{name: "decimal that floats store low", usd: 2.675, want: 2_675_000},
		{name: "half a micro rounds up", usd: 0.0000005, want: 1},
		{name: "below half a micro rounds down", usd: 0.0000004, want: 0},
		{name: "rounds to nearest upward", usd: 1.2345678, want: 1_234_568},
		{name: "rounds to nearest downward", usd: 1.2345674, want: 1_234_567},
		{name: "tiny", usd: 1e-12, want: 0},
		{name: "large but fits", usd: 9_000_000_000_000, want: 9_000_000_000_000_000_000},
		{name: "negative", usd: -0.01, wantErr: true},
		{name: "NaN", usd: math.NaN(), wantErr: true},
		{name: "+Inf", usd: math.Inf(1), wantErr: true},
		{name: "-Inf", usd: math.Inf(-1), wantErr: true},
		{name: "too large", usd: 1e13, wantErr: true},
		{name: "at the limit", usd: maxUSD, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseUSD(tt.usd)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidUSD) {
					t.Fatalf("ParseUSD(%v) error = %v, want one wrapping ErrInvalidUSD", tt.usd, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseUSD(%v) unexpected error: %v", tt.usd, err)
			}
			if got != tt.want {
				t.Errorf("ParseUSD(%v) = %d, want %d", tt.usd, got, tt.want)
			}
		})
	}
}

func TestFromUSD(t *testing.T) {
	tests := []struct {
		name string
		usd  float64
		want Micros
	}{
		{name: "positive", usd: 10, want: 10_000_000},
		{name: "sub-cent", usd: 0.0015, want: 1_500},
		{name: "negative delta", usd: -1.5, want: -1_500_000},
		{name: "negative rounds away from zero", usd: -0.0000005, want: -1},
		{name: "NaN is zero", usd: math.NaN(), want: 0},
		{name: "+Inf saturates", usd: math.Inf(1), want: math.MaxInt64},
		{name: "-Inf saturates", usd: math.Inf(-1), want: math.MinInt64},
		{name: "too large saturates", usd: 1e20, want: math.MaxInt64},
		{name: "too small saturates", usd: -1e20, want: math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromUSD(tt.usd); got != tt.want {
				t.Errorf("FromUSD(%v) = %d, want %d", tt.usd, got, tt.want)
			}
		})
	}
}

func TestUSD(t *testing.T) {
	tests := []struct {
		m    Micros
		want float64
	}{
		{m: 0, want: 0},
		{m: 50_000_000, want: 50},
		{m: 1_500, want: 0.0015},
		{m: -2_500_000, want: -2.5},
	}
	for _, tt := range tests {
		if got := tt.m.USD(); got != tt.want {
			t.Errorf("Micros(%d).USD() = %v, want %v", tt.m, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		m    Micros
		want string
	}{
		{m: 0, want: "$0.00"},
		{m: 50_000_000, want: "$50.00"},
		{m: 1_230_000, want: "$1.23"},
		{m: 1_500_000, want: "$1.50"},
		{m: 1_500, want: "$0.0015"},
		{m: 1, want: "$0.000001"},
		{m: 1_234_567, want: "$1.234567"},
		{m: 10_000, want: "$0.01"},
		{m: -1_500_000, want: "-$1.50"},
		{m: -1_500, want: "-$0.0015"},
		{m: math.MaxInt64, want: "$9223372036854.775807"},
		{m: math.MinInt64, want: "-$9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("Micros(%d).String() = %q, want %q", int64(tt.m), got, tt.want)
		}
	}
}

func TestDecimal(t *testing.T) {
	tests := []struct {
		m    Micros
		want string
	}{
		{m: 0, want: "0.000000"},
		{m: 1, want: "0.000001"},
		{m: 1_500, want: "0.001500"},
		{m: 50_000_000, want: "50.000000"},
		{m: 1_234_567, want: "1.234567"},
		{m: -2_000_000, want: "-2.000000"},
		{m: -1_500, want: "-0.001500"},
		{m: math.MaxInt64, want: "9223372036854.775807"},
		{m: math.MinInt64, want: "-9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := tt.m.Decimal(); got != tt.want {
			t.Errorf("Micros(%d).Decimal() = %q, want %q", int64(tt.m), got, tt.want)
		}
	}
}

func TestParseUSDRoundTrip(t *testing.T) {
	for _, usd := range []float64{0, 0.01, 0.0015, 1, 2.5, 10, 123.456789, 1_000_000} {
		m, err := ParseUSD(usd)
		if err != nil {
			t.Fatalf("ParseUSD(%v): %v", usd, err)
		}
		if got := m.USD(); got != usd {
			t.Errorf("ParseUSD(%v).USD() = %v, want the same value back", usd, got)
		}
	}
}

// TestParseUSDNearLimit guards the int64 edge: the largest floats ParseUSD
// accepts must convert without wrapping negative.
func TestParseUSDNearLimit(t *testing.T) {
	usd := maxUSD
	for range 5 {
		usd = math.Nextafter(usd, 0)
		got, err := ParseUSD(usd)
		if err != nil {
			t.Fatalf("ParseUSD(%v): %v", usd, err)
		}
		if got < 9_223_372_036_850_000_000 {
			t.Errorf("ParseUSD(%v) = %d, want close to math.MaxInt64 (overflow?)", usd, got)
		}
	}
}
