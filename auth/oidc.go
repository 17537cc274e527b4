package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sluicehq/sluice/secrets"
)

// OIDCConfig is how single sign-on with an OpenID Connect provider is set
// up. An empty Issuer turns it off.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; its discovery document is at
	// Issuer/.well-known/openid-configuration.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is the public URL of the callback,
	// https://sluice.example.com/api/admin/auth/oidc/callback.
	RedirectURL string
	// Name is the provider's name on the login screen.
	Name   string
	Scopes []string
	// AllowedDomains are the email domains that may sign in; empty allows
	// any. The email must be verified by the provider either way.
	AllowedDomains []string
	// OrganizationClaim names the claim whose values (a string or a list)
	// choose a new account's organizations: each value equal to an
	// organization's name. Empty: the default organization.
	OrganizationClaim string
	// RoleClaim names the claim whose value admin (or a list holding it)
	// makes a new account an admin; anything else, or none, a member.
	RoleClaim string
	// CreateAccounts creates an account on a first sign-in; without it
	// only existing users whose email or username is the verified email
	// may sign in.
	CreateAccounts bool
}

// Enabled reports whether single sign-on is configured.
func (c OIDCConfig) Enabled() bool { return c.Issuer != "" }

// The routes of single sign-on, under the admin API's auth routes.
const (
	OIDCLoginPath    = "/api/admin/auth/oidc/login"
	OIDCCallbackPath = "/api/admin/auth/oidc/callback"
	OIDCSessionPath  = "/api/admin/auth/oidc/session"
)

// The cookies of a sign-in: the flow's state while the browser is at the
// provider, then the one-time code the dashboard exchanges for its token.
const (
	flowCookie    = "sluice_oidc_flow"
	handoffCookie = "sluice_oidc_handoff"
	flowTTL       = 10 * time.Minute
	flowAAD       = "oidc-flow"
)

// OIDC serves single sign-on: the redirect to the provider, its callback,
// and the dashboard's exchange of the one-time code for a session token.
type OIDC struct {
	auth    *Authenticator
	cfg     OIDCConfig
	keyring *secrets.Keyring
	// HTTPClient calls the provider (discovery, keys, token endpoint).
	HTTPClient *http.Client
	// Dashboard is where the browser goes after the callback: its login
	// screen, which finishes the sign-in or shows why it failed.
	Dashboard string
	audits    *Limiter

	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC returns single sign-on for cfg, sealing its flow cookies with
// keyring. The provider's discovery document is read at the first sign-in
// (and again until it is read once), so that a provider briefly down does
// not keep the gateway from starting.
func NewOIDC(a *Authenticator, keyring *secrets.Keyring, cfg OIDCConfig) *OIDC {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if cfg.Name == "" {
		cfg.Name = "SSO"
	}
	return &OIDC{auth: a, cfg: cfg, keyring: keyring, HTTPClient: &http.Client{Timeout: 15 * time.Second},
		Dashboard: "/login", audits: NewLimiter("sso-audit", 30, time.Minute)}
}

// Name is the provider's name for the login screen.
func (o *OIDC) Name() string { return o.cfg.Name }

func (o *OIDC) clientContext(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.HTTPClient)
}

// discover returns the provider, reading its discovery document once.
func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(o.clientContext(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("read the OIDC provider's discovery document: %w", err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: o.cfg.Scopes}
}

// flow is what the browser carries to the provider and back, sealed: the
// state the callback must echo, the nonce the ID token must hold, and the
// PKCE verifier of the code.
type flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Expires  time.Time `json:"e"`
}

// LoginHandler redirects the browser to the provider, with a fresh state,
// nonce and PKCE (S256) challenge, and keeps them in a sealed, HttpOnly,
// SameSite=Lax cookie for the callback.
func (o *OIDC) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := o.discover(r.Context())
		if err != nil {
			o.auth.Log.ErrorContext(r.Context(), "single sign-on unavailable", "err", err)
			o.fail(w, r, ssoUnavailable, "", err)
			return
		}
		f := flow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Expires: o.auth.now().Add(flowTTL)}
		sealed, err := o.seal(f)
		if err != nil {
			o.auth.Log.ErrorContext(r.Context(), "seal the sign-in state", "err", err)
			o.fail(w, r, ssoUnavailable, "", err)
			return
		}
		http.SetCookie(w, o.cookie(r, flowCookie, sealed, OIDCCallbackPath, flowTTL, http.SameSiteLaxMode))
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, o.oauth(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
	})
}

