package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/apikey"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/secrets"
)

// Authenticator resolves the caller of an admin request and handles login.
type Authenticator struct {
	Client *ent.Client
	Tokens *Tokens
	Log    *slog.Logger
	// Logins limits failed logins per username and client address pair:
	// one address guessing a password locks out only itself.
	Logins *Limiter
	// LoginCeiling limits failed logins per username and per client
	// address, far above Logins, so that guessing spread over many
	// addresses, or over many usernames from one, is still slowed.
	LoginCeiling *Limiter
	// Codes limits wrong two-factor codes per person, over an hour: the
	// login limits alone would let a guesser who knows the password try
	// 100 codes a minute from many addresses.
	Codes *Limiter
	// PasswordLoginOff refuses logins with a password (GraphQL and REST),
	// when single sign-on is the way in; `sluice admin` still works.
	PasswordLoginOff bool
	// Keyring seals and opens two-factor secrets.
	Keyring *secrets.Keyring
	now     func() time.Time
}

// NewAuthenticator returns an authenticator limiting failed logins to 5 a
// minute per username and address pair, and to 100 a minute per username
// and per address; and wrong two-factor codes to 10 an hour per person.
func NewAuthenticator(client *ent.Client, tokens *Tokens, log *slog.Logger) *Authenticator {
	return &Authenticator{Client: client, Tokens: tokens, Log: log,
		Logins: NewLimiter("login", 5, time.Minute), LoginCeiling: NewLimiter("login-ceiling", 100, time.Minute),
		Codes: NewLimiter("two-factor", 10, time.Hour), now: time.Now}
}

// ShareLimits counts failed logins in m, where every replica sharing the
// database sees them, instead of in this process's memory.
func (a *Authenticator) ShareLimits(m *Marks) {
	a.Logins.Shared, a.LoginCeiling.Shared, a.Codes.Shared = m, m, m
}

// Middleware puts the caller's Viewer in the request context. Requests
// without credentials pass through anonymous (public queries exist);
// credentials that do not verify leave the reason for the API to report.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token, ok := bearer(r.Header.Get("Authorization")); ok {
			v, err := a.Resolve(ctx, token)
			var enroll *EnrollmentRequiredError
			if errors.As(err, &enroll) {
				ctx = withEnrolling(ctx, enroll.Viewer)
			}
			if err != nil {
				ctx = withAuthError(ctx, err)
			} else {
				ctx = WithViewer(ctx, v)
			}
		}
		ctx = WithClientIP(ctx, ClientIP(r))
		ctx = context.WithValue(ctx, userAgentKey{}, r.UserAgent())
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Resolve turns a bearer credential into a Viewer: a management key
// (sk_…) or a login token. The token of a person who must turn on
// two-factor first is refused with *EnrollmentRequiredError.
func (a *Authenticator) Resolve(ctx context.Context, credential string) (*Viewer, error) {
	if strings.HasPrefix(credential, "sk_") {
		return a.resolveManagementKey(ctx, credential)
	}
	c, err := a.Tokens.Parse(credential)
	if err != nil {
		a.Log.DebugContext(ctx, "refused login token", "err", err)
		return nil, ErrBadToken
	}
	if err := a.checkSession(ctx, c); err != nil {
		return nil, err
	}
	m, err := a.Client.Membership.Query().
		Where(membership.UserID(c.UserID), membership.OrganizationID(c.OrgID)).
		WithUser().WithOrganization().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errors.New("your account no longer has access to this organization; log in again")
	}
	if err != nil {
		return nil, fmt.Errorf("look up membership: %w: %w", ErrLookup, err)
	}
	v := &Viewer{
		OrgID:         c.OrgID,
		Role:          Role(m.Role),
		InstanceAdmin: m.Role == membership.RoleAdmin && m.Edges.Organization.IsDefault,
		UserID:        c.UserID,
		Username:      m.Edges.User.Username,
		SessionID:     c.SessionID,
	}
	if a.mustEnroll(m.Edges.User, m.Edges.Organization) {
		v.MustEnrollTwoFactor = true
		return nil, &EnrollmentRequiredError{Viewer: v}
	}
	return v, nil
}

// ErrLookup marks a credential that could not be checked because reading
// it failed: the server, not the credential, is at fault.
var ErrLookup = errors.New("credential lookup failed")

var errBadManagementKey = errors.New("management key is invalid, disabled or expired")

func (a *Authenticator) resolveManagementKey(ctx context.Context, key string) (*Viewer, error) {
	if !clientkey.LooksValid(key) {
		return nil, errBadManagementKey
	}
	k, err := a.Client.APIKey.Query().
		Where(apikey.KeyHash(clientkey.Hash(key))).
		WithOrganization().
		Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errBadManagementKey
	}
	if err != nil {
		return nil, fmt.Errorf("look up management key: %w: %w", ErrLookup, err)
	}
	if !k.IsManagementKey {
		return nil, errors.New("this is a client key, which works on the proxy only; use a management key or log in")
	}
	if !k.IsActive || (k.ExpiresAt != nil && !k.ExpiresAt.After(a.now())) {
		return nil, errBadManagementKey
	}
	return &Viewer{
		OrgID:           k.OrganizationID,
		Role:            RoleAdmin,
		InstanceAdmin:   k.Edges.Organization.IsDefault,
		Username:        k.Name,
		ManagementKeyID: k.ID,
	}, nil
}

