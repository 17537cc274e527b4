package main

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// previousReleaseFile names the commit of the last release.
const previousReleaseFile = "deploy/upgrade/previous-release"

var (
	previousOnce sync.Once
	previousBin  string
	previousErr  error
)

// previousRelease reads the commit previousReleaseFile names: its one line
// that is not a comment.
func previousRelease() (string, error) {
	f, err := os.Open(previousReleaseFile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var commits []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			commits = append(commits, line)
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if len(commits) != 1 {
		return "", fmt.Errorf("%s names %d commits, want one", previousReleaseFile, len(commits))
	}
	return commits[0], nil
}

// previousBinary builds the previous release's gateway once per test run,
// from its tree in this repository's history.
func previousBinary(t *testing.T) string {
	t.Helper()
	previousOnce.Do(func() { previousBin, previousErr = buildCommit() })
	if previousErr != nil {
		t.Fatal(previousErr)
	}
	return previousBin
}

// buildCommit builds the gateway of the previous release's commit into a
// temporary directory and returns the binary's path.
func buildCommit() (string, error) {
	commit, err := previousRelease()
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("git", "cat-file", "-e", commit+"^{commit}").CombinedOutput(); err != nil {
		return "", fmt.Errorf("the previous release %s (%s) is not in this repository's history (%v %s): "+
			"the upgrade test needs the full history; in a shallow clone run git fetch --unshallow", commit, previousReleaseFile, err, out)
	}
	dir, err := os.MkdirTemp("", "sluice-previous-")
	if err != nil {
		return "", err
	}
	src := filepath.Join(dir, "src")
	archive := exec.Command("git", "archive", "--format=tar", commit)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := archive.Start(); err != nil {
		return "", fmt.Errorf("git archive %s: %w", commit, err)
	}
	if err := untar(pipe, src); err != nil {
		return "", fmt.Errorf("unpack %s: %w", commit, err)
	}
	if err := archive.Wait(); err != nil {
		return "", fmt.Errorf("git archive %s: %w", commit, err)
	}
	bin := filepath.Join(dir, "sluice-previous")
	// Without -trimpath the temporary directory is part of every
	// package's build cache key: each run would compile the whole tree.
	build := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the previous release %s: %v\n%s", commit, err, out)
	}
	return bin, os.RemoveAll(src)
}

// untar writes a tar stream's directories and regular files under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, dir+string(filepath.Separator)) {
			return fmt.Errorf("%s is outside the archive", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeReg:
			err = writeFile(path, tr, os.FileMode(h.Mode).Perm())
		}
		if err != nil {
			return err
		}
	}
}

func writeFile(path string, r io.Reader, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runCommand runs a command of the gateway binary bin with env and returns
// its exit code and output.
func runCommand(t *testing.T, bin string, env map[string]string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return 0, string(out)
}

// upgrade is one upgrade under test: the database, the two binaries, and
// the proxied requests answered so far.
type upgrade struct {
	t             *testing.T
	target        database.Target
	env           map[string]string
	previous, now string
	token         string
	keys          []string
	served        int
}

// chat proxies one request with each key through p.
func (u *upgrade) chat(p *process, who string) {
	u.t.Helper()
	for _, key := range u.keys {
		resp, body := post(u.t, p.base+"/v1/chat/completions", key, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":1000}`)
		if resp.StatusCode != 200 {
			u.t.Fatalf("%s: a proxied request = %d %s\n%s", who, resp.StatusCode, body, p.logs.String())
		}
		u.served++
	}
}

// admin reads the keys and services through p's admin API.
func (u *upgrade) admin(p *process, who string) {
	u.t.Helper()
	data, errs, raw := gqlPost(u.t, p.base, u.token, `{ apiKeys { edges { node { name } } } services { edges { node { serviceName } } } }`, nil)
	if len(errs) > 0 {
		u.t.Fatalf("%s: the admin API answered %s\n%s", who, raw, p.logs.String())
	}
	if n := len(dig(data, "apiKeys", "edges").([]any)); n != len(u.keys) {
		u.t.Fatalf("%s: the admin API lists %d keys, want %d", who, n, len(u.keys))
	}
}

// addKey creates a key through p and keeps it for the next requests.
func (u *upgrade) addKey(p *process, serviceID any) {
	u.t.Helper()
	key := dig(gql(u.t, p.base, u.token, `mutation($s: ID!) { createAPIKey(input: {name: "upgraded", serviceId: $s}) { key } }`,
		map[string]any{"s": serviceID}), "createAPIKey", "key").(string)
	u.keys = append(u.keys, key)
}

// migrate runs the new binary's `sluice migrate`.
func (u *upgrade) migrate() {
	u.t.Helper()
	code, out := runCommand(u.t, u.now, u.env, "migrate")
	if code != 0 || !strings.Contains(out, "migration(s) applied") {
		u.t.Fatalf("the new release's sluice migrate: exit %d\n%s", code, out)
	}
	u.t.Logf("the new release's sluice migrate: %s", strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]))
}

