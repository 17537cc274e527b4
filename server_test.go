package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/credentials"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/migrations"
)

// env builds a getenv from pairs, so tests never read the real environment.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// startBinary runs the serve command as the binary would, on a free port,
// and returns its base URL and a function that stops it (as SIGTERM does)
// and returns its exit code and log.
func startBinary(t *testing.T, getenv func(string) string, args ...string) (string, func() (int, string)) {
	t.Helper()
	return startBinaryAt(t, freeAddr(t), getenv, args...)
}

// freeAddr is a local address no one listens on, for a gateway whose own
// URL must be known before it starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startBinaryAt is startBinary on addr.
func startBinaryAt(t *testing.T, addr string, getenv func(string) string, args ...string) (string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), getenv, io.Discard, &logs)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("sluice exited with %d before listening:\n%s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("sluice did not start:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop := func() (int, string) {
		if stopped {
			return 0, logs.String()
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code, logs.String()
		case <-time.After(30 * time.Second):
			t.Fatal("sluice did not stop within 30s")
		}
		return -1, ""
	}
	t.Cleanup(func() { stop() })
	return base, stop
}

func graphqlPost(t *testing.T, base, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(base+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode GraphQL answer: %v", err)
	}
	return out
}

// TestServeOnEachDialect starts the gateway as `go run .` does, on a fresh
// database of each dialect: /healthz, /readyz, the dashboard placeholder,
// the playground and the public apiStandards query answer, and SIGTERM
// stops it cleanly.
func TestServeOnEachDialect(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		getenv := env("DATABASE_URL", testenv.URL(target),
			"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
			"SLUICE_JWT_SECRET", "test-jwt-secret-test-jwt-secret-0123")
		base, stop := startBinary(t, getenv)

		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/": "Sluice", "/playground": "GraphQL"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
				t.Errorf("GET %s = %d %.80q, want 200 containing %q", path, resp.StatusCode, b, want)
			}
		}

		// Beside the dashboard's catch-all, proxy paths still answer in an
		// SDK's error shape, and none redirects (repeating ?key=).
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, c := range []struct{ method, path string }{{"POST", "/chat/completions"}, {"GET", "/v1beta/tunedModels?key=sk_x"}, {"POST", "//v1/chat/completions?key=sk_x"}} {
			req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader("{}"))
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Type") != "application/json" || strings.Contains(string(b), "sk_x") {
				t.Errorf("%s %s = %d %q %.120s, want a JSON 404 without the key", c.method, c.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		}

		// The usage export is served, and only to a caller the API knows.
		resp, err := http.Get(base + "/api/admin/usage.csv")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /api/admin/usage.csv without credentials = %d, want 401", resp.StatusCode)
		}

		out := graphqlPost(t, base, `{ apiStandards { apiStandardHandle description keyMethod keyField } }`)
		list, _ := out["data"].(map[string]any)["apiStandards"].([]any)
		handles := map[string]string{}
		for _, s := range list {
			m := s.(map[string]any)
			handles[m["apiStandardHandle"].(string)] = m["keyMethod"].(string)
		}
		want := map[string]string{"openai": "auth_bearer", "cohere": "auth_bearer", "gemini": "query_param", "anthropic": "auth_apikey", "ollama": "none"}
		if len(handles) != len(want) {
			t.Fatalf("apiStandards = %v, want %v", handles, want)
		}
		for h, m := range want {
			if handles[h] != m {
				t.Errorf("standard %s keyMethod = %q, want %q", h, handles[h], m)
			}
		}

		code, logs := stop()
		if code != 0 || !strings.Contains(logs, "stopped") {
			t.Fatalf("exit code %d after shutdown, logs:\n%s", code, logs)
		}
	})
}