// ErrLoginFailed is the one answer to a wrong username and a wrong
// password alike, so that the answer does not reveal which users exist.
var ErrLoginFailed = errors.New("wrong username or password")

// LoginLimitedError says the caller must wait before trying again.
type LoginLimitedError struct{ RetryAfter time.Duration }

func (e *LoginLimitedError) Error() string {
	return fmt.Sprintf("too many failed logins; try again in %d seconds", int(e.RetryAfter.Seconds()+0.999))
}

// LoginRequest is a login attempt: the credentials, the organization
// asked for (0: the one the user last used), and where it comes from.
type LoginRequest struct {
	Username, Password string
	OrgID              int
	Client
}

// Login checks a username and password and starts a session in the
// organization asked for, else the one the user last used, else the first
// one joined. For a user with two-factor on it starts no session but
// returns a Challenge, which LoginWithCode completes with a code. After 5
// failures (passwords and codes) in a minute for the username from the
// client address, or 100 for the username or the address alone, every
// attempt they cover is refused with *LoginLimitedError, even with the
// right password.
func (a *Authenticator) Login(ctx context.Context, req LoginRequest) (*Session, *Challenge, error) {
	if a.PasswordLoginOff {
		return nil, nil, ErrPasswordLoginOff
	}
	u, err := a.Client.User.Query().Where(user.Username(req.Username)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, nil, fmt.Errorf("look up user: %w", err)
	}
	if err := a.checkPasswordOf(ctx, req.Username, u, req.Password, req.IP); err != nil {
		return nil, nil, err
	}
	if u.TotpEnabledAt != nil {
		c, err := a.beginChallenge(ctx, u, req.OrgID)
		return nil, c, err
	}
	var m *ent.Membership
	if req.OrgID != 0 {
		m, err = a.membership(ctx, u.ID, req.OrgID)
	} else {
		m, err = a.lastMembership(ctx, u)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := a.startSession(ctx, u, m, req.Client)
	return s, nil, err
}

// checkPassword checks u's password as a login attempt is checked.
func (a *Authenticator) checkPassword(ctx context.Context, u *ent.User, password, clientIP string) error {
	return a.checkPasswordOf(ctx, u.Username, u, password, clientIP)
}

// checkPasswordOf checks password against the user named username (u, or
// nil when there is none), counting the attempt against the login limits:
// ErrLoginFailed for a wrong username and a wrong password alike, at the
// same cost.
func (a *Authenticator) checkPasswordOf(ctx context.Context, username string, u *ent.User, password, clientIP string) error {
	tickets, err := a.takeLogin(ctx, loginKeys(username, clientIP))
	if err != nil {
		return err
	}
	if u == nil || u.PasswordHash == "" { // none, or a single sign-on user
		CheckPassword(dummyHash, password) // same cost as a real check
		return ErrLoginFailed
	}
	if !CheckPassword(u.PasswordHash, password) {
		return ErrLoginFailed
	}
	a.returnTickets(ctx, tickets) // the right password: this attempt is no failure
	return nil
}

// loginKeys are the keys a login attempt of username from clientIP counts
// against: the pair, then the username's and the address's ceilings.
func loginKeys(username, clientIP string) []string {
	name := strings.ToLower(username)
	return []string{"pair:" + name + "\x00" + clientIP, "user:" + name, "ip:" + clientIP}
}

// returnTickets uncounts the attempts of a login step that succeeded.
func (a *Authenticator) returnTickets(ctx context.Context, tickets []Ticket) {
	for _, t := range tickets {
		if err := t.Return(ctx); err != nil {
			a.Log.WarnContext(ctx, "could not uncount a successful login", "err", err)
		}
	}
}

// takeLogin counts a login attempt against the pair's limit (keys[0]) and
// the username's and address's ceilings (the rest, see loginKeys) before the password is checked, so
// that concurrent guesses are counted as they come; a refusal counts
// nothing and says how long to wait.
func (a *Authenticator) takeLogin(ctx context.Context, keys []string) ([]Ticket, error) {
	p, wait, err := a.Logins.Take(ctx, keys[0])
	if err != nil {
		return nil, fmt.Errorf("count login attempt: %w", err)
	}
	if wait > 0 {
		return nil, &LoginLimitedError{RetryAfter: wait}
	}
	c, wait, err := a.LoginCeiling.Take(ctx, keys[1:]...)
	if err == nil && wait > 0 {
		err = &LoginLimitedError{RetryAfter: wait}
	}
	if err != nil {
		_ = p.Return(ctx)
		if _, limited := err.(*LoginLimitedError); !limited {
			err = fmt.Errorf("count login attempt: %w", err)
		}
		return nil, err
	}
	return []Ticket{p, c}, nil
}

func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

type clientIPKey struct{}

// WithClientIP returns ctx carrying the caller's address.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIPFrom returns the caller's address recorded by Middleware.
func ClientIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

type userAgentKey struct{}

// ClientFrom returns where the request came from, as Middleware recorded
// it, for a session started by the request.
func ClientFrom(ctx context.Context) Client {
	ua, _ := ctx.Value(userAgentKey{}).(string)
	return Client{IP: ClientIPFrom(ctx), UserAgent: ua}
}
