// Package usagewhere checks a usage-record filter (ent's generated
// UsageRecordWhereInput, taken by the GraphQL usageRecords query and the
// CSV export) for what the database cannot answer.
package usagewhere

import (
	"reflect"
	"strings"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/usererr"
)

// codedFields are the usage record's fields stored as codes or bytes
// (wirecode's protocols and endpoints, requestid's bytes): the database
// matches them whole, so the where input's comparisons and text matches on
// them (requestIDContains, protocolGT …), which ent generates for every
// string field, are refused rather than run.
var codedFields = []string{"RequestID", "ProviderProtocol", "Protocol", "Endpoint"}

// wholeOnly are the operations that match a coded field whole.
var wholeOnly = map[string]bool{"": true, "NEQ": true, "In": true, "NotIn": true, "IsNil": true, "NotNil": true}

// Check refuses a usage-record filter that compares or matches part of a
// coded field, naming the input field (where.requestIDContains).
func Check(w *ent.UsageRecordWhereInput) error {
	if w == nil {
		return nil
	}
	v := reflect.ValueOf(w).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		for _, coded := range codedFields {
			op, ok := strings.CutPrefix(name, coded)
			if !ok || wholeOnly[op] || v.Field(i).IsZero() {
				continue
			}
			field := strings.ToLower(coded[:1]) + coded[1:]
			return usererr.FieldErrorf("where."+field+op,
				"%s matches whole values only: use %s or %sIn", field, field, field)
		}
	}
	for _, sub := range append(append([]*ent.UsageRecordWhereInput{w.Not}, w.And...), w.Or...) {
		if err := Check(sub); err != nil {
			return err
		}
	}
	return nil
}
