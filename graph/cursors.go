package graph

import (
	"fmt"

	"entgo.io/contrib/entgql"

	"github.com/sluicehq/sluice/ent"
)

// zeroValued gives back the order value a cursor lost. entgql encodes a
// cursor's value with omitempty, so a zero value (a cost or a latency of
// 0, an empty name) comes back as no value, and the page next to it would
// be read by id alone, skipping and repeating rows. A cursor of an order
// by a field always carries the field's value, so no value means zero.
// zero nil leaves the cursor as it is.
func zeroValued(c *entgql.Cursor[int], zero any) *entgql.Cursor[int] {
	if c == nil || c.Value != nil || zero == nil {
		return c
	}
	z := *c
	z.Value = zero
	return &z
}

// usageOrderZero is the zero value of the usage log's order field, for
// zeroValued; nil where the field's values are never zero (creation
// times) or there is no field (the id).
func usageOrderZero(order *ent.UsageRecordOrder) any {
	if order == nil || order.Field == nil {
		return nil
	}
	switch f := order.Field; {
	case sameField(f, ent.UsageRecordOrderFieldCost), sameField(f, ent.UsageRecordOrderFieldLatencyUs):
		return int64(0)
	case sameField(f, ent.UsageRecordOrderFieldModel):
		return ""
	}
	return nil
}

// sameField reports whether an order field is the one named: a field the
// API took is a copy of ent's (its UnmarshalGQL copies the value), so
// fields compare by name, not by pointer.
func sameField[F fmt.Stringer](f, named F) bool {
	return f.String() == named.String()
}
