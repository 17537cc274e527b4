package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/lib/pq" // the PostgreSQL driver Sluice itself uses; already in go.mod
)

// benchPassword is the admin password of the throw-away Sluice instances
// the harness starts; they listen on loopback only and are deleted after.
const benchPassword = "sluice-bench-password"

// moduleRoot returns the folder of the module the harness is run in, where
// Sluice's main package lives.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside a Go module: run the harness from the Sluice repository or pass --repo")
	}
	return filepath.Dir(mod), nil
}

// buildSluice builds the real binary from repo into out, so the numbers are
// those of what ships, not of a test wiring: the README's production build,
// static (CGO_ENABLED=0; Sluice needs no C) and with -trimpath.
func buildSluice(ctx context.Context, repo, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", repo, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// revision names the tree a binary was built from: the commit, and whether
// the working tree had changes on top of it ("" outside git). Markdown is
// left out: it is not built into the binary, and a run that --writes
// docs/benchmarks.md would otherwise mark every later run as changed.
func revision(ctx context.Context, repo string) string {
	head, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	rev := strings.TrimSpace(string(head))
	if dirty, err := exec.CommandContext(ctx, "git", "-C", repo, "status", "--porcelain", "--untracked-files=no",
		"--", ".", ":(exclude)*.md").Output(); err == nil && len(dirty) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}

// sluiceDB is the database one Sluice instance runs on.
type sluiceDB struct {
	label string   // "SQLite" or "PostgreSQL"
	env   []string // DATABASE_URL and the secrets PostgreSQL requires
	drop  func()   // removes the fresh schema; nil for SQLite
}

// sqliteDB is the embedded default: a fresh file in the instance's folder.
func sqliteDB() *sluiceDB { return &sluiceDB{label: "SQLite"} }

// postgresDB creates a fresh schema on the server of dsn and returns the
// settings that point Sluice at it, with a random master key and JWT
// secret (PostgreSQL mode refuses to start without them).
func postgresDB(ctx context.Context, dsn string) (*sluiceDB, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("--postgres wants a postgres:// URL, got %q", redactDSN(dsn))
	}
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redactDSN(dsn), err)
	}
	schema := "bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create schema %s on %s: %w", schema, redactDSN(dsn), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &sluiceDB{
		label: "PostgreSQL",
		env: []string{
			"DATABASE_URL=" + u.String(),
			"SLUICE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key),
			"SLUICE_JWT_SECRET=" + randomHex(32),
		},
		drop: func() {
			dropCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := admin.ExecContext(dropCtx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				fmt.Fprintf(os.Stderr, "bench: drop schema %s: %v\n", schema, err)
			}
			admin.Close()
		},
	}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactDSN hides a password in a DSN, for logs and the published commands.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}

// upstreamAPI is what a Sluice target's services call: the provider, the
// priced model they enable, and the requests the load generator sends for
// it (nil: chatBody and streamBody).
type upstreamAPI struct {
	provider, model       string
	plainBody, streamBody []byte
	// translated is set when the provider speaks another API than the
	// load generator's OpenAI chat requests.
	translated bool
}

var (
	passthroughAPI = upstreamAPI{provider: "openai", model: "gpt-4o-mini"}
	anthropicAPI   = upstreamAPI{provider: "anthropic", model: "claude-haiku-4-5",
		plainBody: translatedChatBody, streamBody: translatedStreamBody, translated: true}
)

// slug turns a target's name into a file name: "sluice (SQLite)" is
// "sluice-sqlite".
func slug(name string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}), "-")
}

// sluiceInstance is a running Sluice with the harness's service and keys.
type sluiceInstance struct {
	proc    *child
	baseURL string
	// key calls the service whose upstream is the mock; slowKey the one
	// whose upstream holds streams open (for the open-streams step).
	key, slowKey string
}

