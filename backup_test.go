package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
