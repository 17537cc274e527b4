package declare

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/money"
)

func TestInputValue(t *testing.T) {
	rpm := 60
	block := money.FromUSD(2.5)
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"unset fields are left out", manage.UpdateServiceInput{}, `{}`},
		{"an Omittable set to nil is null", manage.UpdateServiceInput{LimitRpm: graphql.OmittableOf[*int](nil)}, `{"limitRpm":null}`},
		{"an Omittable set to a value", manage.UpdateServiceInput{LimitRpm: graphql.OmittableOf(&rpm)}, `{"limitRpm":60}`},
		{"amounts are decimal USD", manage.UpdateOrganizationLimitsInput{LimitCostDayBlock: graphql.OmittableOf(&block)}, `{"limitCostDayBlock":2.500000}`},
		{"an empty list is kept", manage.UpdateServiceInput{ModelsEnabled: []string{}}, `{"modelsEnabled":[]}`},
		{"required fields are always sent", manage.CreateModelPriceInput{Provider: "openai", Model: "m"},
			`{"inputPerMtok":0.000000,"model":"m","outputPerMtok":0.000000,"provider":"openai"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(inputValue(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s, want %s", b, tt.want)
			}
		})
	}
}
