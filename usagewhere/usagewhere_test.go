package usagewhere_test

import (
	"errors"
	"testing"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/usagewhere"
	"github.com/sluicehq/sluice/usererr"
)

func ptr[T any](v T) *T { return &v }

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		where *ent.UsageRecordWhereInput
		field string // the refused input field, "" when accepted
	}{
		{"none", nil, ""},
		{"whole values", &ent.UsageRecordWhereInput{RequestID: ptr("abc"), ProtocolIn: []string{"openai"},
			EndpointNEQ: ptr("/v1/embeddings"), ProviderProtocolIsNil: true}, ""},
		{"other fields' text matches", &ent.UsageRecordWhereInput{ModelContainsFold: ptr("gpt"), ErrorHasPrefix: ptr("budget")}, ""},
		{"part of a request ID", &ent.UsageRecordWhereInput{RequestIDContains: ptr("ab")}, "where.requestIDContains"},
		{"protocol order", &ent.UsageRecordWhereInput{ProtocolGT: ptr("a")}, "where.protocolGT"},
		{"endpoint prefix", &ent.UsageRecordWhereInput{EndpointHasPrefix: ptr("/v1")}, "where.endpointHasPrefix"},
		{"provider protocol any case", &ent.UsageRecordWhereInput{ProviderProtocolEqualFold: ptr("OpenAI")}, "where.providerProtocolEqualFold"},
		{"inside or", &ent.UsageRecordWhereInput{Or: []*ent.UsageRecordWhereInput{{Model: ptr("x")}, {EndpointContains: ptr("chat")}}}, "where.endpointContains"},
		{"inside not", &ent.UsageRecordWhereInput{Not: &ent.UsageRecordWhereInput{RequestIDHasSuffix: ptr("z")}}, "where.requestIDHasSuffix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := usagewhere.Check(tc.where)
			var ue *usererr.Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "":
			case !errors.As(err, &ue) || ue.Code != usererr.CodeBadUserInput || ue.Field != tc.field:
				t.Fatalf("error %#v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}
