package budget

import (
	"testing"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/money"
)

func TestLimitsOfReadsTheFieldsInOrder(t *testing.T) {
	m := func(n int64) *money.Micros { v := money.Micros(n); return &v }
	svc := &ent.Service{
		LimitCostHourWarn: m(1), LimitCostHourBlock: m(2), LimitCostDayWarn: m(3), LimitCostDayBlock: m(4),
		LimitCostMonthWarn: m(5), LimitCostMonthBlock: m(6), LimitCostTotalBlock: m(7),
	}
	key := ent.APIKey{LimitCostDayBlock: m(40)}
	tests := []struct {
		name string
		rec  any
		want [7]int64 // 0 means nil
	}{
		{"service pointer", svc, [7]int64{1, 2, 3, 4, 5, 6, 7}},
		{"key value, one limit", key, [7]int64{0, 0, 0, 40, 0, 0, 0}},
		{"key pointer, none", &ent.APIKey{}, [7]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LimitsOf(tt.rec)
			for i, w := range tt.want {
				switch {
				case w == 0 && got[i] != nil:
					t.Errorf("%s = %v, want nil", LimitFields[i], *got[i])
				case w != 0 && (got[i] == nil || int64(*got[i]) != w):
					t.Errorf("%s = %v, want %d", LimitFields[i], got[i], w)
				}
			}
		})
	}
}

func TestLimitFieldsOfPanicsOnATypeWithoutThem(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("LimitsOf(struct without limits) did not panic")
		}
	}()
	LimitsOf(struct{ Name string }{})
}
