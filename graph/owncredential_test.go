package graph_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestOwnCredentialFollowsRename: the credential a service's providerApiKey
// creates belongs to the service by id, so a rename neither orphans it nor
// gives the service a second one, and deleting the service deletes it.
func TestOwnCredentialFollowsRename(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		created := h.as(admin, `mutation { createService(input: {serviceName: "alpha", provider: "openai", modelsEnabled: [], providerApiKey: "sk-alpha-0001"}) {
			id credential { id accountKey } } }`, nil).ok(t)
		sid, credID := created.get("createService.id"), created.str("createService.credential.id")
		if got := created.str("createService.credential.accountKey"); got != "service:alpha" {
			t.Fatalf("own credential's account key = %q, want service:alpha", got)
		}

		renamed := h.as(admin, `mutation($s: ID!) { updateService(id: $s, input: {serviceName: "beta"}) { serviceName credential { id accountKey displayName } } }`,
			map[string]any{"s": sid}).ok(t)
		if renamed.str("updateService.credential.id") != credID || renamed.str("updateService.credential.accountKey") != "service:beta" ||
			renamed.str("updateService.credential.displayName") != "beta" {
			t.Fatalf("after the rename the service's credential is %s, want %s relabelled service:beta", renamed.raw, credID)
		}

		rotated := h.as(admin, `mutation($s: ID!) { updateService(id: $s, input: {providerApiKey: "sk-beta-0002"}) { credential { id apiKeyLastFour } } }`,
			map[string]any{"s": sid}).ok(t)
		if rotated.str("updateService.credential.id") != credID || rotated.str("updateService.credential.apiKeyLastFour") != "0002" {
			t.Fatalf("rotation after the rename: %s, want the key 0002 in credential %s", rotated.raw, credID)
		}
		if got, want := credentialRows(t, h), "service:beta(owned)"; got != want {
			t.Fatalf("credentials after rename and rotation = %s, want exactly one owned: %s", got, want)
		}

		// The old name is free again, with a providerApiKey of its own.
		again := h.as(admin, `mutation { createService(input: {serviceName: "alpha", provider: "openai", modelsEnabled: [], providerApiKey: "sk-alpha-0003"}) { id } }`, nil).ok(t)

		h.as(admin, `mutation($s: ID!) { deleteService(id: $s) }`, map[string]any{"s": sid}).ok(t)
		if got, want := credentialRows(t, h), "service:alpha(owned)"; got != want {
			t.Fatalf("credentials after deleting beta = %s, want only the new alpha's: %s", got, want)
		}

		// An own credential another service uses outlives its owner, as a
		// shared credential.
		h.as(admin, `mutation($c: ID!) { createService(input: {serviceName: "gamma", provider: "openai", modelsEnabled: [], credentialId: $c}) { id } }`,
			map[string]any{"c": h.as(admin, `{ providerCredentials { edges { node { id } } } }`, nil).ok(t).get("providerCredentials.edges.0.node.id")}).ok(t)
		h.as(admin, `mutation($s: ID!) { deleteService(id: $s) }`, map[string]any{"s": again.get("createService.id")}).ok(t)
		if got, want := credentialRows(t, h), "service:alpha"; got != want {
			t.Fatalf("credentials after deleting alpha, whose credential gamma uses = %s, want %s (kept, no owner)", got, want)
		}
		gamma := h.as(admin, `{ services { edges { node { serviceName credential { accountKey } } } } }`, nil).ok(t)
		if gamma.str("services.edges.0.node.credential.accountKey") != "service:alpha" {
			t.Fatalf("gamma lost its credential: %s", gamma.raw)
		}
	})
}

// credentialRows lists the database's provider credentials by account key,
// marking those a service owns.
func credentialRows(t *testing.T, h *harness) string {
	t.Helper()
	var out []string
	for _, c := range h.client.ProviderCredential.Query().AllX(context.Background()) {
		s := c.AccountKey
		if c.OwnerServiceID != nil {
			s += "(owned)"
			if _, err := h.client.Service.Get(context.Background(), *c.OwnerServiceID); err != nil {
				t.Fatalf("credential %s is owned by service %d: %v", c.AccountKey, *c.OwnerServiceID, err)
			}
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
