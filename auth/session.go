package auth

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/membership"
	"github.com/sluicehq/sluice/ent/predicate"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/usererr"
)

// sessionKeep is how long a session's row outlives its expiry, for the
// record, before a login deletes it.
const sessionKeep = 7 * 24 * time.Hour

// seenEvery is how stale a session's last_seen_at may get before a request
// writes it again: a busy session costs one write a minute, not one a
// request.
const seenEvery = time.Minute

// Session is a started session: the token that names it, and when it ends.
type Session struct {
	Token   string
	Expires time.Time
	Viewer  *Viewer
}

// Client says where a session is started from, for the sessions list.
type Client struct {
	IP, UserAgent string
}

// ErrSessionEnded is the answer to a token whose session was ended or has
// expired: the caller must log in again.
var ErrSessionEnded = errors.New("this login was ended (logout, a password change, or from another session); log in again")

// startSession stores a session of u in the organization of m, remembers
// that organization as u's last, and returns its token.
func (a *Authenticator) startSession(ctx context.Context, u *ent.User, m *ent.Membership, c Client) (*Session, error) {
	now := a.now().UTC()
	exp := now.Add(a.Tokens.TTL())
	s, err := a.Client.Session.Create().
		SetUserID(u.ID).SetOrganizationID(m.OrganizationID).
		SetCreatedAt(now).SetLastSeenAt(now).SetExpiresAt(exp).
		SetClientIP(capBytes(c.IP, 64)).SetUserAgent(capBytes(c.UserAgent, 256)).
		Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	token, err := a.Tokens.Issue(u.ID, m.OrganizationID, s.ID, exp)
	if err != nil {
		return nil, err
	}
	if err := a.Client.User.UpdateOneID(u.ID).SetLastLoginAt(now).SetLastOrganizationID(m.OrganizationID).Exec(ctx); err != nil {
		a.Log.WarnContext(ctx, "could not record the user's last login", "err", err)
	}
	// Logins are rare, so each one clears the rows of long-expired sessions.
	if _, err := a.Client.Session.Delete().Where(session.ExpiresAtLT(now.Add(-sessionKeep))).Exec(ctx); err != nil {
		a.Log.WarnContext(ctx, "could not delete expired sessions", "err", err)
	}
	isDefault := m.Edges.Organization != nil && m.Edges.Organization.IsDefault
	return &Session{Token: token, Expires: exp, Viewer: &Viewer{
		OrgID: m.OrganizationID, Role: Role(m.Role), UserID: u.ID, Username: u.Username, SessionID: s.ID,
		InstanceAdmin: m.Role == membership.RoleAdmin && isDefault,
	}}, nil
}

// checkSession refuses a token whose session has ended, expired, or does
// not match the token's user and organization, and notes that it was used.
// It is one read by primary key per request; the read is what makes an
// ended session refused by every replica at once, with no cache to flush.
func (a *Authenticator) checkSession(ctx context.Context, c Claims) error {
	s, err := a.Client.Session.Get(ctx, c.SessionID)
	if ent.IsNotFound(err) {
		return ErrSessionEnded
	}
	if err != nil {
		return fmt.Errorf("look up session: %w: %w", ErrLookup, err)
	}
	now := a.now().UTC()
	if s.UserID != c.UserID || s.OrganizationID != c.OrgID || s.EndedAt != nil || !s.ExpiresAt.After(now) {
		return ErrSessionEnded
	}
	if now.Sub(s.LastSeenAt) >= seenEvery {
		if err := a.Client.Session.UpdateOneID(s.ID).SetLastSeenAt(now).Exec(ctx); err != nil {
			a.Log.WarnContext(ctx, "could not note a session's use", "err", err)
		}
	}
	return nil
}

// EndSession ends one session of the user: its token is refused from now on.
func (a *Authenticator) EndSession(ctx context.Context, userID, sessionID int) error {
	_, err := endSessions(ctx, a.Client.Session, a.now(), session.ID(sessionID), session.UserID(userID))
	return err
}