// markAhead records a migration of a release later than both binaries, so
// that the previous one meets a database ahead of it even when this tree
// adds no migration; it returns the version.
func (u *upgrade) markAhead() string {
	u.t.Helper()
	const later = "29991231235959"
	db := openTarget(u.t, u.target)
	defer db.Close()
	if _, err := db.SQL.Exec(database.Rebind(u.target.Dialect, "INSERT INTO sluice_schema_migrations (version, name, applied_at) VALUES (?, 'from_a_later_release', CURRENT_TIMESTAMP)"), later); err != nil {
		u.t.Fatal(err)
	}
	return later
}

// previousMigrateAhead runs the previous release's `sluice migrate` on a
// database ahead of it: releases before the rule below applied nothing and
// said so; from it on, the command refuses. Either way the versions
// recorded stay as they were.
func (u *upgrade) previousMigrateAhead(later string) {
	u.t.Helper()
	before := u.versions()
	code, out := runCommand(u.t, u.previous, u.env, "migrate")
	refused := code == 1 && strings.Contains(out, later)
	if !refused && (code != 0 || !strings.Contains(out, "0 migration(s) applied")) {
		u.t.Fatalf("the previous release's sluice migrate on a database ahead of it: exit %d\n%s", code, out)
	}
	if after := u.versions(); after != before {
		u.t.Fatalf("the previous release's sluice migrate changed the recorded migrations from %d to %d", before, after)
	}
	u.t.Logf("the previous release's sluice migrate on a database ahead of it: exit %d (refused: %v)", code, refused)
}

// versions counts the recorded migrations.
func (u *upgrade) versions() int {
	u.t.Helper()
	db := openTarget(u.t, u.target)
	defer db.Close()
	var n int
	if err := db.SQL.QueryRow("SELECT COUNT(*) FROM sluice_schema_migrations").Scan(&n); err != nil {
		u.t.Fatal(err)
	}
	return n
}

