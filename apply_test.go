package main

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/providercredential"
	"github.com/sluicehq/sluice/ent/service"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
	"github.com/sluicehq/sluice/secrets"
)

// runCLI runs one sluice command and returns its exit code and output.
func runCLI(getenv func(string) string, args ...string) (int, string, string) {
	var out, errOut strings.Builder
	code := run(context.Background(), args, getenv, &out, &errOut)
	return code, out.String(), errOut.String()
}

// managementKey stores a management key of org and returns its secret.
func managementKey(t *testing.T, client *ent.Client, orgID int, name string) string {
	t.Helper()
	gen, err := clientkey.New()
	if err != nil {
		t.Fatal(err)
	}
	client.APIKey.Create().SetOrganizationID(orgID).SetName(name).
		SetKeyHash(gen.Hash).SetKeyPrefix(gen.Prefix).SetKeyLastFour(gen.LastFour).
		SetIsManagementKey(true).SaveX(context.Background())
	return gen.Plaintext
}

// exampleFile writes the README's example with its file secret pointing
// into dir, and returns its path and the variables it reads.
func exampleFile(t *testing.T, dir string) (string, map[string]string) {
	t.Helper()
	data, err := os.ReadFile("examples/sluice.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "openai-backup")
	if err := os.WriteFile(secret, []byte("sk-backup-from-a-file-4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "/run/secrets/openai-backup", secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, map[string]string{"OPENAI_API_KEY": "sk-openai-from-env-1234", "ANTHROPIC_API_KEY": "sk-ant-from-env-5678",
		"SLUICE_ALERT_WEBHOOK_URL": "https://hooks.example.com/services/T0/B0/hook-secret"}
}

func getenvOf(vars map[string]string, kv ...string) func(string) string {
	m := map[string]string{}
	for k, v := range vars {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestApplyThroughTheAPI drives `sluice apply --server` and `sluice export
// --server` against a running gateway on each dialect: the example file
// applies, a second apply changes nothing, the keys from the environment
// and from a file reach the credentials encrypted and never show in the
// plan, the changes are audited as the management key, a key of another
// organization neither sees nor touches them and may not change shared
// catalogs, an invalid file changes nothing, and the API's export applied
// to an empty local database exports the same file again.
func TestApplyThroughTheAPI(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		target := testenv.Target(t, d)
		serverEnv := env("DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey,
			"SLUICE_JWT_SECRET", "test-jwt-secret-test-jwt-secret-0123", "SLUICE_ADMIN_PASSWORD", "admin password 1")
		base, _ := startBinary(t, serverEnv)
		db, err := database.Open(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		orgA, err := auth.DefaultOrganization(ctx, db.Client)
		if err != nil {
			t.Fatal(err)
		}
		orgB, err := auth.CreateOrganization(ctx, db.Client, "Beta", false)
		if err != nil {
			t.Fatal(err)
		}
		keyA := managementKey(t, db.Client, orgA.ID, "ops-a")
		keyB := managementKey(t, db.Client, orgB.ID, "ops-b")

		dir := t.TempDir()
		file, vars := exampleFile(t, dir)
		asA := getenvOf(vars, "SLUICE_MANAGEMENT_KEY", keyA)
		asB := getenvOf(vars, "SLUICE_MANAGEMENT_KEY", keyB)

		code, out, errOut := runCLI(asA, "apply", "--server", base, "-f", file, "--dry-run")
		if code != 0 || !strings.Contains(out, "+ create service chat") || !strings.Contains(out, "(dry run: nothing changed)") {
			t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if n := db.Client.Service.Query().CountX(ctx); n != 0 {
			t.Fatalf("a dry run made %d services", n)
		}
		code, out, errOut = runCLI(asA, "apply", "--server", base, "-f", file)
		if code != 0 || !strings.Contains(out, "applied") {
			t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
		}
		for _, secret := range []string{"sk-openai-from-env", "sk-ant-from-env", "sk-backup-from-a-file", "hook-secret"} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("apply printed the secret %q:\n%s", secret, out)
			}
		}
		if !strings.Contains(out, "apiKey: key set (from env OPENAI_API_KEY)") {
			t.Errorf("the plan does not say where the key came from:\n%s", out)
		}
		code, out, errOut = runCLI(asA, "apply", "--server", base, "-f", file)
		if code != 0 || !noChanges(out) {
			t.Fatalf("second apply: exit %d, want \"no changes\":\n%s%s", code, out, errOut)
		}

		// The keys reached the credentials, sealed under the master key.
		master, _ := secrets.ParseMasterKey(testMasterKey)
		kr, _ := secrets.NewKeyring(master)
		for name, want := range map[string]string{"main": "sk-openai-from-env-1234", "backup": "sk-backup-from-a-file-4242"} {
			c := db.Client.ProviderCredential.Query().Where(providercredential.Provider("openai"), providercredential.AccountKey(name)).OnlyX(ctx)
			if strings.Contains(string(*c.APIKeyCiphertext), want) {
				t.Errorf("credential %s stores its key in clear", name)
			}
			if got, err := credentials.Key(kr, c); err != nil || got != want {
				t.Errorf("credential %s opens as %q (%v), want %q", name, got, err, want)
			}
		}
		// Audited by the gateway as the management key that ran it.
		audited := db.Client.AuditEvent.Query().Where(auditevent.ActorTypeEQ(auditevent.ActorTypeManagementKey),
			auditevent.ActorName("ops-a"), auditevent.ActionEQ("createService"), auditevent.OutcomeEQ(auditevent.OutcomeSuccess)).CountX(ctx)
		if audited != 2 {
			t.Errorf("%d createService audit events by ops-a, want 2", audited)
		}

		// A key rotated by hand shows in the next plan as a changed key.
		changed := getenvOf(vars, "SLUICE_MANAGEMENT_KEY", keyA, "OPENAI_API_KEY", "sk-openai-rotated-9876")
		code, out, _ = runCLI(changed, "apply", "--server", base, "-f", file, "--dry-run")
		if code != 0 || !strings.Contains(out, "apiKey: (set) → key changed (from env OPENAI_API_KEY)") || strings.Contains(out, "rotated") {
			t.Errorf("a changed key: exit %d\n%s", code, out)
		}

		// Organization B: sees none of A's, prunes none of A's, and may not
		// change the shared catalogs.
		code, out, errOut = runCLI(asB, "export", "--server", base)
		if code != 0 || strings.Contains(out, "chat") || strings.Contains(out, "apiStandards") {
			t.Errorf("B's export: exit %d\n%s%s", code, out, errOut)
		}
		empty := write(t, filepath.Join(dir, "empty.yaml"), "services: []\ncredentials: []\n")
		if code, out, errOut = runCLI(asB, "apply", "--server", base, "-f", empty, "--prune"); code != 0 || !noChanges(out) {
			t.Errorf("B's prune: exit %d\n%s%s", code, out, errOut)
		}
		if n := db.Client.Service.Query().Where(service.OrganizationID(orgA.ID)).CountX(ctx); n != 2 {
			t.Errorf("A has %d services after B's prune, want 2", n)
		}
		code, _, errOut = runCLI(asB, "apply", "--server", base, "-f", file)
		if code == 0 || !strings.Contains(errOut, "instance admin") {
			t.Errorf("B applying shared sections: exit %d, %s", code, errOut)
		}

		// An invalid file: a line-numbered error, nothing changed.
		bad := write(t, filepath.Join(dir, "bad.yaml"), "services:\n  - name: chat\n    provider: openai\n    modles: [gpt-5]\n")
		code, _, errOut = runCLI(asA, "apply", "--server", base, "-f", bad, "--prune")
		if code == 0 || !strings.Contains(errOut, "bad.yaml:4") || !strings.Contains(errOut, "modles") {
			t.Errorf("invalid file: exit %d, %s", code, errOut)
		}
		if n := db.Client.Service.Query().Where(service.OrganizationID(orgA.ID)).CountX(ctx); n != 2 {
			t.Errorf("A has %d services after an invalid file, want 2", n)
		}

		// A failure part way: what was done before it is reported.
		partial := write(t, filepath.Join(dir, "partial.yaml"), "services:\n  - {name: first, provider: openai, models: [gpt-5]}\n  - {name: second, provider: openai, models: [no-such-model]}\n")
		code, out, errOut = runCLI(asA, "apply", "--server", base, "-f", partial)
		if code == 0 || !strings.Contains(errOut, "+ create service second failed") ||
			!strings.Contains(errOut, "1 change(s) were made before it:\n  + create service first") {
			t.Errorf("a failure part way: exit %d\n%s%s", code, out, errOut)
		}

		// Round trip: the API's export, applied to an empty local database,
		// exports as the same file.
		code, exported, errOut := runCLI(asA, "export", "--server", base)
		if code != 0 {
			t.Fatalf("export: exit %d %s", code, errOut)
		}
		exportPath := write(t, filepath.Join(dir, "exported.yaml"), exported)
		fresh := testenv.Target(t, d)
		local := getenvOf(map[string]string{"OPENAI_MAIN_API_KEY": "k-1111", "OPENAI_BACKUP_API_KEY": "k-2222", "ANTHROPIC_MAIN_API_KEY": "k-3333",
			"SLUICE_ALERT_WEBHOOK_URL": "https://hooks.example.com/x"},
			"DATABASE_URL", testenv.URL(fresh), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", "test-jwt-secret-test-jwt-secret-0123")
		if code, out, errOut := runCLI(local, "apply", "-f", exportPath); code != 0 {
			t.Fatalf("apply the export locally: exit %d\n%s%s", code, out, errOut)
		}
		code, again, errOut := runCLI(local, "export")
		if code != 0 {
			t.Fatalf("local export: exit %d %s", code, errOut)
		}
		if again != exported {
			t.Errorf("export → apply → export differs:\nfirst:\n%s\nsecond:\n%s", exported, again)
		}
		if code, out, _ := runCLI(local, "apply", "-f", exportPath); code != 0 || !noChanges(out) {
			t.Errorf("applying the export locally twice: exit %d\n%s", code, out)
		}
	})
}

// TestApplyExampleDryRunLocally: the README's example plans against an
// embedded database and changes nothing; with no database yet, the dry run
// and the export refuse and create nothing.
func TestApplyExampleDryRunLocally(t *testing.T) {
	dir := t.TempDir()
	file, vars := exampleFile(t, dir)
	data := filepath.Join(dir, "data")
	getenv := getenvOf(vars, "SLUICE_DATA_DIR", data)
	for _, args := range [][]string{{"apply", "-f", file, "--dry-run"}, {"export"}} {
		if code, _, errOut := runCLI(getenv, args...); code != 1 || !strings.Contains(errOut, "no database to read") {
			t.Errorf("%v with no database: exit %d %q, want a refusal", args, code, errOut)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("a refused dry run or export made the data directory: %v", err)
	}
	if code, out, errOut := runCLI(getenv, "apply", "-f", write(t, filepath.Join(dir, "empty.yaml"), "services: []\n")); code != 0 {
		t.Fatalf("apply an empty file: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(getenv, "apply", "-f", file, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"+ create service chat", "+ create credential anthropic/main", "~ update organization limits", "(dry run: nothing changed)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI(getenv, "export"); code != 0 || !strings.Contains(out, "services: []") {
		t.Errorf("after a dry run the export should have no services: exit %d\n%s", code, out)
	}
}

// TestApplyDryRunAndExportOnlyRead: on a database with a migration still
// pending, `apply --dry-run` and `export` refuse, naming sluice migrate,
// and leave it pending; on a migrated one they answer and every table
// keeps its rows (no migration, no price catalog sync, no audit event).
func TestApplyDryRunAndExportOnlyRead(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		dir := t.TempDir()
		file, vars := exampleFile(t, dir)
		target := testenv.Target(t, d)
		getenv := getenvOf(vars, "DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT)
		if code, out, errOut := runCLI(getenv, "apply", "-f", write(t, filepath.Join(dir, "empty.yaml"), "services: []\n")); code != 0 {
			t.Fatalf("apply an empty file: exit %d\n%s%s", code, out, errOut)
		}
		db := openTarget(t, target)
		defer db.Close()
		all, err := migrations.Load(d)
		if err != nil {
			t.Fatal(err)
		}
		last := all[len(all)-1].Version
		if _, err := db.SQL.Exec(database.Rebind(d, "DELETE FROM sluice_schema_migrations WHERE version = ?"), last); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"apply", "-f", file, "--dry-run"}, {"export"}} {
			code, _, errOut := runCLI(getenv, args...)
			if code != 1 || !strings.Contains(errOut, "run sluice migrate first") || !strings.Contains(errOut, last) {
				t.Errorf("%v with a pending migration: exit %d %q, want a refusal naming %s and sluice migrate", args, code, errOut, last)
			}
		}
		if pending, err := migrations.Pending(ctx, db.SQL, d); err != nil || len(pending) != 1 {
			t.Fatalf("after the refusals: %d pending, %v; want the one left pending", len(pending), err)
		}
		if _, err := db.SQL.Exec(database.Rebind(d, "INSERT INTO sluice_schema_migrations (version, name, applied_at) VALUES (?, ?, CURRENT_TIMESTAMP)"), last, all[len(all)-1].Name); err != nil {
			t.Fatal(err)
		}
		// Prices the catalog would restore: a sync would put them back.
		if _, err := db.SQL.Exec("DELETE FROM model_prices WHERE customized = false"); err != nil {
			t.Fatal(err)
		}
		before := rowCounts(t, db)
		code, out, errOut := runCLI(getenv, "apply", "-f", file, "--dry-run")
		if code != 0 || !strings.Contains(out, "+ create service chat") {
			t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
		}
		if code, out, errOut := runCLI(getenv, "export"); code != 0 || !strings.Contains(out, "services: []") {
			t.Errorf("export: exit %d\n%s%s", code, out, errOut)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Errorf("the dry run and the export changed rows: before %v, after %v", before, after)
		}
	})
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, db *database.DB) map[string]int {
	t.Helper()
	q := "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	if db.Dialect == dialect.SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table'"
	}
	rows, err := db.SQL.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// noChanges reports whether a plan's output says it changes nothing (it
// may go on to list what it leaves alone).
func noChanges(out string) bool {
	first, rest, _ := strings.Cut(out, "\n")
	return first == "no changes" && !strings.Contains(rest, "create") && !strings.Contains(rest, "update") && !strings.Contains(rest, "- delete")
}