// EndUserSessions ends every session of the user, in every organization,
// and returns how many it ended.
func (a *Authenticator) EndUserSessions(ctx context.Context, userID int) (int, error) {
	return endSessions(ctx, a.Client.Session, a.now(), session.UserID(userID))
}

// EndMembershipSessions ends the user's sessions in one organization, when
// the user leaves it or is removed.
func (a *Authenticator) EndMembershipSessions(ctx context.Context, userID, orgID int) (int, error) {
	return endSessions(ctx, a.Client.Session, a.now(), session.UserID(userID), session.OrganizationID(orgID))
}

// endSessions ends, at the time at, the sessions matching where that have
// not ended: their tokens are refused from then on. sessions is a client's
// or a transaction's; it returns how many ended.
func endSessions(ctx context.Context, sessions *ent.SessionClient, at time.Time, where ...predicate.Session) (int, error) {
	n, err := sessions.Update().
		Where(append(where, session.EndedAtIsNil())...).
		SetEndedAt(at.UTC()).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return n, nil
}

// Sessions lists the user's sessions that have neither ended nor expired,
// newest first.
func (a *Authenticator) Sessions(ctx context.Context, userID int) ([]*ent.Session, error) {
	return a.Client.Session.Query().
		Where(session.UserID(userID), session.EndedAtIsNil(), session.ExpiresAtGT(a.now().UTC())).
		Order(ent.Desc(session.FieldCreatedAt), ent.Desc(session.FieldID)).
		Limit(maxListedSessions).
		All(ctx)
}

// maxListedSessions bounds the sessions list: a script logging in every
// minute would otherwise make it as long as a day of logins.
const maxListedSessions = 200

// minPassword is the shortest password a person may choose.
const minPassword = 10

// checkNewPassword is the rule of a password a person chooses: field is
// the input field it came in.
func checkNewPassword(field, password string) error {
	switch {
	case len(password) < minPassword:
		return usererr.FieldErrorf(field, "the password must have at least %d characters", minPassword)
	case len(password) > 1024:
		return usererr.FieldErrorf(field, "the password must have at most 1024 bytes")
	}
	return nil
}

// setPassword stores a new password hash for the user and ends all of the
// user's sessions: whoever knew the old password is logged out everywhere.
func (a *Authenticator) setPassword(ctx context.Context, userID int, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := a.Client.User.UpdateOneID(userID).SetPasswordHash(hash).Exec(ctx); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	_, err = a.EndUserSessions(ctx, userID)
	return err
}

// ChangePassword sets the viewer's password after checking the current one
// (counted as a login attempt, so it cannot be guessed faster), ends all of
// the viewer's sessions, and starts a new one in the same organization.
func (a *Authenticator) ChangePassword(ctx context.Context, v *Viewer, current, next string, c Client) (*Session, error) {
	if v.UserID == 0 {
		return nil, errNoUser
	}
	if err := checkNewPassword("new", next); err != nil {
		return nil, err
	}
	u, err := a.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if u.PasswordHash == "" {
		return nil, ErrNoPassword
	}
	if err := a.checkPassword(ctx, u, current, c.IP); err != nil {
		if errors.Is(err, ErrLoginFailed) {
			return nil, usererr.FieldErrorf("current", "the current password is wrong")
		}
		return nil, err
	}
	if err := a.setPassword(ctx, u.ID, next); err != nil {
		return nil, err
	}
	m, err := a.membership(ctx, u.ID, v.OrgID)
	if err != nil {
		return nil, err
	}
	return a.startSession(ctx, u, m, c)
}

var errNoUser = usererr.Errorf("FORBIDDEN", "a management key has no password or sessions; log in as a user")