// CallbackHandler completes the code flow: it checks the state against the
// flow cookie, exchanges the code with the PKCE verifier, verifies the ID
// token (signature against the provider's keys, issuer, audience, expiry
// and nonce), finds or creates the user, starts a session and hands it to
// the dashboard through a one-time cookie. Every failure sends the browser
// to the dashboard's login with an error code, never the provider's words.
func (o *OIDC) CallbackHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, o.cookie(r, flowCookie, "", OIDCCallbackPath, -1, http.SameSiteLaxMode))
		w.Header().Set("Cache-Control", "no-store")
		id, err := o.callback(r)
		if err != nil {
			var se *ssoError
			if !errors.As(err, &se) {
				o.auth.Log.ErrorContext(r.Context(), "single sign-on failed", "err", err)
				se = &ssoError{Code: ssoInternal, err: err}
			}
			o.fail(w, r, se.Code, id.label(), err)
			return
		}
		sess, created, err := o.signIn(r, id)
		if err != nil {
			code := ssoInternal
			var se *ssoError
			if errors.As(err, &se) {
				code = se.Code
			} else {
				o.auth.Log.ErrorContext(r.Context(), "single sign-on failed", "err", err)
			}
			o.fail(w, r, code, id.label(), err)
			return
		}
		if created != nil {
			o.auditCreated(r, created, sess.Viewer, id)
		}
		o.auditLogin(r, id.label(), sess.Viewer, nil, "")
		code, err := o.startHandoff(r.Context(), sess)
		if err != nil {
			o.auth.Log.ErrorContext(r.Context(), "hand the session to the dashboard", "err", err)
			o.fail(w, r, ssoInternal, id.label(), err)
			return
		}
		http.SetCookie(w, o.cookie(r, handoffCookie, code, OIDCSessionPath, handoffTTL, http.SameSiteStrictMode))
		http.Redirect(w, r, o.Dashboard+"?sso=done", http.StatusFound)
	})
}

// callback checks the provider's answer and returns who signed in.
func (o *OIDC) callback(r *http.Request) (identity, error) {
	ctx := r.Context()
	q := r.URL.Query()
	c, err := r.Cookie(flowCookie)
	if err != nil {
		return identity{}, ssoErr(ssoStateMismatch, errors.New("no sign-in state cookie"))
	}
	f, err := o.open(c.Value)
	if err != nil {
		return identity{}, ssoErr(ssoStateMismatch, err)
	}
	if !o.auth.now().Before(f.Expires) {
		return identity{}, ssoErr(ssoStateMismatch, errors.New("the sign-in state expired"))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return identity{}, ssoErr(ssoStateMismatch, errors.New("state does not match"))
	}
	if e := q.Get("error"); e != "" {
		return identity{}, ssoErr(ssoProviderRefused, fmt.Errorf("provider answered error %.64q", e))
	}
	if q.Get("code") == "" {
		return identity{}, ssoErr(ssoProviderRefused, errors.New("no code"))
	}
	p, err := o.discover(ctx)
	if err != nil {
		return identity{}, ssoErr(ssoUnavailable, err)
	}
	cctx := o.clientContext(ctx)
	tok, err := o.oauth(p).Exchange(cctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return identity{}, ssoErr(ssoCodeRefused, fmt.Errorf("exchange the code: %w", err))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return identity{}, ssoErr(ssoBadToken, errors.New("the token answer has no id_token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: o.auth.now}).Verify(cctx, raw)
	if err != nil {
		return identity{}, ssoErr(ssoBadToken, fmt.Errorf("verify the ID token: %w", err))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return identity{}, ssoErr(ssoBadToken, errors.New("the ID token's nonce does not match"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return identity{}, ssoErr(ssoBadToken, fmt.Errorf("read the ID token's claims: %w", err))
	}
	return o.identify(idt.Issuer, idt.Subject, claims)
}

func (o *OIDC) cookie(r *http.Request, name, value, path string, ttl time.Duration, same http.SameSite) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, SameSite: same, Secure: o.secure(r)}
	if ttl < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(ttl.Seconds())
	}
	return c
}

// secure says whether cookies are marked Secure: when the browser reached
// the gateway over https, directly or as the public redirect URL says.
func (o *OIDC) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(o.cfg.RedirectURL, "https://")
}

func (o *OIDC) seal(f flow) (string, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encode sign-in state: %w", err)
	}
	s, err := o.keyring.Seal(string(b), flowAAD)
	if err != nil {
		return "", err
	}
	return s.KeyID + "." + base64.RawURLEncoding.EncodeToString(s.Ciphertext), nil
}

func (o *OIDC) open(v string) (flow, error) {
	var f flow
	id, ct, ok := strings.Cut(v, ".")
	b, err := base64.RawURLEncoding.DecodeString(ct)
	if !ok || err != nil {
		return f, errors.New("malformed sign-in state cookie")
	}
	plain, err := o.keyring.Open(secrets.Sealed{KeyID: id, Ciphertext: b}, flowAAD)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(plain), &f); err != nil {
		return f, fmt.Errorf("decode sign-in state: %w", err)
	}
	return f, nil
}

// fail audits a failed sign-in and sends the browser to the dashboard's
// login with the failure's code.
func (o *OIDC) fail(w http.ResponseWriter, r *http.Request, code, who string, err error) {
	o.auth.Log.InfoContext(r.Context(), "single sign-on refused", "code", code, "who", who, "err", err)
	o.auditLogin(r, who, nil, err, code)
	http.Redirect(w, r, o.Dashboard+"?"+url.Values{"sso_error": {code}}.Encode(), http.StatusFound)
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
