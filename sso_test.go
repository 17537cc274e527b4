package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/internal/testenv"
)

// ssoUser is who the test provider signs in, with the claims Sluice maps.
type ssoUser struct {
	sub, email string
	verified   bool
	groups     []string
	roles      []string
}

func (u ssoUser) ID() string { return u.sub }

func (u ssoUser) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": u.sub, "email": u.email})
}

type ssoClaims struct {
	*mockoidc.IDTokenClaims
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Groups        []string `json:"groups,omitempty"`
	Roles         []string `json:"roles,omitempty"`
}

func (u ssoUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &ssoClaims{IDTokenClaims: base, Email: u.email, EmailVerified: u.verified, Groups: u.groups, Roles: u.roles}, nil
}

// testProvider is a real OpenID Connect provider (discovery, JWKS, the
// code flow with PKCE) whose token endpoint can rewrite the ID token it
// answers, to serve tokens a real provider would not.
type testProvider struct {
	*mockoidc.MockOIDC
	mu sync.Mutex
	// tamper, when set, rewrites the next ID token's claims and may sign
	// it with another key.
	tamper func(claims map[string]any) *rsa.PrivateKey
}

func startProvider(t *testing.T) *testProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &testProvider{MockOIDC: m}
	if err := m.AddMiddleware(p.rewriteTokens); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

func (p *testProvider) setTamper(f func(map[string]any) *rsa.PrivateKey) {
	p.mu.Lock()
	p.tamper = f
	p.mu.Unlock()
}

