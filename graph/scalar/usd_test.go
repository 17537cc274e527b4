package scalar

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/sluicehq/sluice/money"
)

func TestUSD(t *testing.T) {
	out := []struct {
		m    money.Micros
		want string
	}{{0, "0"}, {50_000_000, "50"}, {1_500, "0.0015"}, {1, "0.000001"}, {12_340_000, "12.34"}, {-2_500_000, "-2.5"}, {100_000_000, "100"}, {-1, "-0.000001"}}
	for _, c := range out {
		var b bytes.Buffer
		MarshalUSD(c.m).MarshalGQL(&b)
		if b.String() != c.want {
			t.Errorf("MarshalUSD(%d) = %s, want %s", c.m, b.String(), c.want)
		}
	}
	in := []struct {
		v       any
		want    money.Micros
		wantErr bool
	}{
		{5, 5_000_000, false}, {int64(2), 2_000_000, false}, {0.1, 100_000, false}, {json.Number("12.5"), 12_500_000, false},
		{-1.0, 0, true}, {"5", 0, true}, {json.Number("x"), 0, true}, {1e300, 0, true},
	}
	for _, c := range in {
		got, err := UnmarshalUSD(c.v)
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("UnmarshalUSD(%v) = %d, %v; want %d, error %v", c.v, got, err, c.want, c.wantErr)
		}
	}
}
