package declare

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/sluicehq/sluice/money"
)

// inputValue turns an admin operation's input (package manage's types)
// into the value of its GraphQL variable: fields by their JSON names, an
// unset optional field left out, an Omittable set to nil sent as null
// (which clears it), and amounts as the USD scalar's decimal number.
func inputValue(in any) any { return encodeInput(reflect.ValueOf(in)) }

var microsType = reflect.TypeOf(money.Micros(0))

// omittable is graphql.Omittable, whatever its type parameter.
type omittable interface {
	IsSet() bool
}

func encodeInput(v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	if v.Type() == microsType {
		return json.Number(money.Micros(v.Int()).Decimal())
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return encodeInput(v.Elem())
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if !sf.IsExported() || name == "" || name == "-" {
				continue
			}
			f := v.Field(i)
			if o, ok := f.Interface().(omittable); ok {
				if o.IsSet() {
					out[name] = encodeInput(f.MethodByName("Value").Call(nil)[0])
				}
				continue
			}
			if strings.Contains(opts, "omitempty") && isEmpty(f) {
				continue
			}
			out[name] = encodeInput(f)
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = encodeInput(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = encodeInput(v.MapIndex(k))
		}
		return out
	}
	return v.Interface()
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return v.IsNil()
	}
	return v.IsZero()
}
