package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/usererr"
)

// LoginHandler serves the REST login for scripts:
// POST {"username","password"} → {"access_token","token_type":"bearer","expires_in"}.
// For a user with two-factor on, the password step answers 401 with
// {"detail","two_factor_challenge","expires_in"}, and a second POST
// {"challenge","code"} (a code from the authenticator app or a recovery
// code) answers the token. Errors answer {"detail": "..."}, the shape such
// scripts expect, with 401 for a wrong username, password or code and 429
// (and Retry-After) when limited.
func (a *Authenticator) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Username  string `json:"username"`
			Password  string `json:"password"`
			Challenge string `json:"challenge"`
			Code      string `json:"code"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		err := json.NewDecoder(r.Body).Decode(&in)
		switch {
		case err == nil && in.Challenge != "" && in.Code != "":
			a.serveCodeStep(w, r, CodeRequest{Challenge: in.Challenge, Code: in.Code, Client: Client{IP: ClientIP(r), UserAgent: r.UserAgent()}})
		case err == nil && in.Username != "" && in.Password != "":
			a.servePasswordStep(w, r, LoginRequest{Username: in.Username, Password: in.Password,
				Client: Client{IP: ClientIP(r), UserAgent: r.UserAgent()}})
		default:
			writeDetail(w, http.StatusBadRequest, `send JSON {"username": "...", "password": "..."}, or {"challenge": "...", "code": "..."} for the two-factor step`)
		}
	})
}

func (a *Authenticator) servePasswordStep(w http.ResponseWriter, r *http.Request, req LoginRequest) {
	sess, challenge, err := a.Login(r.Context(), req)
	a.auditRESTLogin(r, "login", req.Username, sess, err)
	if err == nil && challenge != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"detail":               `two-factor code needed: POST {"challenge": two_factor_challenge, "code": "..."} to this URL`,
			"two_factor_challenge": challenge.Token,
			"expires_in":           int(challenge.Expires.Sub(a.now()).Seconds()),
		})
		return
	}
	a.writeLogin(w, r, sess, err)
}

func (a *Authenticator) serveCodeStep(w http.ResponseWriter, r *http.Request, req CodeRequest) {
	sess, u, err := a.LoginWithCode(r.Context(), req)
	name := ""
	if u != nil {
		name = u.Username
	}
	a.auditRESTLogin(r, "loginTwoFactor", name, sess, err)
	a.writeLogin(w, r, sess, err)
}

// writeLogin answers a login step: the token, or why not.
func (a *Authenticator) writeLogin(w http.ResponseWriter, r *http.Request, sess *Session, err error) {
	var limited *LoginLimitedError
	switch {
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds()+0.999)))
		writeDetail(w, http.StatusTooManyRequests, limited.Error())
		return
	case errors.Is(err, ErrLoginFailed) || errors.Is(err, ErrWrongCode) || errors.Is(err, ErrChallengeEnded):
		writeDetail(w, http.StatusUnauthorized, err.Error())
		return
	case errors.As(err, new(*usererr.Error)):
		writeDetail(w, http.StatusForbidden, err.Error())
		return
	case err != nil:
		a.Log.ErrorContext(r.Context(), "login failed", "err", err)
		writeDetail(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": sess.Token,
		"token_type":   "bearer",
		"expires_in":   int(sess.Expires.Sub(a.now()).Seconds()),
	})
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// auditRESTLogin records a REST login step (action login or
// loginTwoFactor) as the GraphQL login is recorded (the GraphQL endpoint's
// auditor does not see this route): who, from where, and whether it was
// let in, never the password or the code. A right password that still
// needs a code is a success without a session.
func (a *Authenticator) auditRESTLogin(r *http.Request, action, username string, sess *Session, loginErr error) {
	ev := a.Client.AuditEvent.Create().
		SetAction(action).
		SetActorName(username).
		SetTargetType("REST").
		SetChanges(map[string]string{"username": username}).
		SetClientIP(ClientIP(r))
	switch {
	case loginErr == nil && sess != nil:
		v := sess.Viewer
		ev.SetActorType(auditevent.ActorTypeUser).SetActorID(v.UserID).SetOrganizationID(v.OrgID).SetOutcome(auditevent.OutcomeSuccess)
	case loginErr == nil:
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeSuccess)
	case errors.Is(loginErr, ErrLoginFailed) || errors.Is(loginErr, ErrPasswordLoginOff) || errors.Is(loginErr, ErrWrongCode) ||
		errors.Is(loginErr, ErrChallengeEnded) || errors.As(loginErr, new(*LoginLimitedError)):
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeDenied).SetError(loginErr.Error())
	default:
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeError).SetError("internal error")
	}
	if err := ev.Exec(context.WithoutCancel(r.Context())); err != nil {
		a.Log.Error("write audit event", "action", action, "err", err)
	}
}
