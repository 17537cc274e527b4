package manage

import (
	"strings"
	"unicode"

	entgo "entgo.io/ent"
	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/money"
)

// limitField is one of the seven cost limits: its GraphQL name and its
// column, shared by Service and APIKey.
type limitField struct{ gql, column string }

// limitFields are the seven limits in budget.LimitFields order, named as
// GraphQL and the database name them (limitCostHourWarn,
// limit_cost_hour_warn for LimitCostHourWarn).
var limitFields = func() [7]limitField {
	var out [7]limitField
	for i, name := range budget.LimitFields {
		out[i].gql = strings.ToLower(name[:1]) + name[1:]
		var col strings.Builder
		for j, r := range name {
			if unicode.IsUpper(r) {
				if j > 0 {
					col.WriteByte('_')
				}
				r = unicode.ToLower(r)
			}
			col.WriteRune(r)
		}
		out[i].column = col.String()
	}
	return out
}()

// limits holds the seven limits in limitFields order; nil means unset.
type limits budget.Limits

// limitsOf reads the limits of a Service, an APIKey or a create input.
func limitsOf(rec any) limits { return limits(budget.LimitsOf(rec)) }

// limitChanges reads the limit fields of an update input.
func limitChanges(input any) [7]graphql.Omittable[*money.Micros] {
	return budget.LimitFieldsOf[graphql.Omittable[*money.Micros]](input)
}

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

// paceChanges are the pace limit fields of an update input: its
// limitRpm, limitTpm and limitConcurrency, by column.
func paceChanges(rpm, tpm, concurrency graphql.Omittable[*int]) map[string]graphql.Omittable[*int] {
	return map[string]graphql.Omittable[*int]{"limit_rpm": rpm, "limit_tpm": tpm, "limit_concurrency": concurrency}
}

// paceGiven are the pace limits a create input sets.
func paceGiven(rpm, tpm, concurrency *int) map[string]graphql.Omittable[*int] {
	given := func(v *int) graphql.Omittable[*int] {
		if v == nil {
			return graphql.Omittable[*int]{}
		}
		return graphql.OmittableOf(v)
	}
	return paceChanges(given(rpm), given(tpm), given(concurrency))
}

// applyPace writes the given pace limits into an ent mutation: a number
// sets the limit, null removes it, an absent field keeps it. A limit must
// be a whole number above zero.
func applyPace(m entgo.Mutation, changes map[string]graphql.Omittable[*int]) error {
	for column, c := range changes {
		v, set := c.ValueOK()
		switch {
		case !set:
			continue
		case v == nil:
			if err := m.ClearField(column); err != nil {
				return err
			}
		case *v <= 0:
			field := map[string]string{"limit_rpm": "limitRpm", "limit_tpm": "limitTpm", "limit_concurrency": "limitConcurrency"}[column]
			return FieldErrorf(field, "%s must be above zero (null removes the limit)", field)
		default:
			if err := m.SetField(column, int64(*v)); err != nil {
				return err
			}
		}
	}
	return nil
}
