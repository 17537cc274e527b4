package orgscope_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/tenant"
)

// owned is one organization's service, client key and credential.
type owned struct {
	org                  int
	service, key, credID int
}

func seed(t *testing.T, client *ent.Client, name string) owned {
	t.Helper()
	ctx := context.Background()
	org := client.Organization.Create().SetName(name).SaveX(ctx)
	cred := client.ProviderCredential.Create().SetOrganizationID(org.ID).SetProvider("openai").
		SetAccountKey(name).SetDisplayName(name).SaveX(ctx)
	svc := client.Service.Create().SetOrganizationID(org.ID).SetServiceName(name).SetProvider("openai").
		SetCredentialID(cred.ID).SetModelsEnabled([]string{"gpt-4o"}).SaveX(ctx)
	key := client.APIKey.Create().SetOrganizationID(org.ID).SetServiceID(svc.ID).SetName(name).
		SetKeyHash("hash-" + name).SetKeyPrefix("sk-" + name).SetKeyLastFour("abcd").SaveX(ctx)
	return owned{org: org.ID, service: svc.ID, key: key.ID, credID: cred.ID}
}

// A context scoped to organization A reads A's services, keys and
// credentials only, by query, by id and through edges; the system and a
// context no viewer passed through read every organization's.
func TestReadsAreScopedToTheContextsOrganization(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		a, b := seed(t, db.Client, "a"), seed(t, db.Client, "b")
		asA := tenant.WithOrg(context.Background(), a.org)

		counts := func(ctx context.Context) string {
			return fmt.Sprint(db.Client.Service.Query().CountX(ctx), db.Client.APIKey.Query().CountX(ctx),
				db.Client.ProviderCredential.Query().CountX(ctx))
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			want string
		}{
			{"organization A", asA, "1 1 1"},
			{"system", tenant.System(asA), "2 2 2"},
			{"no viewer", context.Background(), "2 2 2"},
			{"viewer left", tenant.Without(asA), "2 2 2"},
		} {
			if got := counts(c.ctx); got != c.want {
				t.Errorf("%s: services, keys, credentials = %s, want %s", c.name, got, c.want)
			}
		}

		if _, err := db.Client.Service.Get(asA, b.service); !ent.IsNotFound(err) {
			t.Errorf("A reads B's service: err = %v, want not found", err)
		}
		if _, err := db.Client.APIKey.Get(asA, b.key); !ent.IsNotFound(err) {
			t.Errorf("A reads B's key: err = %v, want not found", err)
		}
		if _, err := db.Client.ProviderCredential.Get(asA, b.credID); !ent.IsNotFound(err) {
			t.Errorf("A reads B's credential: err = %v, want not found", err)
		}
		if _, err := db.Client.Noder(asA, b.service); !ent.IsNotFound(err) {
			t.Errorf("A reads B's service as a node: err = %v, want not found", err)
		}
		if got := db.Client.Service.GetX(asA, a.service); got.ID != a.service {
			t.Errorf("A reads its own service: got %d, want %d", got.ID, a.service)
		}
		// An edge from B's organization (visible to the system) into B's
		// data stays empty for A.
		if n := db.Client.Organization.GetX(asA, b.org).QueryServices().CountX(asA); n != 0 {
			t.Errorf("A reaches %d of B's services through B's organization, want 0", n)
		}
	})
}