// ResetMemberPassword sets a generated password for a user of the viewer's
// organization and ends all of that user's sessions; it returns the
// password, to be shown once, under the rules of memberToReset.
func (a *Authenticator) ResetMemberPassword(ctx context.Context, v *Viewer, userID int) (string, *ent.User, error) {
	u, err := a.memberToReset(ctx, v, userID, "the password")
	if err != nil {
		return "", nil, err
	}
	password := GeneratePassword()
	if err := a.setPassword(ctx, u.ID, password); err != nil {
		return "", nil, err
	}
	return password, u, nil
}

// memberToReset is the user whose what (the password, two-factor) the
// viewer may reset. An organization's admin may reset only a user who
// belongs to no other organization: a person in several is reset by an
// instance admin, so that no organization's admin can take over an
// account that matters elsewhere.
func (a *Authenticator) memberToReset(ctx context.Context, v *Viewer, userID int, what string) (*ent.User, error) {
	ms, err := a.Client.Membership.Query().Where(membership.UserID(userID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("look up memberships: %w", err)
	}
	inOrg, elsewhere := false, false
	for _, m := range ms {
		if m.OrganizationID == v.OrgID {
			inOrg = true
		} else {
			elsewhere = true
		}
	}
	if !inOrg && !v.InstanceAdmin {
		return nil, usererr.NotFound("user")
	}
	if elsewhere && !v.InstanceAdmin {
		return nil, usererr.Errorf("FORBIDDEN", "this user belongs to other organizations too; an instance admin resets %s", what)
	}
	u, err := a.Client.User.Get(ctx, userID)
	if ent.IsNotFound(err) {
		return nil, usererr.NotFound("user")
	}
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	return u, nil
}

// SwitchOrganization ends the viewer's session and starts one in another
// organization the viewer belongs to.
func (a *Authenticator) SwitchOrganization(ctx context.Context, v *Viewer, orgID int, c Client) (*Session, error) {
	if v.UserID == 0 {
		return nil, errNoUser
	}
	m, err := a.membership(ctx, v.UserID, orgID)
	var ue *usererr.Error
	if errors.As(err, &ue) {
		ue.Field = "id" // switchOrganization's argument
	}
	if err != nil {
		return nil, err
	}
	u, err := a.Client.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	s, err := a.startSession(ctx, u, m, c)
	if err != nil {
		return nil, err
	}
	if err := a.EndSession(ctx, v.UserID, v.SessionID); err != nil {
		return nil, err
	}
	return s, nil
}

// membership is the user's membership in org with its organization, or
// NOT_FOUND (field organizationId) when there is none.
func (a *Authenticator) membership(ctx context.Context, userID, orgID int) (*ent.Membership, error) {
	m, err := a.Client.Membership.Query().
		Where(membership.UserID(userID), membership.OrganizationID(orgID)).
		WithOrganization().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, &usererr.Error{Code: usererr.CodeNotFound, Field: "organizationId", Message: "you are not a member of that organization"}
	}
	if err != nil {
		return nil, fmt.Errorf("look up membership: %w", err)
	}
	return m, nil
}

// lastMembership is the membership login picks when none is asked for:
// the organization the user last used, else the first one joined.
func (a *Authenticator) lastMembership(ctx context.Context, u *ent.User) (*ent.Membership, error) {
	if u.LastOrganizationID != nil {
		m, err := a.membership(ctx, u.ID, *u.LastOrganizationID)
		if err == nil {
			return m, nil
		}
		var ue *usererr.Error
		if !errors.As(err, &ue) {
			return nil, err
		}
	}
	m, err := a.Client.Membership.Query().
		Where(membership.UserID(u.ID)).
		WithOrganization().
		Order(ent.Asc(membership.FieldID)).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, usererr.Errorf("FORBIDDEN", "your account belongs to no organization; ask an admin to invite you")
	}
	if err != nil {
		return nil, fmt.Errorf("look up membership: %w", err)
	}
	return m, nil
}

// capBytes cuts s to at most n bytes, on a character boundary.
func capBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
