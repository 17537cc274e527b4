package graph

import (
	"context"
	"errors"

	"github.com/sluicehq/sluice/auth"
)

// CodeTwoFactorRequired: the caller's organization requires two-factor
// and the caller has not turned it on; only enrolling, confirming and
// logging out are answered.
const CodeTwoFactorRequired Code = "TWO_FACTOR_REQUIRED"

// enrollingViewer returns the caller if it is a person, even one whose
// login may only enroll: who may turn two-factor on, or log out.
func enrollingViewer(ctx context.Context) (*auth.Viewer, error) {
	v := auth.EnrollingViewerFrom(ctx)
	if v == nil || v.UserID == 0 {
		return userViewer(ctx)
	}
	// The audit log names the person even when the login may only enroll.
	auditActor(ctx, v)
	return v, nil
}

// loginStepError presents what a login step can answer: RATE_LIMITED
// after too many failures, UNAUTHENTICATED for a wrong password or code
// or a challenge that ended.
func loginStepError(err error) error {
	switch {
	case errors.Is(err, auth.ErrLoginFailed) || errors.Is(err, auth.ErrChallengeEnded):
		return Errorf(CodeUnauthenticated, "%s", err.Error())
	case errors.Is(err, auth.ErrWrongCode):
		e := Errorf(CodeUnauthenticated, "%s", err.Error())
		e.Field = "code"
		return e
	}
	return loginError(err)
}
