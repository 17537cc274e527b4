package budget

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/sluicehq/sluice/money"
)

// LimitFields names the seven cost limits, in Limits order, as the Go
// fields of every type that carries them: ent.Service, ent.APIKey and the
// dashboard's create and update inputs. It is the one list of them outside
// the schema (ent/schema.LimitsMixin).
var LimitFields = [7]string{
	"LimitCostHourWarn", "LimitCostHourBlock",
	"LimitCostDayWarn", "LimitCostDayBlock",
	"LimitCostMonthWarn", "LimitCostMonthBlock",
	"LimitCostTotalBlock",
}

// LimitsOf reads the seven limits from rec, a struct (or a pointer to one)
// with the LimitFields as *money.Micros.
func LimitsOf(rec any) Limits { return Limits(LimitFieldsOf[*money.Micros](rec)) }

// LimitFieldsOf reads the LimitFields of rec, a struct or a pointer to
// one, as values of type T. A rec without them, or with them of another
// type, is a programming error: it panics, naming the type and field.
func LimitFieldsOf[T any](rec any) [7]T {
	v := reflect.Indirect(reflect.ValueOf(rec))
	idx := limitFieldIndexes(v.Type())
	var out [7]T
	for i, name := range LimitFields {
		x, ok := v.Field(idx[i]).Interface().(T)
		if !ok {
			panic(fmt.Sprintf("budget: %s.%s is a %s, not a %T", v.Type(), name, v.Field(idx[i]).Type(), *new(T)))
		}
		out[i] = x
	}
	return out
}

// fieldIndexes caches, per struct type, where its LimitFields are: the
// proxy reads a key's and a service's limits on every request.
var fieldIndexes sync.Map // reflect.Type → [7]int

func limitFieldIndexes(t reflect.Type) [7]int {
	if idx, ok := fieldIndexes.Load(t); ok {
		return idx.([7]int)
	}
	var idx [7]int
	for i, name := range LimitFields {
		f, ok := t.FieldByName(name)
		if !ok || len(f.Index) != 1 {
			panic(fmt.Sprintf("budget: %s has no field %s", t, name))
		}
		idx[i] = f.Index[0]
	}
	fieldIndexes.Store(t, idx)
	return idx
}