// ledger waits until every served request has its usage record, then
// checks that the service's total spend is the sum of their costs.
func (u *upgrade) ledger() {
	u.t.Helper()
	db := openTarget(u.t, u.target)
	defer db.Close()
	deadline := time.Now().Add(10 * time.Second)
	var records, cost, spent int64
	for {
		if err := db.SQL.QueryRow("SELECT COUNT(*), COALESCE(SUM(cost), 0) FROM usage_records").Scan(&records, &cost); err != nil {
			u.t.Fatal(err)
		}
		if err := db.SQL.QueryRow(`SELECT COALESCE(SUM(spent), 0) FROM spend_windows WHERE scope = 'service' AND "window" = 'total'`).Scan(&spent); err != nil {
			u.t.Fatal(err)
		}
		if records == int64(u.served) && spent == cost {
			break
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("after the upgrade: %d usage records for %d requests served; the service spent %d micro-USD, its records cost %d",
				records, u.served, spent, cost)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if cost == 0 {
		u.t.Fatal("the usage records cost nothing: the spend check proves nothing")
	}
}

func (u *upgrade) stop(p *process, who string) {
	u.t.Helper()
	if err := p.stop(u.t, 30*time.Second); err != nil {
		u.t.Fatalf("%s exited with %v:\n%s", who, err, p.logs.String())
	}
}

// TestUpgradeFromPreviousRelease upgrades a database the previous release
// (deploy/upgrade/previous-release) wrote to this tree.
//
// PostgreSQL, as a rolling deploy: the previous release serves, this
// tree's `sluice migrate` runs beside it, a replica of this tree starts
// beside the old one, and an old replica restarting during the rollout
// starts on the migrated database; every replica keeps answering proxied
// requests and the admin API throughout.
//
// SQLite, which one process owns, so its upgrades stop the gateway: the
// previous release stops, this tree migrates and serves, and the previous
// release can start again on the migrated database (a rollback).
//
// Both: a usage record for every request any of them served, and the
// budget's spend equal to their cost.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	start := time.Now()
	// The two builds share the module and build caches; run them together.
	go previousOnce.Do(func() { previousBin, previousErr = buildCommit() })
	now := sluiceBinary(t)
	previous := previousBinary(t)
	t.Logf("built the previous release and this tree in %v", time.Since(start).Round(time.Second))
	testenv.EachDialect(t, func(t *testing.T, d string) {
		start := time.Now()
		target := testenv.Target(t, d)
		u := &upgrade{t: t, target: target, previous: previous, now: now,
			env: map[string]string{"DATABASE_URL": testenv.URL(target), "SLUICE_MASTER_KEY": testMasterKey, "SLUICE_JWT_SECRET": testJWT, "SLUICE_ADMIN_PASSWORD": "pw-upgrade"}}
		old := startProcessOf(t, previous, u.env)
		upstream := slowStream(t, 1, 0)
		token, key, serviceID := setupService(t, old.base, "pw-upgrade", upstream.URL, ", limitCostTotalBlock: 100")
		u.token, u.keys = token, []string{key}
		u.chat(old, "the previous release")
		if d == dialect.SQLite {
			upgradeSQLite(u, old, serviceID)
		} else {
			upgradePostgres(u, old, serviceID)
		}
		u.ledger()
		t.Logf("upgraded %s in %v", d, time.Since(start).Round(time.Millisecond))
	})
}

func upgradePostgres(u *upgrade, old *process, serviceID any) {
	u.migrate()
	u.chat(old, "the previous release, after the new migrations")
	u.admin(old, "the previous release, after the new migrations")

	fresh := startProcessOf(u.t, u.now, u.env)
	u.chat(fresh, "the new release beside the previous one")
	u.admin(fresh, "the new release beside the previous one")
	u.addKey(fresh, serviceID)
	u.chat(old, "the previous release, with a key the new one made")
	u.admin(old, "the previous release, with a key the new one made")

	later := u.markAhead()
	restarted := startProcessOf(u.t, u.previous, u.env)
	u.chat(restarted, "the previous release restarted on a database ahead of it")
	u.admin(restarted, "the previous release restarted on a database ahead of it")
	u.previousMigrateAhead(later)
	u.chat(fresh, "the new release on a database ahead of it")

	u.stop(old, "the previous release")
	u.stop(restarted, "the restarted previous release")
	u.stop(fresh, "the new release")
}

func upgradeSQLite(u *upgrade, old *process, serviceID any) {
	u.stop(old, "the previous release")
	u.migrate()
	fresh := startProcessOf(u.t, u.now, u.env)
	u.chat(fresh, "the new release")
	u.admin(fresh, "the new release")
	u.addKey(fresh, serviceID)
	u.chat(fresh, "the new release, with a key it made")
	u.stop(fresh, "the new release")

	later := u.markAhead()
	back := startProcessOf(u.t, u.previous, u.env)
	u.chat(back, "the previous release started again on the migrated database")
	u.admin(back, "the previous release started again on the migrated database")
	u.stop(back, "the previous release started again")
	u.previousMigrateAhead(later)
}
