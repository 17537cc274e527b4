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
// Errors answer {"detail": "..."}, the shape such scripts expect, with 401
// for a wrong username or password and 429 (and Retry-After) when limited.
func (a *Authenticator) LoginHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Username == "" || in.Password == "" {
			writeDetail(w, http.StatusBadRequest, `send JSON {"username": "...", "password": "..."}`)
			return
		}
		sess, err := a.Login(r.Context(), LoginRequest{Username: in.Username, Password: in.Password,
			Client: Client{IP: ClientIP(r), UserAgent: r.UserAgent()}})
		var v *Viewer
		if sess != nil {
			v = sess.Viewer
		}
		a.auditRESTLogin(r, in.Username, v, err)
		var limited *LoginLimitedError
		switch {
		case errors.As(err, &limited):
			w.Header().Set("Retry-After", strconv.Itoa(int(limited.RetryAfter.Seconds()+0.999)))
			writeDetail(w, http.StatusTooManyRequests, limited.Error())
			return
		case errors.Is(err, ErrLoginFailed):
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
	})
}

func writeDetail(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": detail})
}

// auditRESTLogin records a REST login as the GraphQL login is recorded (the
// GraphQL endpoint's auditor does not see this route): who, from where,
// and whether it was let in, never the password.
func (a *Authenticator) auditRESTLogin(r *http.Request, username string, v *Viewer, loginErr error) {
	ev := a.Client.AuditEvent.Create().
		SetAction("login").
		SetActorName(username).
		SetTargetType("REST").
		SetChanges(map[string]string{"username": username}).
		SetClientIP(ClientIP(r))
	switch {
	case loginErr == nil && v != nil:
		ev.SetActorType(auditevent.ActorTypeUser).SetActorID(v.UserID).SetOrganizationID(v.OrgID).SetOutcome(auditevent.OutcomeSuccess)
	case errors.Is(loginErr, ErrLoginFailed) || errors.Is(loginErr, ErrPasswordLoginOff) || errors.As(loginErr, new(*LoginLimitedError)):
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeDenied).SetError(loginErr.Error())
	default:
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeError).SetError("internal error")
	}
	if err := ev.Exec(context.WithoutCancel(r.Context())); err != nil {
		a.Log.Error("write audit event", "action", "login", "err", err)
	}
}