func (p *testProvider) rewriteTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		tamper := p.tamper
		p.mu.Unlock()
		if r.URL.Path != mockoidc.TokenEndpoint || tamper == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		parts := strings.Split(body["id_token"].(string), ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		_ = json.Unmarshal(raw, &claims)
		key := tamper(claims)
		if key == nil {
			key = p.Keypair.PrivateKey
		}
		kid, _ := p.Keypair.KeyID()
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
		if err != nil {
			panic(err)
		}
		payload, _ := json.Marshal(claims)
		jws, err := signer.Sign(payload)
		if err != nil {
			panic(err)
		}
		body["id_token"], _ = jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

// ssoGateway is a gateway with single sign-on against a test provider.
type ssoGateway struct {
	base     string
	provider *testProvider
	target   database.Target
	getenv   func(string) string
}

func startSSOGateway(t *testing.T, d string, extra ...string) *ssoGateway {
	t.Helper()
	p := startProvider(t)
	addr := freeAddr(t)
	target := testenv.Target(t, d)
	kv := append([]string{"DATABASE_URL", testenv.URL(target),
		"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=",
		"SLUICE_JWT_SECRET", "test-jwt-secret-test-jwt-secret-0123",
		"SLUICE_ADMIN_PASSWORD", "admin password 0123",
		"SLUICE_OIDC_ISSUER", p.Issuer(),
		"SLUICE_OIDC_CLIENT_ID", p.ClientID,
		"SLUICE_OIDC_CLIENT_SECRET", p.ClientSecret,
		"SLUICE_OIDC_REDIRECT_URL", "http://" + addr + "/api/admin/auth/oidc/callback",
		"SLUICE_OIDC_NAME", "Test IdP",
		"SLUICE_OIDC_SCOPES", "openid,email,profile,groups",
		"SLUICE_OIDC_ALLOWED_DOMAINS", "example.com",
	}, extra...)
	getenv := env(kv...)
	base, _ := startBinaryAt(t, addr, getenv)
	return &ssoGateway{base: base, provider: p, target: target, getenv: getenv}
}

// browser is a client with a cookie jar, as a browser follows the flow.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// signIn runs the flow from /login as u through the provider and returns
// where the browser lands on the dashboard.
func (g *ssoGateway) signIn(t *testing.T, c *http.Client, u ssoUser) *url.URL {
	t.Helper()
	g.provider.QueueUser(u)
	resp, err := c.Get(g.base + "/api/admin/auth/oidc/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.Request.URL
}

// exchange finishes a sign-in from the dashboard: the one-time cookie for
// a token.
func (g *ssoGateway) exchange(t *testing.T, c *http.Client, origin string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.base+"/api/admin/auth/oidc/session", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func ssoGQL(t *testing.T, base, token, query string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out
}

func jsonString(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSSOFullFlow signs in through a real OpenID Connect provider: the
// account is created in the organization and role the claims name, the
// dashboard exchanges its one-time cookie once for a token that works on
// the API, and the refusals each land on the login screen with their own
// code. Password login is off and refused; the admin command still works.
func TestSSOFullFlow(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		// An organization for the claim to name, made from the command line
		// before the gateway starts (the command migrates the database).
		g := startSSOGateway(t, d, "SLUICE_OIDC_ORGANIZATION_CLAIM", "groups", "SLUICE_OIDC_ROLE_CLAIM", "roles",
			"SLUICE_OIDC_CREATE_ACCOUNTS", "true", "SLUICE_PASSWORD_LOGIN", "false")
		var out bytes.Buffer
		if code := run(context.Background(), []string{"admin", "create-organization", "--name", "Acme", "--username", "admin"}, g.getenv, &out, &out); code != 0 {
			t.Fatalf("admin create-organization with password login off: exit %d %s", code, out.String())
		}

		opts := ssoGQL(t, g.base, "", `{ loginOptions { passwordLogin sso { name loginUrl } } }`)
		if got := jsonString(opts["data"]); got != `{"loginOptions":{"passwordLogin":false,"sso":{"loginUrl":"/api/admin/auth/oidc/login","name":"Test IdP"}}}` {
			t.Errorf("loginOptions = %s", got)
		}

		c := browser(t)
		landed := g.signIn(t, c, ssoUser{sub: "sub-ada", email: "Ada@Example.com", verified: true, groups: []string{"eng", "Acme"}, roles: []string{"admin"}})
		if landed.Path != "/login" || landed.Query().Get("sso") != "done" || strings.Contains(landed.RawQuery, "token") {
			t.Fatalf("landed on %s, want /login?sso=done and no token", landed)
		}
		status, tok := g.exchange(t, c, g.base)
		token, _ := tok["access_token"].(string)
		if status != 200 || token == "" {
			t.Fatalf("exchange = %d %v", status, tok)
		}
		v := ssoGQL(t, g.base, token, `{ viewer { username role organization { name } } }`)
		if got := jsonString(v["data"]); got != `{"viewer":{"organization":{"name":"Acme"},"role":"admin","username":"ada@example.com"}}` {
			t.Fatalf("viewer after sign-in = %s", jsonString(v))
		}
		// The cookie is single-use.
		if status, out := g.exchange(t, c, g.base); status != 401 || !strings.Contains(jsonString(out), "sign in again") {
			t.Errorf("second exchange = %d %v, want 401", status, out)
		}
		// The user has no password to change.
		cp := ssoGQL(t, g.base, token, `mutation { changePassword(current: "x", new: "0123456789ab") { token } }`)
		if !strings.Contains(jsonString(cp["errors"]), "single sign-on") {
			t.Errorf("changePassword of an SSO user = %s", jsonString(cp))
		}
		// A second sign-in finds the same user, not a new one.
		c2 := browser(t)
		g.signIn(t, c2, ssoUser{sub: "sub-ada", email: "ada@example.com", verified: true, groups: []string{"Acme"}})
		// Another origin cannot exchange the cookie.
		if status, _ := g.exchange(t, c2, "https://evil.example"); status != 403 {
			t.Errorf("exchange from another origin = %d, want 403", status)
		}

		verifier := "another-verifier-another-verifier-another-verifier"
		otherChallenge := base64.RawURLEncoding.EncodeToString(func() []byte { s := sha256.Sum256([]byte(verifier)); return s[:] }())
		otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		good := ssoUser{sub: "sub-bob", email: "bob@example.com", verified: true, groups: []string{"Acme"}}
		for _, c := range []struct {
			name   string
			user   ssoUser
			tamper func(map[string]any) *rsa.PrivateKey
			// rewrite changes the authorization request on its way to the
			// provider.
			rewrite func(q url.Values)
			want    string
		}{
			{name: "wrong audience", user: good, want: "bad_token",
				tamper: func(c map[string]any) *rsa.PrivateKey { c["aud"] = []string{"someone-else"}; return nil }},
			{name: "expired token", user: good, want: "bad_token",
				tamper: func(c map[string]any) *rsa.PrivateKey {
					c["exp"] = time.Now().Add(-time.Hour).Unix()
					c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
					return nil
				}},
			{name: "bad signature", user: good, want: "bad_token",
				tamper: func(map[string]any) *rsa.PrivateKey { return otherKey }},
			{name: "nonce mismatch", user: good, want: "bad_token",
				tamper: func(c map[string]any) *rsa.PrivateKey { c["nonce"] = "replayed"; return nil }},
			{name: "state mismatch", user: good, want: "state_mismatch",
				rewrite: func(q url.Values) { q.Set("state", "forged") }},
			{name: "PKCE verifier mismatch", user: good, want: "code_refused",
				rewrite: func(q url.Values) { q.Set("code_challenge", otherChallenge) }},
			{name: "unverified email", user: ssoUser{sub: "sub-eve", email: "eve@example.com", groups: []string{"Acme"}}, want: "email_unverified"},
			{name: "disallowed domain", user: ssoUser{sub: "sub-mal", email: "mal@elsewhere.org", verified: true, groups: []string{"Acme"}}, want: "domain_not_allowed"},
			{name: "no organization", user: ssoUser{sub: "sub-nel", email: "nel@example.com", verified: true, groups: []string{"Nowhere"}}, want: "no_organization"},
		} {
			t.Run(c.name, func(t *testing.T) {
				g.provider.setTamper(c.tamper)
				defer g.provider.setTamper(nil)
				b := browser(t)
				if c.rewrite != nil {
					b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
						if req.URL.Path == mockoidc.AuthorizationEndpoint {
							q := req.URL.Query()
							c.rewrite(q)
							req.URL.RawQuery = q.Encode()
						}
						return nil
					}
				}
				landed := g.signIn(t, b, c.user)
				if landed.Path != "/login" || landed.Query().Get("sso_error") != c.want {
					t.Fatalf("landed on %s, want /login?sso_error=%s", landed, c.want)
				}
				if status, _ := g.exchange(t, b, g.base); status != 401 {
					t.Errorf("exchange after a refused sign-in = %d, want 401", status)
				}
			})
		}

		// Password login is off on both endpoints.
		lg := ssoGQL(t, g.base, "", `mutation { login(username: "admin", password: "admin password 0123") { token } }`)
		if !strings.Contains(jsonString(lg["errors"]), "password login is turned off") {
			t.Errorf("GraphQL login with password login off = %s", jsonString(lg))
		}
		if code := loginStatus(t, g.base, "admin", "admin password 0123"); code != http.StatusForbidden {
			t.Errorf("REST login with password login off = %d, want 403", code)
		}

		// The audit log has the sign-ins, the refusals and the new account,
		// with who and from where.
		db, err := database.Open(context.Background(), g.target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx := context.Background()
		evs := db.Client.AuditEvent.Query().Where(auditevent.TargetType("SSO")).AllX(ctx)
		var ok, denied int
		for _, e := range evs {
			if e.ClientIP != "127.0.0.1" {
				t.Errorf("audit event %s from %q, want 127.0.0.1", e.Action, e.ClientIP)
			}
			switch e.Outcome {
			case auditevent.OutcomeSuccess:
				ok++
				if e.ActorName != "ada@example.com" {
					t.Errorf("successful sign-in recorded as %q", e.ActorName)
				}
			case auditevent.OutcomeDenied:
				denied++
			}
		}
		if ok != 2 || denied != 9 {
			t.Errorf("SSO audit events: %d successes, %d denied; want 2 and 9", ok, denied)
		}
		if n := db.Client.AuditEvent.Query().Where(auditevent.Action("createAccount"), auditevent.ActorName("ada@example.com")).CountX(ctx); n != 1 {
			t.Errorf("createAccount audit events = %d, want 1", n)
		}
		if n := db.Client.User.Query().Where(user.OidcSubject("sub-ada")).CountX(ctx); n != 1 {
			t.Errorf("users of sub-ada = %d, want 1", n)
		}
		if n := db.Client.User.Query().Where(user.EmailIn("eve@example.com", "mal@elsewhere.org", "nel@example.com", "bob@example.com")).CountX(ctx); n != 0 {
			t.Errorf("%d accounts were created by refused sign-ins", n)
		}
	})
}

// TestSSOWithoutAccountCreation: only existing users sign in, linked by
// their username equal to the verified email, which takes the account:
// its password stops working; an unknown one is refused. Password login
// stays on beside single sign-on.
func TestSSOWithoutAccountCreation(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		g := startSSOGateway(t, d)
		var out bytes.Buffer
		if code := run(context.Background(), []string{"admin", "create", "--username", "kim@example.com", "--role", "member"},
			env(append([]string{"SLUICE_ADMIN_PASSWORD", "kim password 0123"}, "DATABASE_URL", g.getenv("DATABASE_URL"),
				"SLUICE_MASTER_KEY", g.getenv("SLUICE_MASTER_KEY"), "SLUICE_JWT_SECRET", g.getenv("SLUICE_JWT_SECRET"))...), &out, &out); code != 0 {
			t.Fatalf("admin create: exit %d %s", code, out.String())
		}
		landed := g.signIn(t, browser(t), ssoUser{sub: "sub-zed", email: "zed@example.com", verified: true})
		if landed.Query().Get("sso_error") != "no_account" {
			t.Errorf("unknown user landed on %s, want sso_error=no_account", landed)
		}
		if code := loginStatus(t, g.base, "kim@example.com", "kim password 0123"); code != 200 {
			t.Errorf("password login before the link = %d, want 200", code)
		}
		c := browser(t)
		landed = g.signIn(t, c, ssoUser{sub: "sub-kim", email: "kim@example.com", verified: true})
		if landed.Query().Get("sso") != "done" {
			t.Fatalf("existing user landed on %s", landed)
		}
		_, tok := g.exchange(t, c, g.base)
		v := ssoGQL(t, g.base, tok["access_token"].(string), `{ viewer { username role } }`)
		if got := jsonString(v["data"]); got != `{"viewer":{"role":"member","username":"kim@example.com"}}` {
			t.Errorf("viewer = %s", jsonString(v))
		}
		if code := loginStatus(t, g.base, "kim@example.com", "kim password 0123"); code != 401 {
			t.Errorf("password login of the linked account = %d, want 401 (linking clears the password)", code)
		}
		opts := ssoGQL(t, g.base, "", `{ loginOptions { passwordLogin } }`)
		if got := jsonString(opts["data"]); got != `{"loginOptions":{"passwordLogin":true}}` {
			t.Errorf("loginOptions = %s", got)
		}
	})
}
