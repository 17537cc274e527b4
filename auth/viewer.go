package auth

import (
	"context"

	"github.com/sluicehq/sluice/tenant"
)

// Role is what a viewer may do in its organization: members read
// everything but secrets, admins also write.
type Role string

// The roles.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Viewer is who is calling: a logged-in user in one organization, or a
// management key acting with admin rights in its organization.
type Viewer struct {
	OrgID int
	Role  Role
	// InstanceAdmin is true for admins of the default organization, who
	// also manage what is global (API standards, the price catalog).
	InstanceAdmin bool

	UserID   int    // 0 for a management key
	Username string // the user's name, or the management key's name

	ManagementKeyID int // 0 for a user

	SessionID int // the login's session; 0 for a management key

	// MustEnrollTwoFactor is true for a person whose organization requires
	// two-factor and who has not turned it on: the login may only enroll.
	MustEnrollTwoFactor bool
}

// IsAdmin reports whether the viewer may write in its organization.
func (v *Viewer) IsAdmin() bool { return v != nil && v.Role == RoleAdmin }

type viewerKey struct{}
type authErrKey struct{}

// WithViewer returns ctx carrying v, scoped to v's organization: what ctx
// reads of organization-owned data is v's organization's alone (package
// tenant). A nil v leaves ctx anonymous and unscoped.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	if v == nil {
		ctx = tenant.Without(ctx)
	} else {
		ctx = tenant.WithOrg(ctx, v.OrgID)
	}
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of ctx, or nil for an anonymous caller.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// withAuthError records why credentials that were sent did not
// authenticate, so the API can say so instead of a generic "log in".
func withAuthError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, authErrKey{}, err)
}

// AuthErrorFrom returns why the request's credentials were refused, if
// any were sent.
func AuthErrorFrom(ctx context.Context) error {
	err, _ := ctx.Value(authErrKey{}).(error)
	return err
}

// IsManagementKey reports whether the viewer is a management key.
func (v *Viewer) IsManagementKey() bool { return v.ManagementKeyID != 0 }

// IsInstanceAdmin reports whether the viewer administers the instance.
func (v *Viewer) IsInstanceAdmin() bool { return v.InstanceAdmin }