// TestEmbeddedDefaultGeneratesSecretsOnce checks the embedded default: with
// no DATABASE_URL and no secrets, the data directory is made (mode 0700)
// if missing, a sluice.secrets file with mode 0600 is written beside
// sluice.db, named in the log, and reused on the next start.
func TestEmbeddedDefaultGeneratesSecretsOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "sluice")
	getenv := env("SLUICE_DATA_DIR", dir)
	_, stop := startBinary(t, getenv)
	_, logs := stop()
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, %v; want it made with mode 0700\n%s", st, err, logs)
	}
	path := filepath.Join(dir, "sluice.secrets")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no secrets file: %v\n%s", err, logs)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file mode %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(logs, path) {
		t.Fatalf("log does not say where the secrets went:\n%s", logs)
	}
	first, _ := os.ReadFile(path)
	if _, err := os.Stat(filepath.Join(dir, "sluice.db")); err != nil {
		t.Fatalf("no sluice.db beside it: %v", err)
	}

	_, stop = startBinary(t, getenv)
	_, logs = stop()
	second, _ := os.ReadFile(path)
	if !bytes.Equal(first, second) {
		t.Fatal("the second start rewrote the secrets file")
	}
	if strings.Contains(logs, "generated a master key") {
		t.Fatalf("the second start generated secrets again:\n%s", logs)
	}
}

// TestStartupErrorsAreClear covers refusals at start: each exits 1 with one
// line saying what to fix, and no stack trace.
func TestStartupErrorsAreClear(t *testing.T) {
	pg := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"postgres without master key", env("DATABASE_URL", pg, "SLUICE_JWT_SECRET", "x"), nil, "SLUICE_MASTER_KEY"},
		{"postgres without any secret", env("DATABASE_URL", pg), nil, "must be set in the environment"},
		{"malformed database url", env("DATABASE_URL", "postgres://user:pa ss@host:5432/%zz"), nil, "DATABASE_URL is not a valid postgres URL"},
		{"unknown scheme", env("DATABASE_URL", "mysql://root@localhost/db"), nil, `scheme "mysql" is not supported`},
		{"no scheme", env("DATABASE_URL", "localhost:5432"), nil, "is not supported"},
		{"postgres without database", env("DATABASE_URL", "postgres://localhost:5432"), nil, "names no database"},
		{"bad master key", env("SLUICE_MASTER_KEY", "short", "SLUICE_JWT_SECRET", "x", "SLUICE_DATA_DIR", t.TempDir()), nil, "SLUICE_MASTER_KEY must be 32 bytes"},
		{"bad log format", env(), []string{"--log-format", "xml"}, "use text or json"},
		{"unknown command", env(), []string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stderr bytes.Buffer
			args := c.args
			if args == nil {
				args = []string{"serve", "--addr", "127.0.0.1:0"}
			}
			code := run(context.Background(), args, c.getenv, io.Discard, &stderr)
			msg := stderr.String()
			if code != 1 || !strings.Contains(msg, c.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and a message containing %q", code, msg, c.want)
			}
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "pa ss") {
				t.Fatalf("stderr leaks a stack trace or the password: %q", msg)
			}
		})
	}
}

func TestHelpExplainsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, env(), &out, io.Discard); code != 0 {
		t.Fatalf("--help exit code %d", code)
	}
	for _, want := range []string{"SLUICE_ADDR", "DATABASE_URL", "SLUICE_MASTER_KEY", "SLUICE_JWT_SECRET", "--log-format", "migrate"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, out.String())
		}
	}
}

// TestMigrateCommand runs `sluice migrate --dry-run` (prints the SQL,
// changes nothing), then `sluice migrate` (applies), then --dry-run again
// (nothing pending).
func TestMigrateCommand(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		getenv := env("DATABASE_URL", testenv.URL(target))
		var out bytes.Buffer
		if code := run(context.Background(), []string{"migrate", "--dry-run"}, getenv, &out, io.Discard); code != 0 {
			t.Fatalf("migrate --dry-run exit %d", code)
		}
		if !strings.Contains(out.String(), "CREATE TABLE") || !strings.Contains(out.String(), "seed_api_standards") {
			t.Fatalf("dry run did not print the pending SQL:\n%.300s", out.String())
		}
		out.Reset()
		if code := run(context.Background(), []string{"migrate", "--dry-run"}, getenv, &out, io.Discard); code != 0 || !strings.Contains(out.String(), "CREATE TABLE") {
			t.Fatal("the dry run applied something")
		}
		out.Reset()
		all, _ := migrations.Load(d)
		if code := run(context.Background(), []string{"migrate"}, getenv, &out, io.Discard); code != 0 || !strings.Contains(out.String(), fmt.Sprintf("%d migration(s) applied", len(all))) {
			t.Fatalf("migrate: exit %d, %q", code, out.String())
		}
		out.Reset()
		run(context.Background(), []string{"migrate", "--dry-run"}, getenv, &out, io.Discard)
		if !strings.Contains(out.String(), "no pending migrations") {
			t.Fatalf("after migrate, dry run still lists: %.200s", out.String())
		}
	})
}

