package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/session"
)

// handoffTTL is how long the dashboard has to exchange a sign-in's
// one-time code for its token.
const handoffTTL = 60 * time.Second

// startHandoff gives the new session a one-time code, of which the session
// row keeps only the hash, and returns it for the handoff cookie.
func (o *OIDC) startHandoff(ctx context.Context, s *Session) (string, error) {
	code := randomString()
	if err := o.auth.Client.Session.UpdateOneID(s.Viewer.SessionID).SetHandoffHash(hashToken(code)).Exec(ctx); err != nil {
		return "", fmt.Errorf("store the sign-in's one-time code: %w", err)
	}
	return code, nil
}

// SessionHandler is where the dashboard, once back from the callback,
// exchanges the one-time code in its HttpOnly, SameSite=Strict cookie for
// the session's token: POST with a JSON body from the gateway's own origin
// (so neither a cross-site form nor another site's script can make it),
// at most once, within 60 seconds of the callback. The cookie is cleared
// whatever the outcome. The answer is the REST login's.
func (o *OIDC) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, o.cookie(r, handoffCookie, "", OIDCSessionPath, -1, http.SameSiteStrictMode))
		w.Header().Set("Cache-Control", "no-store")
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			writeDetail(w, http.StatusUnsupportedMediaType, "send a JSON body")
			return
		}
		if !o.sameOrigin(r) {
			writeDetail(w, http.StatusForbidden, "this request must come from the dashboard's own origin")
			return
		}
		c, err := r.Cookie(handoffCookie)
		if err != nil || c.Value == "" {
			writeDetail(w, http.StatusUnauthorized, "no single sign-on to finish; sign in again")
			return
		}
		token, exp, err := o.exchange(r.Context(), c.Value)
		if errors.Is(err, errHandoffUsed) {
			writeDetail(w, http.StatusUnauthorized, err.Error())
			return
		}
		if err != nil {
			o.auth.Log.ErrorContext(r.Context(), "exchange the single sign-on code", "err", err)
			writeDetail(w, http.StatusInternalServerError, "internal error")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": token, "token_type": "bearer",
			"expires_in": int(exp.Sub(o.auth.now()).Seconds()),
		})
	})
}

var errHandoffUsed = errors.New("this single sign-on was already finished or took longer than 60 seconds; sign in again")

// exchange claims the session of a one-time code, once: the first caller
// clears the code's hash and gets the session's token.
func (o *OIDC) exchange(ctx context.Context, code string) (string, time.Time, error) {
	h := hashToken(code)
	now := o.auth.now().UTC()
	s, err := o.auth.Client.Session.Query().
		Where(session.HandoffHash(h), session.EndedAtIsNil(), session.CreatedAtGT(now.Add(-handoffTTL)), session.ExpiresAtGT(now)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return "", time.Time{}, errHandoffUsed
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("look up the sign-in: %w", err)
	}
	n, err := o.auth.Client.Session.Update().Where(session.ID(s.ID), session.HandoffHash(h)).ClearHandoffHash().Save(ctx)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("claim the sign-in: %w", err)
	}
	if n != 1 {
		return "", time.Time{}, errHandoffUsed
	}
	token, err := o.auth.Tokens.Issue(s.UserID, s.OrganizationID, s.ID, s.ExpiresAt)
	return token, s.ExpiresAt, err
}

// sameOrigin reports whether the request's Origin is the gateway's own:
// the host it was sent to, or the redirect URL's origin.
func (o *OIDC) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	u, err := url.Parse(origin)
	if origin == "" || err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	public, err := url.Parse(o.cfg.RedirectURL)
	return err == nil && strings.EqualFold(u.Scheme, public.Scheme) && strings.EqualFold(u.Host, public.Host)
}

// auditLogin records a single sign-on as the REST login is recorded: who
// (the verified email, or the subject), from where, and whether it was let
// in. Refusals are recorded at most 30 a minute per address, so that
// callbacks without a login cannot grow the log faster.
func (o *OIDC) auditLogin(r *http.Request, who string, v *Viewer, loginErr error, code string) {
	ctx := context.WithoutCancel(r.Context())
	ip := ClientIP(r)
	if v == nil {
		if _, wait, err := o.audits.Take(ctx, "ip:"+ip); err != nil || wait > 0 {
			o.auth.Log.WarnContext(ctx, "single sign-on refusal not audited: too many from this address", "ip", ip)
			return
		}
	}
	ev := o.auth.Client.AuditEvent.Create().
		SetAction("login").SetActorName(capBytes(who, 320)).SetTargetType("SSO").SetTargetName(o.cfg.Name).
		SetChanges(map[string]string{"method": "sso"}).SetClientIP(ip)
	switch {
	case v != nil:
		ev.SetActorType(auditevent.ActorTypeUser).SetActorID(v.UserID).SetOrganizationID(v.OrgID).SetOutcome(auditevent.OutcomeSuccess)
	case code == ssoInternal || code == ssoUnavailable:
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeError).SetError(code)
	default:
		msg := code
		if loginErr != nil {
			msg = capBytes(loginErr.Error(), 500)
		}
		ev.SetActorType(auditevent.ActorTypeAnonymous).SetOutcome(auditevent.OutcomeDenied).SetError(msg)
	}
	if err := ev.Exec(ctx); err != nil {
		o.auth.Log.Error("write audit event", "action", "login", "err", err)
	}
}

// auditCreated records an account made by a first sign-in: the new user,
// as its own actor, and the organizations and role it was given.
func (o *OIDC) auditCreated(r *http.Request, u *ent.User, v *Viewer, id identity) {
	ctx := context.WithoutCancel(r.Context())
	role := RoleMember
	if id.Admin {
		role = RoleAdmin
	}
	ev := o.auth.Client.AuditEvent.Create().
		SetAction("createAccount").SetActorType(auditevent.ActorTypeUser).SetActorID(u.ID).SetActorName(u.Username).
		SetOrganizationID(v.OrgID).SetTargetType("User").SetTargetID(fmt.Sprint(u.ID)).SetTargetName(u.Username).
		SetChanges(map[string]string{"method": "sso", "role": string(role), "organizations": strings.Join(id.Organizations, ",")}).
		SetClientIP(ClientIP(r)).SetOutcome(auditevent.OutcomeSuccess)
	if err := ev.Exec(ctx); err != nil {
		o.auth.Log.Error("write audit event", "action", "createAccount", "err", err)
	}
}
