package graph_test

import (
	"slices"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestKeySearch: where.search finds keys by the start of their name, as
// typed, or of their display prefix, also from the whole key, and works
// inside and/or like the other where fields.
func TestKeySearch(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		svc := h.as(admin, `mutation { createService(input: {serviceName: "s", provider: "openai", modelsEnabled: []}) { id } }`, nil).ok(t).get("createService.id")
		plain := map[string]string{}
		for _, name := range []string{"alpha-1", "alpha-2", "Alphabet", "beta", "50%_off", "50x"} {
			res := h.as(admin, `mutation($s: ID!, $n: String!) { createAPIKey(input: {name: $n, serviceId: $s}) { key apiKey { keyPrefix } } }`,
				map[string]any{"s": svc, "n": name}).ok(t)
			plain[name] = res.str("createAPIKey.key")
		}
		names := func(where map[string]any) []string {
			res := h.as(member, `query($w: APIKeyWhereInput) { apiKeys(first: 50, where: $w, orderBy: {field: NAME}) { edges { node { name } } } }`,
				map[string]any{"w": where}).ok(t)
			var out []string
			for _, e := range res.get("apiKeys.edges").([]any) {
				out = append(out, e.(map[string]any)["node"].(map[string]any)["name"].(string))
			}
			return out
		}
		for _, c := range []struct {
			where map[string]any
			want  []string
		}{
			{map[string]any{"search": "alpha"}, []string{"alpha-1", "alpha-2"}},
			{map[string]any{"search": "Alpha"}, []string{"Alphabet"}},
			{map[string]any{"search": "50%"}, []string{"50%_off"}},
			{map[string]any{"search": "50"}, []string{"50%_off", "50x"}},
			{map[string]any{"search": "gamma"}, nil},
			{map[string]any{"search": plain["beta"]}, []string{"beta"}},
			{map[string]any{"search": plain["beta"][:6]}, []string{"beta"}},
			{map[string]any{"or": []any{map[string]any{"search": "beta"}, map[string]any{"search": "Alpha"}}}, []string{"Alphabet", "beta"}},
			{map[string]any{"search": "alpha", "nameNEQ": "alpha-1"}, []string{"alpha-2"}},
			{map[string]any{"search": ""}, []string{"50%_off", "50x", "Alphabet", "alpha-1", "alpha-2", "beta", "ops-mgmt"}},
		} {
			got := names(c.where)
			if c.where["search"] == plain["beta"][:6] {
				// Four random characters may start another key's prefix too.
				if !slices.Contains(got, "beta") {
					t.Errorf("search %v: %v, want beta among them", c.where, got)
				}
				continue
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("search %v: %v, want %v", c.where, got, c.want)
			}
		}
	})
}
