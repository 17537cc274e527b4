// Package usagewhere checks a usage-record filter (ent's generated
// UsageRecordWhereInput, taken by the GraphQL usageRecords query and the
// CSV export) for what the database cannot answer.
package usagewhere

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/usagerollupday"
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

// SplitMax is the most models a text match is split into by Narrow.
const SplitMax = 8

// Narrow turns a model text match (modelContainsFold) into an exact model
// when the organization has used exactly one model containing the text,
// and into a match of nothing when it has used none, so that the model's
// index answers instead of a walk of every record that reads each one's
// model. The models an organization has used are its daily roll-ups'
// (written with every record and never deleted, so no record's model is
// missing). Several models containing the text stay a text match, and
// up to SplitMax of them are returned: a caller may then read each
// model's records through its index and merge them. Only the top level
// of w is narrowed.
func Narrow(ctx context.Context, client *ent.Client, org int, w *ent.UsageRecordWhereInput) (several []string, err error) {
	if w == nil || w.ModelContainsFold == nil || w.Model != nil || !ascii(*w.ModelContainsFold) {
		return nil, nil
	}
	used, err := client.UsageRollupDay.Query().
		Where(usagerollupday.OrganizationID(org)).
		Unique(true).
		Select(usagerollupday.FieldModel).
		Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("models in use: %w", err)
	}
	text := strings.ToLower(*w.ModelContainsFold)
	var matches []string
	for _, m := range used {
		if strings.Contains(strings.ToLower(m), text) {
			matches = append(matches, m)
		}
	}
	switch {
	case len(matches) == 0:
		// No model contains the text, so none equals it: the exact match
		// finds nothing, through the index.
		w.Model, w.ModelContainsFold = w.ModelContainsFold, nil
	case len(matches) == 1:
		w.Model, w.ModelContainsFold = &matches[0], nil
	case len(matches) <= SplitMax:
		return matches, nil
	}
	return nil, nil
}

// ascii reports whether s is non-empty ASCII, which the databases' text
// matches and Go fold alike; other text is left to the database.
func ascii(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return s != ""
}
