package graph_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// Each mutation announces the topics of the data it changed, once each,
// after its changes are committed; a refused mutation, and one whose
// transaction rolled back, announce nothing.
func TestMutationsAnnounceTheirChanges(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		var mu sync.Mutex
		var seen []string
		stop := h.changes.Watch(func(topic string) {
			mu.Lock()
			seen = append(seen, topic)
			mu.Unlock()
		})
		defer stop()
		vars := map[string]any{}
		for _, c := range []struct {
			name, query string
			keep        map[string]string // variable → result path, for the next steps
			want        string            // the topics announced, sorted
			refused     string            // the refusal's message, for a mutation refused
		}{
			{"service with its own key", `mutation { createService(input: {serviceName: "alpha", provider: "openai", modelsEnabled: [], providerApiKey: "sk-alpha-0001"}) { id credential { id } } }`,
				map[string]string{"v": "createService.id", "c": "createService.credential.id"}, "credentials services", ""},
			{"service on a shared credential", `mutation($c: ID!) { createService(input: {serviceName: "gamma", provider: "openai", modelsEnabled: [], credentialId: $c}) { id } }`,
				nil, "services", ""},
			// The own credential is created, then the service's name is
			// found taken: the transaction rolls back.
			{"rolled back", `mutation { createService(input: {serviceName: "gamma", provider: "openai", modelsEnabled: [], providerApiKey: "sk-gamma-0002"}) { id } }`,
				nil, "", `a service named \"gamma\" already exists`},
			{"refused input", `mutation { createService(input: {serviceName: " ", provider: "openai", modelsEnabled: []}) { id } }`,
				nil, "", "serviceName must not be empty"},
			{"rename", `mutation($v: ID!) { updateService(id: $v, input: {serviceName: "beta"}) { id } }`,
				nil, "credentials services", ""},
			{"key", `mutation($v: ID!) { createAPIKey(input: {name: "k", serviceId: $v}) { key } }`,
				nil, "api_keys", ""},
			{"settings", `mutation { updateProjectSettings(input: {allowOverwrite: true}) { allowOverwrite } }`,
				nil, "settings", ""},
			{"price", `mutation { createModelPrice(input: {provider: "openai", model: "announced-model", inputPerMtok: 1, outputPerMtok: 2}) { id } }`,
				nil, "prices", ""},
			{"delete the service", `mutation($v: ID!) { deleteService(id: $v) }`,
				nil, "api_keys credentials services", ""},
		} {
			mu.Lock()
			seen = nil
			mu.Unlock()
			res := h.as(admin, c.query, vars)
			if c.refused != "" {
				if !strings.Contains(res.raw, c.refused) {
					t.Fatalf("%s: %s, want refused with %q", c.name, res.raw, c.refused)
				}
			} else {
				res.ok(t)
			}
			for name, path := range c.keep {
				vars[name] = res.get(path)
			}
			mu.Lock()
			got := slices.Clone(seen)
			mu.Unlock()
			slices.Sort(got)
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s: announced %v, want [%s]", c.name, got, c.want)
			}
		}
	})
}
