package declare

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/manage"
	"github.com/sluicehq/sluice/tenant"
)

// TestPruneSaysWhatGoesWithAService: a service made with a providerApiKey
// owns the credential made from it. Pruning the service while the file
// still names that credential is refused before anything changes (the
// credential would go with the service); pruning both plans the service's
// deletion with every row that goes with it (its keys, its targets, its
// budgets, its credential) and deletes them. Pruning a credential that a
// service the file leaves alone still uses is refused too.
func TestPruneSaysWhatGoesWithAService(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l := newLocal(t, db)
		m := &manage.Manager{Client: db.Client, Keyring: l.Keyring}
		octx := tenant.WithOrg(ctx, l.OrgID)
		key := "sk-own-key-0001"
		svc, err := m.CreateService(octx, l.OrgID, manage.CreateServiceInput{ServiceName: "chat", Provider: "openai", ProviderAPIKey: &key, ModelsEnabled: []string{"gpt-4o-mini"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"app", "batch-job"} {
			if _, err := m.CreateAPIKey(octx, l.OrgID, manage.CreateAPIKeyInput{Name: name, ServiceID: &svc.ID}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := l.ReadState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		own := st.OwnedCredential["chat"]
		if own == "" || len(st.Credentials) != 1 || credKey(st.Credentials[0].Provider, st.Credentials[0].Name) != own {
			t.Fatalf("the service's own credential: %q among %v", own, st.Credentials)
		}
		provider, name := splitCredKey(own)
		getenv := func(string) string { return key }
		keepsCredential := mustLoad(t, []byte("credentials:\n  - {name: "+name+", provider: "+provider+", apiKey: {env: K}}\nservices: []\n"))

		_, err = l.Run(ctx, keepsCredential, Options{Prune: true, Getenv: getenv}, true)
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), own) || !strings.Contains(err.Error(), `service "chat"`) || ve.Line != 2 {
			t.Fatalf("pruning the service while the file names its credential: %v; want a refusal at line 2 naming both", err)
		}
		if n := db.Client.Service.Query().CountX(octx); n != 1 {
			t.Fatalf("the refused prune deleted the service")
		}

		// The reverse: the credential pruned while a service left alone uses it.
		dropsCredential := mustLoad(t, []byte("credentials: []\n"))
		if _, err := l.Run(ctx, dropsCredential, Options{Prune: true, Getenv: getenv}, true); err == nil || !strings.Contains(err.Error(), "service chat still uses it") {
			t.Fatalf("pruning a credential a kept service uses: %v; want a refusal naming the service", err)
		}

		both := mustLoad(t, []byte("credentials: []\nservices: []\n"))
		p := run(t, l, both, Options{Prune: true, Getenv: getenv})
		var out strings.Builder
		p.Write(&out)
		for _, want := range []string{"- delete service chat", "apiKeys: app, batch-job deleted with it", "budgets: its spend and its keys' deleted with it",
			"credential: " + own + " (made from its providerApiKey) deleted with it"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the plan lacks %q:\n%s", want, out.String())
			}
		}
		if strings.Contains(out.String(), "- delete credential") {
			t.Errorf("the plan deletes the credential twice (it goes with the service):\n%s", out.String())
		}
		if n := db.Client.ProviderCredential.Query().CountX(octx) + db.Client.APIKey.Query().CountX(octx) + db.Client.Service.Query().CountX(octx); n != 0 {
			t.Fatalf("after pruning: %d services, credentials and keys left, want none", n)
		}
	})
}
