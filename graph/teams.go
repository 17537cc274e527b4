package graph

import (
	"context"
	"errors"
	"strings"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/changefeed"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/graph/model"
)

// maxListedInvitations bounds the invitations list.
const maxListedInvitations = 200

// userViewer returns the caller if it is a logged-in user: a management
// key has no password, sessions or memberships of its own.
func userViewer(ctx context.Context) (*auth.Viewer, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if v.UserID == 0 {
		return nil, Errorf(CodeForbidden, "a management key has no password, sessions or memberships; log in as a user")
	}
	return v, nil
}

// loginError presents what checking a password can answer: RATE_LIMITED
// after too many failures.
func loginError(err error) error {
	var limited *auth.LoginLimitedError
	if errors.As(err, &limited) {
		return Errorf(CodeRateLimited, "%s", limited.Error())
	}
	return err
}

// checkOrganizationName is the rule of an organization's name.
func checkOrganizationName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return FieldErrorf("name", "name must not be empty")
	case len(name) > 200:
		return FieldErrorf("name", "name is longer than 200 characters")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return FieldErrorf("name", "name contains a control character")
	}
	return nil
}

// loginsEnded tells every replica that logins ended or memberships
// changed, so that open subscriptions check their credential at once
// instead of at their next periodic check. Requests need no signal: each
// reads its session.
func (r *Resolver) loginsEnded(ctx context.Context) {
	if r.Changes == nil {
		return
	}
	if err := r.Changes.Publish(context.WithoutCancel(ctx), changefeed.TopicSessions); err != nil {
		r.Log.WarnContext(ctx, "publish ended logins", "err", err)
	}
}

// memberOf is a membership as the API shows it to v.
func memberOf(m *ent.Membership, v *auth.Viewer) *model.Member {
	u := m.Edges.User
	return &model.Member{UserID: u.ID, Username: u.Username, Role: auth.Role(m.Role), JoinedAt: m.CreatedAt,
		LastLoginAt: u.LastLoginAt, IsViewer: v.UserID != 0 && v.UserID == u.ID, TwoFactorEnabled: u.TotpEnabledAt != nil}
}
