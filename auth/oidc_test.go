package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestIdentify: a sign-in needs a verified email in an allowed domain; the
// organization claim is a string or a list, and the role claim makes an
// admin only when it holds admin.
func TestIdentify(t *testing.T) {
	o := &OIDC{cfg: OIDCConfig{AllowedDomains: []string{"Example.com"}, OrganizationClaim: "groups", RoleClaim: "roles"}}
	tests := []struct {
		name      string
		claims    map[string]any
		wantCode  string
		wantOrgs  []string
		wantAdmin bool
	}{
		{"verified, list claims", map[string]any{"email": "Ann@example.COM", "email_verified": true, "groups": []any{"Acme", 7, "Eng"}, "roles": []any{"member", "admin"}}, "", []string{"Acme", "Eng"}, true},
		{"verified as a string, one group, role member", map[string]any{"email": "ann@example.com", "email_verified": "true", "groups": "Acme", "roles": "member"}, "", []string{"Acme"}, false},
		{"no role claim is a member", map[string]any{"email": "ann@example.com", "email_verified": true}, "", nil, false},
		{"unverified", map[string]any{"email": "ann@example.com", "email_verified": false}, ssoEmailUnverified, nil, false},
		{"verified claim missing", map[string]any{"email": "ann@example.com"}, ssoEmailUnverified, nil, false},
		{"no email", map[string]any{"email_verified": true}, ssoEmailUnverified, nil, false},
		{"other domain", map[string]any{"email": "ann@example.org", "email_verified": true}, ssoDomainNotAllowed, nil, false},
		{"subdomain is another domain", map[string]any{"email": "ann@eu.example.com", "email_verified": true}, ssoDomainNotAllowed, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := o.identify("https://id.example.com", "sub-1", tt.claims)
			var se *ssoError
			if tt.wantCode != "" {
				if !errors.As(err, &se) || se.Code != tt.wantCode {
					t.Fatalf("err = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id.Email != "ann@example.com" || id.Admin != tt.wantAdmin || len(id.Organizations) != len(tt.wantOrgs) {
				t.Fatalf("identity = %+v, want orgs %v admin %v", id, tt.wantOrgs, tt.wantAdmin)
			}
			for i := range tt.wantOrgs {
				if id.Organizations[i] != tt.wantOrgs[i] {
					t.Errorf("organizations = %v, want %v", id.Organizations, tt.wantOrgs)
				}
			}
		})
	}
}

// TestSameOrigin: the exchange answers only requests from the gateway's
// own origin, as the browser names it.
func TestSameOrigin(t *testing.T) {
	o := &OIDC{cfg: OIDCConfig{RedirectURL: "https://gw.example.com/api/admin/auth/oidc/callback"}}
	for origin, want := range map[string]bool{
		"":                         false,
		"null":                     false,
		"https://evil.example":     false,
		"http://gw.example.com":    false,
		"https://gw.example.com":   true,
		"http://10.0.0.5:8080":     true, // the host the request was sent to
		"https://10.0.0.5:8080.ev": false,
	} {
		r := httptest.NewRequest("POST", "http://10.0.0.5:8080/api/admin/auth/oidc/session", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		if got := o.sameOrigin(r); got != want {
			t.Errorf("sameOrigin(%q) = %v, want %v", origin, got, want)
		}
	}
}

// TestHandoffIsSingleUse: of concurrent exchanges of one code, exactly one
// gets the token; a code older than 60 seconds gets nothing.
func TestHandoffIsSingleUse(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if _, err := Bootstrap(ctx, db.Client, "admin password 0123"); err != nil {
			t.Fatal(err)
		}
		tokens, _ := NewTokens("test-jwt-secret-test-jwt-secret", time.Hour)
		a := NewAuthenticator(db.Client, tokens, slog.New(slog.NewTextHandler(io.Discard, nil)))
		o := &OIDC{auth: a}
		sess, _, err := a.Login(ctx, LoginRequest{Username: "admin", Password: "admin password 0123"})
		if err != nil {
			t.Fatal(err)
		}
		code, err := o.startHandoff(ctx, sess)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make(chan string, 4)
		for range 4 {
			wg.Go(func() {
				token, _, err := o.exchange(ctx, code)
				if err == nil {
					results <- token
				} else if !errors.Is(err, errHandoffUsed) {
					results <- "error: " + err.Error()
				}
			})
		}
		wg.Wait()
		close(results)
		var got []string
		for r := range results {
			got = append(got, r)
		}
		if len(got) != 1 {
			t.Fatalf("exchanges that got a token: %v, want exactly one", got)
		}
		if v, err := a.Resolve(ctx, got[0]); err != nil || v.Username != "admin" {
			t.Fatalf("the exchanged token resolves to %v, %v", v, err)
		}

		late, _, _ := a.Login(ctx, LoginRequest{Username: "admin", Password: "admin password 0123"})
		code, _ = o.startHandoff(ctx, late)
		a.now = func() time.Time { return time.Now().Add(61 * time.Second) }
		if _, _, err := o.exchange(ctx, code); !errors.Is(err, errHandoffUsed) {
			t.Fatalf("exchange after 61 s: %v, want refused", err)
		}
	})
}