// TestDatabaseAhead: on a database a later release migrated, `sluice
// migrate` (and its dry run) refuses and names the migrations it does not
// have, while serve starts without migrating and warns that the database
// is ahead, as an older replica restarting during a rolling upgrade must.
func TestDatabaseAhead(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		target := testenv.Target(t, d)
		getenv := env("DATABASE_URL", testenv.URL(target), "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT)
		if code := run(context.Background(), []string{"migrate"}, getenv, io.Discard, io.Discard); code != 0 {
			t.Fatalf("migrate exit %d", code)
		}
		db := openTarget(t, target)
		const later = "29991231235959"
		if _, err := db.SQL.Exec(database.Rebind(d, "INSERT INTO sluice_schema_migrations (version, name, applied_at) VALUES (?, 'from_a_later_release', CURRENT_TIMESTAMP)"), later); err != nil {
			t.Fatal(err)
		}
		db.Close()
		for _, args := range [][]string{{"migrate"}, {"migrate", "--dry-run"}} {
			var errs bytes.Buffer
			code := run(context.Background(), args, getenv, io.Discard, &errs)
			if code != 1 || !strings.Contains(errs.String(), later) || !strings.Contains(errs.String(), "later release migrated it") {
				t.Errorf("%v on a database ahead: exit %d, %q; want a refusal naming %s", args, code, errs.String(), later)
			}
		}
		base, stop := startBinary(t, getenv)
		if code, body := probe(t, base, "/readyz"); code != 200 {
			t.Fatalf("serve on a database ahead: /readyz = %d %q", code, body)
		}
		code, logs := stop()
		if code != 0 || !strings.Contains(logs, "the database is ahead of this binary") || !strings.Contains(logs, later) {
			t.Fatalf("serve on a database ahead: exit %d, no warning naming %s:\n%s", code, later, logs)
		}
	})
}

// TestBootstrapAdminAndRecovery: the first start creates "admin" with a
// generated password printed once; login works with it; `admin
// reset-password` and `admin create` work from the command line.
func TestBootstrapAdminAndRecovery(t *testing.T) {
	dir := t.TempDir()
	getenv := env("SLUICE_DATA_DIR", dir)
	base, stop := startBinary(t, getenv)
	_, logs := stop()
	i := strings.Index(logs, "password=")
	if i < 0 || !strings.Contains(logs, "username=admin") {
		t.Fatalf("first start did not print the admin password:\n%s", logs)
	}
	password := strings.Fields(logs[i+len("password="):])[0]
	base, stop = startBinary(t, getenv)
	if code := loginStatus(t, base, "admin", password); code != 200 {
		t.Fatalf("login with the printed password = %d", code)
	}
	_, logs = stop()
	if strings.Contains(logs, "password=") {
		t.Fatal("the second start printed a password again")
	}

	var out bytes.Buffer
	if code := run(context.Background(), []string{"admin", "reset-password", "--username", "admin"}, getenv, &out, io.Discard); code != 0 {
		t.Fatalf("reset-password exit %d: %s", code, out.String())
	}
	newPassword := strings.Fields(out.String()[strings.Index(out.String(), "password: ")+len("password: "):])[0]
	out.Reset()
	if code := run(context.Background(), []string{"admin", "create", "--username", "mia", "--role", "member"},
		env("SLUICE_DATA_DIR", dir, "SLUICE_ADMIN_PASSWORD", "mia's password"), &out, io.Discard); code != 0 || strings.Contains(out.String(), "password:") {
		t.Fatalf("admin create: exit %d, %s", code, out.String())
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"admin", "create", "--username", "mia"}, getenv, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "already exists") {
		t.Fatalf("duplicate admin create: exit %d, %s", code, stderr.String())
	}
	// Organizations and memberships from the command line.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create-organization", "--name", "Acme", "--username", "mia"}, `created organization "Acme"`},
		{[]string{"add-member", "--username", "admin", "--organization", "Acme", "--role", "member"}, `added "admin" to organization "Acme" as member`},
		{[]string{"create", "--username", "pat", "--organization", "Acme", "--role", "member"}, `created member "pat" in organization "Acme"`},
	} {
		out.Reset()
		if code := run(context.Background(), append([]string{"admin"}, c.args...), getenv, &out, io.Discard); code != 0 || !strings.Contains(out.String(), c.want) {
			t.Fatalf("admin %v: exit %d, %s", c.args, code, out.String())
		}
	}
	stderr.Reset()
	if code := run(context.Background(), []string{"admin", "add-member", "--username", "admin", "--organization", "Acme"}, getenv, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "already a member") {
		t.Fatalf("duplicate add-member: exit %d, %s", code, stderr.String())
	}
	base, _ = startBinary(t, getenv)
	for _, c := range []struct {
		user, pw string
		want     int
	}{{"admin", password, 401}, {"admin", newPassword, 200}, {"mia", "mia's password", 200}} {
		if code := loginStatus(t, base, c.user, c.pw); code != c.want {
			t.Errorf("login %s = %d, want %d", c.user, code, c.want)
		}
	}
}

