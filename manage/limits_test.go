package manage

import (
	"testing"

	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/service"
)

// The limit names derived from budget.LimitFields are the schema's columns
// and the GraphQL fields.
func TestLimitFieldsMatchTheSchema(t *testing.T) {
	want := [7]limitField{
		{"limitCostHourWarn", service.FieldLimitCostHourWarn},
		{"limitCostHourBlock", service.FieldLimitCostHourBlock},
		{"limitCostDayWarn", service.FieldLimitCostDayWarn},
		{"limitCostDayBlock", service.FieldLimitCostDayBlock},
		{"limitCostMonthWarn", service.FieldLimitCostMonthWarn},
		{"limitCostMonthBlock", service.FieldLimitCostMonthBlock},
		{"limitCostTotalBlock", apikey.FieldLimitCostTotalBlock},
	}
	for i, w := range want {
		if limitFields[i] != w {
			t.Errorf("limitFields[%d] = %+v, want %+v", i, limitFields[i], w)
		}
	}
}
