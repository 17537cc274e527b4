package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/organization"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/usererr"
)

// The codes a failed sign-in sends the dashboard (?sso_error=), each
// shown as its own message.
const (
	ssoUnavailable      = "unavailable"
	ssoStateMismatch    = "state_mismatch"
	ssoProviderRefused  = "provider_refused"
	ssoCodeRefused      = "code_refused"
	ssoBadToken         = "bad_token"
	ssoEmailUnverified  = "email_unverified"
	ssoDomainNotAllowed = "domain_not_allowed"
	ssoNoAccount        = "no_account"
	ssoNoOrganization   = "no_organization"
	ssoAccountConflict  = "account_conflict"
	ssoInternal         = "internal"
)

// ssoError is a refused sign-in: the code the dashboard shows, and the
// reason, for the log and the audit event.
type ssoError struct {
	Code string
	err  error
}

func (e *ssoError) Error() string { return e.Code + ": " + e.err.Error() }
func (e *ssoError) Unwrap() error { return e.err }

func ssoErr(code string, err error) error { return &ssoError{Code: code, err: err} }

// identity is who the provider says signed in, checked against the rules.
type identity struct {
	Issuer, Subject, Email string
	// Organizations are the organization claim's values; Admin says the
	// role claim holds admin.
	Organizations []string
	Admin         bool
}

// label names the identity in the log and the audit log.
func (id identity) label() string {
	if id.Email != "" {
		return id.Email
	}
	return id.Subject
}

// identify reads the ID token's claims: a verified email in an allowed
// domain, and the organization and role claims.
func (o *OIDC) identify(issuer, subject string, claims map[string]any) (identity, error) {
	id := identity{Issuer: issuer, Subject: subject}
	id.Email, _ = claims["email"].(string)
	id.Email = strings.ToLower(strings.TrimSpace(id.Email))
	if id.Email == "" || !truthy(claims["email_verified"]) {
		return id, ssoErr(ssoEmailUnverified, errors.New("the provider gave no verified email"))
	}
	_, domain, _ := strings.Cut(id.Email, "@")
	if len(o.cfg.AllowedDomains) > 0 && !slices.ContainsFunc(o.cfg.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		return id, ssoErr(ssoDomainNotAllowed, fmt.Errorf("email domain %q is not allowed", domain))
	}
	if o.cfg.OrganizationClaim != "" {
		id.Organizations = claimValues(claims[o.cfg.OrganizationClaim])
	}
	if o.cfg.RoleClaim != "" {
		id.Admin = slices.Contains(claimValues(claims[o.cfg.RoleClaim]), string(RoleAdmin))
	}
	return id, nil
}

// truthy reads a boolean claim that some providers send as a string.
func truthy(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return strings.EqualFold(b, "true")
	}
	return false
}

// claimValues reads a claim that is a string or a list of strings.
func claimValues(v any) []string {
	switch c := v.(type) {
	case string:
		return []string{c}
	case []any:
		var out []string
		for _, e := range c {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// signIn finds the identity's user (by issuer and subject, else by an
// email or username equal to the verified email, which links them), or
// creates one when accounts are created on first sign-in, and starts a
// session in the organization the user last used. created is the new
// user, if one was made.
func (o *OIDC) signIn(r *http.Request, id identity) (sess *Session, created *ent.User, err error) {
	ctx := r.Context()
	u, err := o.findUser(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if u == nil {
		if !o.cfg.CreateAccounts {
			return nil, nil, ssoErr(ssoNoAccount, errors.New("no user has this identity or email, and accounts are not created on sign-in"))
		}
		if u, err = o.createUser(ctx, id); err != nil {
			return nil, nil, err
		}
		created = u
	}
	m, err := o.auth.lastMembership(ctx, u)
	if errors.As(err, new(*usererr.Error)) {
		return nil, nil, ssoErr(ssoNoOrganization, err)
	}
	if err != nil {
		return nil, nil, err
	}
	sess, err = o.auth.startSession(ctx, u, m, Client{IP: ClientIP(r), UserAgent: r.UserAgent()})
	return sess, created, err
}

// findUser returns the identity's user, linking a user found by email to
// the identity, or nil when there is none.
func (o *OIDC) findUser(ctx context.Context, id identity) (*ent.User, error) {
	u, err := o.auth.Client.User.Query().Where(user.OidcIssuer(id.Issuer), user.OidcSubject(id.Subject)).Only(ctx)
	if err == nil {
		return u, nil
	}
	if !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	u, err = o.auth.Client.User.Query().
		Where(user.Or(user.EmailEqualFold(id.Email), user.UsernameEqualFold(id.Email))).
		Order(ent.Asc(user.FieldID)).First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if u.OidcSubject != nil {
		return nil, ssoErr(ssoAccountConflict, fmt.Errorf("user %q is linked to another identity", u.Username))
	}
	// Linking hands the account to whoever holds the identity. Its username
	// may have been chosen by someone else (accepting an invitation lets a
	// person pick one, an email among them), so no other way in survives
	// the link: its password and two-factor are cleared and its sessions
	// end.
	err = database.InTx(ctx, o.auth.Client, func(tx *ent.Tx) error {
		if err := tx.User.UpdateOneID(u.ID).SetOidcIssuer(id.Issuer).SetOidcSubject(id.Subject).SetEmail(id.Email).
			SetPasswordHash("").Exec(ctx); err != nil {
			return err
		}
		if err := clearTwoFactorIn(ctx, tx, u.ID); err != nil {
			return err
		}
		_, err := endSessions(ctx, tx.Session, o.auth.now(), session.UserID(u.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("link user to identity: %w", err)
	}
	return o.auth.Client.User.Get(ctx, u.ID)
}

// createUser makes the identity's account, without a password, a member
// of the organizations its claim names (the default organization when no
// claim is configured), admin when the role claim holds admin.
func (o *OIDC) createUser(ctx context.Context, id identity) (*ent.User, error) {
	orgs, err := o.organizations(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(id.Email) > 100 {
		return nil, ssoErr(ssoNoAccount, errors.New("the email is longer than a username may be"))
	}
	role := membership.RoleMember
	if id.Admin {
		role = membership.RoleAdmin
	}
	tx, err := o.auth.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	defer tx.Rollback()
	u, err := tx.User.Create().SetUsername(id.Email).SetPasswordHash("").SetEmail(id.Email).
		SetOidcIssuer(id.Issuer).SetOidcSubject(id.Subject).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	for _, org := range orgs {
		if err := tx.Membership.Create().SetUserID(u.ID).SetOrganizationID(org.ID).SetRole(role).Exec(ctx); err != nil {
			return nil, fmt.Errorf("create membership: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// organizations are the organizations a new account joins.
func (o *OIDC) organizations(ctx context.Context, id identity) ([]*ent.Organization, error) {
	if o.cfg.OrganizationClaim == "" {
		org, err := DefaultOrganization(ctx, o.auth.Client)
		if err != nil {
			return nil, err
		}
		return []*ent.Organization{org}, nil
	}
	if len(id.Organizations) == 0 {
		return nil, ssoErr(ssoNoOrganization, fmt.Errorf("the %s claim is empty", o.cfg.OrganizationClaim))
	}
	orgs, err := o.auth.Client.Organization.Query().Where(organization.NameIn(id.Organizations...)).
		Order(ent.Asc(organization.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up organizations: %w", err)
	}
	if len(orgs) == 0 {
		return nil, ssoErr(ssoNoOrganization, fmt.Errorf("no organization is named by the %s claim", o.cfg.OrganizationClaim))
	}
	return orgs, nil
}
