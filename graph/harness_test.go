package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/budget"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/livefeed"
	"github.com/sluicehq/sluice/pricing"
	"github.com/sluicehq/sluice/secrets"
	"github.com/sluicehq/sluice/upstream"
)

// The callers of the role matrix.
const (
	anonymous = "anonymous"
	member    = "member"
	admin     = "admin"
	mgmtKey   = "management key"
	otherOrg  = "admin of another organization"
)

var roles = []string{anonymous, member, admin, mgmtKey, otherOrg}

// harness is the GraphQL API over a real HTTP server and a fresh database,
// with a caller of every role.
type harness struct {
	t       *testing.T
	db      *database.DB
	client  *ent.Client
	srv     *httptest.Server
	keyring *secrets.Keyring
	logs    *bytes.Buffer
	creds   map[string]string // role → bearer credential
	org     *ent.Organization // the default organization
	other   *ent.Organization
	mgmtKey *ent.APIKey
	auth    *auth.Authenticator
	budgets budget.Ledger
	feed    *livefeed.Hub
	prober  *headroom.Prober
	changes changefeed.Feed
}

const adminPassword = "correct horse battery staple"

func newHarness(t *testing.T, db *database.DB) *harness {
	t.Helper()
	return newHarnessWith(t, db, graph.Options{Introspection: true})
}

// newHarnessWith is newHarness with the endpoint's options.
func newHarnessWith(t *testing.T, db *database.DB, opts graph.Options) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: db, client: db.Client, logs: &bytes.Buffer{}, creds: map[string]string{}}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	master, _ := secrets.ParseMasterKey("MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
	h.keyring, _ = secrets.NewKeyring(master)
	if _, err := auth.Bootstrap(ctx, db.Client, adminPassword); err != nil {
		t.Fatal(err)
	}
	var err error
	h.org, err = auth.DefaultOrganization(ctx, db.Client)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.CreateUser(ctx, db.Client, "mia", "member password", h.org.ID, auth.RoleMember); err != nil {
		t.Fatal(err)
	}
	h.other, err = auth.CreateOrganization(ctx, db.Client, "Other", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := auth.CreateUser(ctx, db.Client, "otto", "other password", h.other.ID, auth.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	gen, _ := clientkey.New()
	h.mgmtKey = db.Client.APIKey.Create().SetOrganizationID(h.org.ID).SetName("ops-mgmt").
		SetKeyHash(gen.Hash).SetKeyPrefix(gen.Prefix).SetKeyLastFour(gen.LastFour).
		SetIsManagementKey(true).SaveX(ctx)
	h.creds[mgmtKey] = gen.Plaintext

	tokens, _ := auth.NewTokens("test-jwt-secret-test-jwt-secret", time.Hour)
	h.auth = auth.NewAuthenticator(db.Client, tokens, log)
	h.auth.Logins.Max = 1000 // the matrix logs in many times; the limiter has its own test
	h.auth.Keyring = h.keyring
	if _, _, err := pricing.Sync(ctx, db.Client); err != nil {
		t.Fatal(err)
	}
	h.budgets = budget.New(db, budget.Options{Log: log})
	h.feed = livefeed.New()
	h.prober = headroom.New(upstream.Policy{})
	h.changes = changefeed.NewLocal()
	r := &graph.Resolver{Client: db.Client, DB: db, Log: log, Auth: h.auth, Keyring: h.keyring, Budgets: h.budgets,
		Prober: h.prober, CredentialTests: auth.NewLimiter("credential-test", 10, time.Minute), Feed: h.feed, Changes: h.changes}
	mux := http.NewServeMux()
	mux.Handle("/graphql", h.auth.Middleware(graph.NewHandler(r, opts)))
	mux.Handle("POST /api/admin/auth/login", h.auth.LoginHandler())
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)

	h.creds[admin] = h.login("admin", adminPassword)
	h.creds[member] = h.login("mia", "member password")
	h.creds[otherOrg] = h.login("otto", "other password")
	return h
}

func (h *harness) login(username, password string) string {
	h.t.Helper()
	res := h.do("", `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt } }`,
		map[string]any{"u": username, "p": password})
	res.ok(h.t)
	return res.str("login.token")
}

// gqlResponse is a decoded GraphQL answer.
type gqlResponse struct {
	Status int
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	raw string
}

func (h *harness) do(credential, query string, vars map[string]any) *gqlResponse {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return h.post(credential, body)
}

func (h *harness) post(credential string, body []byte) *gqlResponse {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if credential != "" {
		req.Header.Set("Authorization", "Bearer "+credential)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &gqlResponse{Status: resp.StatusCode, raw: string(raw)}
	if err := json.Unmarshal(raw, out); err != nil {
		h.t.Fatalf("GraphQL answer is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return out
}

// as runs query as the caller of role.
func (h *harness) as(role, query string, vars map[string]any) *gqlResponse {
	h.t.Helper()
	return h.do(h.creds[role], query, vars)
}

// code is the extensions.code of the first error, or "" when none.
func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	if c == "" {
		return "NO_CODE"
	}
	return c
}

func (r *gqlResponse) ok(t *testing.T) *gqlResponse {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected GraphQL error: %s", r.raw)
	}
	return r
}

func (r *gqlResponse) wantCode(t *testing.T, code string) *gqlResponse {
	t.Helper()
	if r.code() != code {
		t.Fatalf("got %q, want error %s: %s", r.code(), code, r.raw)
	}
	return r
}

// get walks a dotted path through the data (numbers index lists).
func (r *gqlResponse) get(path string) any {
	var cur any = r.Data
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func (r *gqlResponse) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

func (r *gqlResponse) num(path string) float64 {
	f, _ := r.get(path).(float64)
	return f
}

func postJSON(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// id reads a GraphQL ID (a string) at path as an int.
func (r *gqlResponse) id(path string) int {
	n, _ := strconv.Atoi(r.str(path))
	return n
}