// startSluice runs bin on a free port with a fresh data folder and db, and
// waits until it is ready; name names its data folder and log.
func startSluice(ctx context.Context, bin, dir, name string, db *sluiceDB) (*sluiceInstance, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data-"+name)
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	env := append([]string{
		"SLUICE_ADDR=" + addr,
		"SLUICE_DATA_DIR=" + data,
		"SLUICE_ADMIN_PASSWORD=" + benchPassword,
		"SLUICE_SHUTDOWN_TIMEOUT=5s",
		"DATABASE_URL=",
	}, db.env...)
	c, _, err := startChild(name, bin, filepath.Join(dir, name+".log"), nil, env)
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := waitHTTP(ctx, c, base+"/readyz", 60*time.Second); err != nil {
		c.stop()
		return nil, err
	}
	return &sluiceInstance{proc: c, baseURL: base}, nil
}

// configure sets Sluice up through its admin API the way an operator would:
// pace limits on the organization, a service of api's provider with
// budgets on a model the price catalog knows (so every request reserves
// and settles a real cost), and a key for it; and a second service whose
// upstream holds streams open.
func (s *sluiceInstance) configure(ctx context.Context, mockURL string, api upstreamAPI) error {
	var login struct {
		Login struct{ Token string }
	}
	if err := graphql(ctx, s.baseURL, "", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`,
		map[string]any{"u": "admin", "p": benchPassword}, &login); err != nil {
		return fmt.Errorf("log in: %w", err)
	}
	token := login.Login.Token
	// Pace limits on, far above what the harness sends, so that every
	// request is checked against them as a governed organization's are.
	var paced struct{}
	if err := graphql(ctx, s.baseURL, token, `mutation { updateOrganizationLimits(input: {limitRpm: 1000000000, limitTpm: 2000000000, limitConcurrency: 1000000}) { id } }`,
		nil, &paced); err != nil {
		return fmt.Errorf("set the organization's pace limits: %w", err)
	}
	for _, svc := range []struct {
		name, base string
		key        *string
	}{
		{"bench", mockURL + "/v1", &s.key},
		{"bench-slow", mockURL + slowPrefix + "/v1", &s.slowKey},
	} {
		var created struct {
			CreateService struct{ ID string }
		}
		err := graphql(ctx, s.baseURL, token, `mutation($in: CreateServiceInput!) { createService(input: $in) { id } }`,
			map[string]any{"in": map[string]any{
				"serviceName":         svc.name,
				"provider":            api.provider,
				"baseUrl":             svc.base,
				"providerApiKey":      "sk-upstream",
				"allowUnpricedModels": false,
				"modelsEnabled":       []string{api.model},
				"limitCostDayBlock":   100000,
				"limitCostMonthBlock": 1000000,
			}}, &created)
		if err != nil {
			return fmt.Errorf("create service %s: %w", svc.name, err)
		}
		var key struct {
			CreateAPIKey struct{ Key string } `json:"createAPIKey"`
		}
		err = graphql(ctx, s.baseURL, token, `mutation($in: CreateAPIKeyInput!) { createAPIKey(input: $in) { key } }`,
			map[string]any{"in": map[string]any{"name": svc.name, "serviceId": created.CreateService.ID}}, &key)
		if err != nil {
			return fmt.Errorf("create key for %s: %w", svc.name, err)
		}
		if key.CreateAPIKey.Key == "" {
			return fmt.Errorf("create key for %s: the answer carried no key", svc.name)
		}
		*svc.key = key.CreateAPIKey.Key
	}
	return nil
}

// graphql posts one operation to Sluice's admin API and decodes its data
// into out; GraphQL errors become a Go error.
func graphql(ctx context.Context, base, token, query string, vars map[string]any, out any) error {
	c := &adminClient{base: base, token: token, http: http.DefaultClient}
	return c.do(ctx, query, vars, out)
}

// probe sends one request before a target's steps so that a target that
// cannot serve the benchmark (Sluice's proxy not mounted yet, a bad
// upstream) is reported as such instead of as thousands of errors.
func probe(ctx context.Context, url, auth string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build probe: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return fmt.Errorf("proxy not mounted: POST %s answered HTTP %d", req.URL.Path, resp.StatusCode)
	default:
		return fmt.Errorf("POST %s answered HTTP %d: %s", req.URL.Path, resp.StatusCode, bytes.TrimSpace(b))
	}
}
