package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/clientkey"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/invitation"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/usererr"
)

// Invitations last 72 hours unless their maker says otherwise, and at most
// 30 days.
const (
	DefaultInvitationTTL = 72 * time.Hour
	MaxInvitationTTL     = 30 * 24 * time.Hour
)

// invitationPrefix marks an invitation token, so that one pasted in the
// wrong place is recognised.
const invitationPrefix = "inv_"

// hashToken is what is stored of a random one-time token (an
// invitation, a sign-in handoff code, a two-factor challenge, a recovery
// code): its SHA-256 in hex, as a client key is stored. Tokens of 80
// random bits or more need no slow hash.
func hashToken(token string) string { return clientkey.Hash(token) }

// Invite makes an invitation to org with role and returns it with its
// token, which is not stored and cannot be shown again.
func Invite(ctx context.Context, client *ent.Client, orgID int, role Role, note string, ttl time.Duration, by *Viewer) (*ent.Invitation, string, error) {
	if ttl <= 0 || ttl > MaxInvitationTTL {
		return nil, "", usererr.FieldErrorf("expiresInHours", "an invitation lasts from 1 to %d hours", int(MaxInvitationTTL.Hours()))
	}
	if len(note) > 200 {
		return nil, "", usererr.FieldErrorf("note", "note is longer than 200 characters")
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", fmt.Errorf("make invitation token: %w", err)
	}
	token := invitationPrefix + base64.RawURLEncoding.EncodeToString(b)
	now := nowUTC()
	c := client.Invitation.Create().SetOrganizationID(orgID).SetRole(invitation.Role(role)).
		SetTokenHash(hashToken(token)).SetNote(note).SetCreatedAt(now).SetExpiresAt(now.Add(ttl))
	if by != nil && by.UserID != 0 {
		c.SetCreatedBy(by.UserID)
	}
	inv, err := c.Save(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("make invitation: %w", err)
	}
	return inv, token, nil
}

// RevokeInvitation withdraws an invitation of org that was not accepted.
func RevokeInvitation(ctx context.Context, client *ent.Client, orgID, id int) error {
	n, err := client.Invitation.Update().
		Where(invitation.ID(id), invitation.OrganizationID(orgID), invitation.AcceptedAtIsNil(), invitation.RevokedAtIsNil()).
		SetRevokedAt(nowUTC()).Save(ctx)
	if err != nil {
		return fmt.Errorf("revoke invitation: %w", err)
	}
	if n == 0 {
		return usererr.NotFound("open invitation")
	}
	return nil
}

// errBadInvitation answers every token that cannot be used, so that the
// answer does not tell a used token from one that never existed.
var errBadInvitation = &usererr.Error{Code: usererr.CodeBadUserInput, Field: "token",
	Message: "this invitation is invalid, was used already, was withdrawn or has expired; ask for a new one"}

// AcceptRequest is an invitation's acceptance: by the logged-in viewer, or
// by the user named Username (checked with Password), or as a new user with
// that username and password.
type AcceptRequest struct {
	Token              string
	Viewer             *Viewer
	Username, Password string
	Client
}

// AcceptInvitation uses up an invitation, gives its user a membership and
// starts a session in the organization.
func (a *Authenticator) AcceptInvitation(ctx context.Context, req AcceptRequest) (*Session, error) {
	if !strings.HasPrefix(req.Token, invitationPrefix) {
		return nil, errBadInvitation
	}
	inv, err := a.Client.Invitation.Query().Where(invitation.TokenHash(hashToken(req.Token))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errBadInvitation
	}
	if err != nil {
		return nil, fmt.Errorf("look up invitation: %w", err)
	}
	if inv.AcceptedAt != nil || inv.RevokedAt != nil || !inv.ExpiresAt.After(a.now().UTC()) {
		return nil, errBadInvitation
	}
	tx, err := a.Client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	u, err := a.invitee(ctx, tx.Client(), req)
	if err != nil {
		return nil, err
	}
	// Single use: of two acceptances at once, one updates the row.
	n, err := tx.Invitation.Update().
		Where(invitation.ID(inv.ID), invitation.AcceptedAtIsNil(), invitation.RevokedAtIsNil()).
		SetAcceptedAt(nowUTC()).SetAcceptedBy(u.ID).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	if n == 0 {
		return nil, errBadInvitation
	}
	m, err := AddMember(ctx, tx.Client(), u.ID, inv.OrganizationID, Role(inv.Role))
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	m, err = a.membership(ctx, u.ID, m.OrganizationID)
	if err != nil {
		return nil, err
	}
	return a.startSession(ctx, u, m, req.Client)
}

// invitee is the user an acceptance is for: the logged-in viewer, an
// existing user who proves the password, or a new user created in tx, so
// that a failed acceptance leaves no user behind.
func (a *Authenticator) invitee(ctx context.Context, tx *ent.Client, req AcceptRequest) (*ent.User, error) {
	if req.Viewer != nil && req.Viewer.UserID != 0 {
		return a.Client.User.Get(ctx, req.Viewer.UserID)
	}
	if a.PasswordLoginOff {
		return nil, ErrInvitationNeedsSSO
	}
	if strings.TrimSpace(req.Username) == "" {
		return nil, usererr.FieldErrorf("username", "choose a username, or log in first to join with your account")
	}
	u, err := a.Client.User.Query().Where(user.Username(req.Username)).Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if u != nil {
		// An existing user joins by proving the password, counted as a login.
		if err := a.checkPassword(ctx, u, req.Password, req.IP); err != nil {
			if errors.Is(err, ErrLoginFailed) {
				return nil, usererr.FieldErrorf("password", "this username is taken; give its password to join with that account, or choose another username")
			}
			return nil, err
		}
		if u.TotpEnabledAt != nil {
			// A password alone never starts a session of this account.
			return nil, usererr.FieldErrorf("password", "this account has two-factor sign-in on: log in first (with your code), then accept the invitation")
		}
		return u, nil
	}
	if err := checkNewPassword("password", req.Password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(req.Password)
	if err != nil {
		return nil, err
	}
	u, err = tx.User.Create().SetUsername(req.Username).SetPasswordHash(hash).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, &usererr.Error{Code: usererr.CodeConflict, Field: "username", Message: "this username was just taken; choose another"}
	}
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return nil, usererr.FieldErrorf("username", "the username must be 1 to 100 characters")
	}
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

func nowUTC() time.Time { return time.Now().UTC() }
