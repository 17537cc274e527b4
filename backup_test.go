package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestBackupWhileServing copies the embedded database while the gateway
// serves, then starts a gateway on the copy alone: the users made before
// the copy can log in. A second backup to the same file, and one of
// PostgreSQL, are refused.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	getenv := env("SLUICE_DATA_DIR", filepath.Join(dir, "data"), "SLUICE_ADMIN_PASSWORD", "pw-before-backup")
	base, stop := startBinary(t, getenv)
	if s := loginStatus(t, base, "admin", "pw-before-backup"); s != http.StatusOK {
		t.Fatalf("login before the backup: %d", s)
	}

	copyPath := filepath.Join(dir, "copy.db")
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"backup", copyPath}, getenv, &out, &errs); code != 0 {
		t.Fatalf("backup = %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "sluice.secrets with it") {
		t.Errorf("backup does not say to keep the secrets file: %q", out.String())
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the copy: %v, mode %v; want 0600", err, fi.Mode())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"backup", copyPath}, getenv, io.Discard, &errs); code != 1 || !strings.Contains(errs.String(), "exists") {
		t.Errorf("a backup over an existing file = %d %q, want 1", code, errs.String())
	}
	errs.Reset()
	if code := run(context.Background(), []string{"backup", filepath.Join(dir, "pg.db")}, env("DATABASE_URL", "postgres://u@127.0.0.1:1/x"), io.Discard, &errs); code != 1 || !strings.Contains(errs.String(), "pg_dump") {
		t.Errorf("a backup of PostgreSQL = %d %q, want 1 naming pg_dump", code, errs.String())
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs)
	}

	// Restore: the copy, beside the original's secrets, served alone.
	restored := filepath.Join(dir, "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(copyPath, filepath.Join(restored, "sluice.db")); err != nil {
		t.Fatal(err)
	}
	secrets, err := os.ReadFile(filepath.Join(dir, "data", "sluice.secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, "sluice.secrets"), secrets, 0o600); err != nil {
		t.Fatal(err)
	}
	base, _ = startBinary(t, env("SLUICE_DATA_DIR", restored))
	if code, body := probe(t, base, "/readyz"); code != 200 {
		t.Fatalf("the restored gateway: /readyz = %d %q", code, body)
	}
	if s := loginStatus(t, base, "admin", "pw-before-backup"); s != http.StatusOK {
		t.Fatalf("login on the restored copy: %d, want 200", s)
	}
}

// TestPostgresDumpRestore backs a PostgreSQL database Sluice wrote up with
// pg_dump, restores the dump with pg_restore into a fresh
// database, and starts Sluice on the restore alone: the same key proxies,
// the same keys are listed, and the usage log and spend are the same.
// pg_dump and pg_restore must be installed wherever the suite runs on
// PostgreSQL.
func TestPostgresDumpRestore(t *testing.T) {
	base := testenv.RequirePostgres(t)
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: the PostgreSQL backup test needs it (apt-get install postgresql-client)", tool)
		}
	}
	source, restored := freshDatabase(t, base), freshDatabase(t, base)
	getenv := func(dsn string) func(string) string {
		return env("DATABASE_URL", dsn, "SLUICE_MASTER_KEY", testMasterKey, "SLUICE_JWT_SECRET", testJWT, "SLUICE_ADMIN_PASSWORD", "pw-dump")
	}
	gw, stop := startBinary(t, getenv(source))
	upstream := slowStream(t, 1, 0)
	token, key, _ := setupService(t, gw, "pw-dump", upstream.URL, ", limitCostTotalBlock: 100")
	chat := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`
	for range 3 {
		if resp, body := post(t, gw+"/v1/chat/completions", key, chat); resp.StatusCode != 200 {
			t.Fatalf("before the dump: %d %s", resp.StatusCode, body)
		}
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs)
	}
	want := readLedger(t, pgTarget(source))
	if want.records != 3 || want.recordCost == 0 {
		t.Fatalf("before the dump: %+v, want 3 records that cost something", want)
	}

	dump := filepath.Join(t.TempDir(), "sluice.dump")
	if out, err := exec.Command("pg_dump", "--format=custom", "--file", dump, source).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname", restored, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	if got := readLedger(t, pgTarget(restored)); got != want {
		t.Fatalf("the restore: %+v, the original %+v", got, want)
	}
	gw, stop = startBinary(t, getenv(restored))
	if resp, body := post(t, gw+"/v1/chat/completions", key, chat); resp.StatusCode != 200 {
		t.Fatalf("the key on the restore: %d %s", resp.StatusCode, body)
	}
	keys := gql(t, gw, token, `{ apiKeys { edges { node { name } } } }`, nil)
	if edges := dig(keys, "apiKeys", "edges").([]any); len(edges) != 1 || dig(edges[0], "node", "name") != "app" {
		t.Fatalf("the restore's keys: %v, want app", edges)
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("exit %d on the restore:\n%s", code, logs)
	}
	if got := readLedger(t, pgTarget(restored)); got.records != want.records+1 || got.recordCost <= want.recordCost {
		t.Fatalf("after a request on the restore: %+v, before %+v: the usage log and spend went on from the copy", got, want)
	}
}

func pgTarget(dsn string) database.Target {
	return database.Target{Dialect: dialect.Postgres, DSN: dsn}
}

// freshDatabase creates an empty database on the server of base, dropped
// after the test, and returns its URL.
func freshDatabase(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sluice_restore_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
