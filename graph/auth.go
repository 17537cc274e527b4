package graph

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/manage"
)

// viewer returns the caller or UNAUTHENTICATED, saying why when credentials
// were sent but refused.
func viewer(ctx context.Context) (*auth.Viewer, error) {
	if v := auth.ViewerFrom(ctx); v != nil {
		return v, nil
	}
	if err := auth.AuthErrorFrom(ctx); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		if errors.Is(err, auth.ErrLookup) {
			return nil, err // the presenter tells an outage from a fault
		}
		if errors.As(err, new(*auth.EnrollmentRequiredError)) {
			return nil, Errorf(CodeTwoFactorRequired, "%s", err.Error())
		}
		if errors.Is(err, auth.ErrBadToken) {
			return nil, Errorf(CodeUnauthenticated, "%s", auth.ErrBadToken.Error())
		}
		return nil, Errorf(CodeUnauthenticated, "%s", err.Error())
	}
	return nil, Errorf(CodeUnauthenticated, "log in first: send Authorization: Bearer <token> (from the login mutation) or a management key")
}

// admin returns the caller if it may write in its organization: members
// get FORBIDDEN.
func admin(ctx context.Context) (*auth.Viewer, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if !v.IsAdmin() {
		return nil, Errorf(CodeForbidden, "only admins of the organization may do this; your role is %s", v.Role)
	}
	return v, nil
}

// instanceAdmin returns the caller if it administers the instance (an admin
// of the default organization), for what is global: API standards, prices.
func instanceAdmin(ctx context.Context) (*auth.Viewer, error) {
	v, err := admin(ctx)
	if err != nil {
		return nil, err
	}
	if !v.InstanceAdmin {
		return nil, Errorf(CodeForbidden, "only admins of the default organization may change what all organizations share")
	}
	return v, nil
}

// notFound is the answer for anything outside the caller's organization:
// the same as for what does not exist, so IDs reveal nothing.
func notFound(what string) *Error { return manage.NotFound(what) }
