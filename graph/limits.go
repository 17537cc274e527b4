package graph

import (
	entgo "entgo.io/ent"
	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/money"
)

// limitField is one of seed 000's seven cost limits: its GraphQL name and
// its column, shared by Service and APIKey.
type limitField struct{ gql, column string }

var limitFields = [7]limitField{
	{"limitCostHourWarn", "limit_cost_hour_warn"},
	{"limitCostHourBlock", "limit_cost_hour_block"},
	{"limitCostDayWarn", "limit_cost_day_warn"},
	{"limitCostDayBlock", "limit_cost_day_block"},
	{"limitCostMonthWarn", "limit_cost_month_warn"},
	{"limitCostMonthBlock", "limit_cost_month_block"},
	{"limitCostTotalBlock", "limit_cost_total_block"},
}

// limits holds the seven limits in limitFields order; nil means unset.
type limits [7]*money.Micros

// patch applies the changes of an update input: a given value replaces,
// a given null removes, an absent field keeps.
func (l limits) patch(changes [7]graphql.Omittable[*money.Micros]) limits {
	for i, c := range changes {
		if v, set := c.ValueOK(); set {
			l[i] = v
		}
	}
	return l
}

// validate checks that every warning comes before its block and that the
// blocks of longer windows are not below those of shorter ones: a day
// block under the hour block would make the hour block meaningless, which
// is surely a typo.
func (l limits) validate() error {
	for i := 0; i < 6; i += 2 {
		warn, block := l[i], l[i+1]
		if warn != nil && block != nil && *warn > *block {
			return FieldErrorf(limitFields[i].gql, "%s (%s) is above %s (%s); the warning must come at or before the block",
				limitFields[i].gql, *warn, limitFields[i+1].gql, *block)
		}
	}
	blocks := []int{1, 3, 5, 6}
	for a := 0; a < len(blocks); a++ {
		for b := a + 1; b < len(blocks); b++ {
			short, long := l[blocks[a]], l[blocks[b]]
			if short != nil && long != nil && *short > *long {
				return FieldErrorf(limitFields[blocks[a]].gql, "%s (%s) is above %s (%s); a shorter window cannot allow more than a longer one",
					limitFields[blocks[a]].gql, *short, limitFields[blocks[b]].gql, *long)
			}
		}
	}
	return nil
}

// apply writes the limits into an ent mutation of a Service or an APIKey.
func (l limits) apply(m entgo.Mutation) error {
	for i, f := range limitFields {
		var err error
		if l[i] == nil {
			err = m.ClearField(f.column)
		} else {
			err = m.SetField(f.column, *l[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}
