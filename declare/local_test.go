package declare

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/secrets"
)

// newLocal prepares db as the gateway does at start (the default
// organization, the price catalog) and returns the local applier.
func newLocal(t *testing.T, db *database.DB) *Local {
	t.Helper()
	ctx := context.Background()
	org, err := auth.DefaultOrganization(ctx, db.Client)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pricing.Sync(ctx, db.Client); err != nil {
		t.Fatal(err)
	}
	enc, err := secrets.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	master, err := secrets.ParseMasterKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := secrets.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	return &Local{Client: db.Client, Keyring: kr, OrgID: org.ID, Actor: "sluice apply (test)"}
}

// exampleEnv supplies the example file's secrets: two variables and a file.
func exampleEnv(t *testing.T) (func(string) string, []byte) {
	t.Helper()
	dir := t.TempDir()
	backup := filepath.Join(dir, "openai-backup")
	if err := os.WriteFile(backup, []byte("sk-backup-from-file-9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../examples/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.ReplaceAll(string(data), "/run/secrets/openai-backup", backup))
	vars := map[string]string{"OPENAI_API_KEY": "sk-openai-main-1234", "ANTHROPIC_API_KEY": "sk-ant-main-5678",
		"SLUICE_ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/secret"}
	return func(k string) string { return vars[k] }, data
}

func mustLoad(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Load("sluice.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func run(t *testing.T, l *Local, f *File, opts Options) *Plan {
	t.Helper()
	p, err := l.Run(context.Background(), f, opts, false)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func planText(p *Plan) string {
	var b strings.Builder
	p.Write(&b)
	return b.String()
}

// TestLocalExampleRoundTrip applies the example file to a fresh database,
// applies it again (no changes), exports the result, applies that export
// to another fresh database and exports again: the two exports are the
// same file.
func TestLocalExampleRoundTrip(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		getenv, data := exampleEnv(t)
		l := newLocal(t, testenv.New(t, d))
		first := run(t, l, mustLoad(t, data), Options{Getenv: getenv})
		if first.Empty() {
			t.Fatal("the first apply planned nothing")
		}
		text := planText(first)
		for _, secret := range []string{"sk-openai-main-1234", "sk-ant-main-5678", "sk-backup-from-file", "B0/secret"} {
			if strings.Contains(text, secret) {
				t.Errorf("the plan shows the secret %q:\n%s", secret, text)
			}
		}
		for _, want := range []string{"+ create service chat", "apiKey: key set (from env OPENAI_API_KEY)", "+ create target chat → anthropic/main"} {
			if !strings.Contains(text, want) {
				t.Errorf("the plan lacks %q:\n%s", want, text)
			}
		}
		if again := run(t, l, mustLoad(t, data), Options{Getenv: getenv}); !again.Empty() {
			t.Fatalf("applying twice changed things the second time:\n%s", planText(again))
		}

		// The keys reached the credentials, encrypted at rest.
		c := l.Client.ProviderCredential.Query().Where(providercredential.Provider("openai"), providercredential.AccountKey("backup")).OnlyX(ctx)
		if strings.Contains(string(*c.APIKeyCiphertext), "sk-backup") {
			t.Error("the provider key is stored in clear")
		}
		st, err := l.ReadState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Keys["openai/backup"].Value; got != "sk-backup-from-file-9999" {
			t.Errorf("the key from the file opens as %q", got)
		}
		// Audited as the command line, each change once.
		n := l.Client.AuditEvent.Query().Where(auditevent.ActorTypeEQ(auditevent.ActorTypeSystem), auditevent.ActorName("sluice apply (test)")).CountX(ctx)
		if n != len(first.Changes) {
			t.Errorf("%d audit events for %d changes", n, len(first.Changes))
		}

		exported, err := Export(st)
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"OPENAI_MAIN_API_KEY": "k1-aaaa", "OPENAI_BACKUP_API_KEY": "k2-bbbb", "ANTHROPIC_MAIN_API_KEY": "k3-cccc",
			WebhookEnv: "https://hooks.example.com/x"}
		other := newLocal(t, testenv.New(t, d))
		run(t, other, mustLoad(t, exported), Options{Getenv: func(k string) string { return vars[k] }})
		st2, err := other.ReadState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Export(st2)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(exported) {
			t.Errorf("export → apply → export differs:\nfirst:\n%s\nsecond:\n%s", exported, again)
		}
		if !strings.Contains(string(exported), "bodyCapture:\n      mode: ERRORS\n      maxBytes: 32768\n      retentionDays: 7") {
			t.Errorf("the export lacks the chat service's body capture:\n%s", exported)
		}
		if strings.Contains(string(exported), "sk-") {
			t.Errorf("the export holds a secret:\n%s", exported)
		}
	})
}

// TestLocalFailureChangesNothing: a change the data's rules refuse part
// way through leaves the database as it was.
func TestLocalFailureChangesNothing(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		l := newLocal(t, testenv.New(t, d))
		// The second service names a model the catalog does not know, which
		// manage refuses after the first was created in the transaction.
		f := mustLoad(t, []byte(`services:
  - name: first
    provider: openai
    models: [gpt-5-mini]
  - name: second
    provider: openai
    models: [no-such-model]
`))
		_, err := l.Run(ctx, f, Options{}, false)
		var pe *PartialError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("err = %v, want a failure saying nothing was changed", err)
		}
		if pe.Failed.Name != "second" {
			t.Errorf("the failed change is %q, want the second service", pe.Failed.Name)
		}
		if n := l.Client.Service.Query().CountX(ctx); n != 0 {
			t.Errorf("%d services after a failed apply, want 0", n)
		}
	})
}

// TestLocalOrganizationsAreApart: applying to one organization neither
// sees nor prunes another's services.
func TestLocalOrganizationsAreApart(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		a := newLocal(t, testenv.New(t, d))
		orgB, err := auth.CreateOrganization(ctx, a.Client, "Beta", false)
		if err != nil {
			t.Fatal(err)
		}
		b := &Local{Client: a.Client, Keyring: a.Keyring, OrgID: orgB.ID, Actor: a.Actor}
		run(t, a, mustLoad(t, []byte("services:\n  - {name: chat, provider: openai, models: [gpt-5]}\n")), Options{})
		p := run(t, b, mustLoad(t, []byte("services: []\n")), Options{Prune: true})
		if !p.Empty() {
			t.Fatalf("B's prune plans changes:\n%s", planText(p))
		}
		run(t, b, mustLoad(t, []byte("services:\n  - {name: chat, provider: openai, models: [gpt-5-mini]}\n")), Options{})
		st, err := a.ReadState(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Services) != 1 || st.Services[0].Models[0] != "gpt-5" {
			t.Errorf("A's services after B's applies: %+v", st.Services)
		}
	})
}