func TestPlaygroundOff(t *testing.T) {
	getenv := env("SLUICE_DATA_DIR", t.TempDir(), "SLUICE_PLAYGROUND", "false", "SLUICE_ADMIN_PASSWORD", "pw")
	base, _ := startBinary(t, getenv)
	resp, err := http.Get(base + "/playground")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The dashboard may answer unknown paths itself; the playground must not.
	if strings.Contains(strings.ToLower(string(body)), "graphiql") {
		t.Fatal("/playground served with SLUICE_PLAYGROUND=false")
	}
	out := graphqlPost(t, base, `{ __schema { queryType { name } } }`)
	if out["errors"] == nil {
		t.Fatalf("introspection allowed with the playground off: %v", out)
	}
}

func loginStatus(t *testing.T, base, user, pw string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	resp, err := http.Post(base+"/api/admin/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRotateMasterKey: provider keys sealed under the old master key open
// under the new one after `sluice rotate-master-key`, the embedded secrets
// file holds the new key, and the gateway starts with it.
func TestRotateMasterKey(t *testing.T) {
	dir := t.TempDir()
	getenv := env("SLUICE_DATA_DIR", dir, "SLUICE_ADMIN_PASSWORD", "pw")
	_, stop := startBinary(t, getenv)
	stop()
	ctx := context.Background()
	cfg, _ := config.Parse("t", nil, getenv, io.Discard)
	if _, err := cfg.EnsureSecrets(filepath.Join(dir, "sluice.secrets"), true); err != nil {
		t.Fatal(err)
	}
	oldRing := keyringOf(t, cfg.MasterKey)
	target, _ := database.ParseURL("", filepath.Join(dir, "sluice.db"))
	cred := sealedCredential(t, target, oldRing, "sk-provider-secret")

	var out bytes.Buffer
	if code := run(ctx, []string{"rotate-master-key"}, getenv, &out, io.Discard); code != 0 ||
		!strings.Contains(out.String(), "re-encrypted 1 provider key(s) and two-factor secret(s), and 0 captured request bodies, under master key") {
		t.Fatalf("rotate-master-key: exit %d, %s", code, out.String())
	}
	cfg2, _ := config.Parse("t", nil, getenv, io.Discard)
	cfg2.EnsureSecrets(filepath.Join(dir, "sluice.secrets"), true)
	if cfg2.MasterKey == cfg.MasterKey {
		t.Fatal("the secrets file still holds the old master key")
	}
	newRing := keyringOf(t, cfg2.MasterKey)
	db, _ := database.Open(ctx, target)
	defer db.Close()
	row := db.Client.ProviderCredential.GetX(ctx, cred.ID)
	if got, err := credentials.Key(newRing, row); err != nil || got != "sk-provider-secret" {
		t.Fatalf("after rotation the key opens to %q, %v", got, err)
	}
	if _, err := credentials.Key(oldRing, row); err == nil {
		t.Fatal("the old master key still opens the rotated key")
	}
}
