package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/internal/testenv"
)

// totpNow is the code of secret now, as the person's authenticator shows it.
func totpNow(t *testing.T, secret string, shift time.Duration) string {
	t.Helper()
	// A code of an earlier step, made at the very end of a step, could be
	// two steps old by the time the server checks it: wait for the next.
	if into := time.Since(time.Now().Truncate(30 * time.Second)); shift < 0 && into > 28*time.Second {
		time.Sleep(30*time.Second - into + 100*time.Millisecond)
	}
	c, err := auth.TOTPCode(secret, time.Now().Add(shift))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// turnOnTwoFactor enrolls and confirms the user's two-factor directly,
// returning the secret and the recovery codes. The confirming code is of
// the previous step, so that the current one is still unused.
func (h *harness) turnOnTwoFactor(t *testing.T, userID int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	v := &auth.Viewer{UserID: userID}
	e, err := h.auth.EnrollTwoFactor(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := h.auth.ConfirmTwoFactor(ctx, v, totpNow(t, e.Secret, -30*time.Second), "")
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret, codes
}

const loginQuery = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token twoFactorChallenge twoFactorChallengeExpiresAt } }`
const codeQuery = `mutation($c: String!, $code: String!) { loginTwoFactor(challenge: $c, code: $code) { token } }`

// challenge does the password step of a user with two-factor on.
func (h *harness) challenge(t *testing.T, username, password string) string {
	t.Helper()
	res := h.do("", loginQuery, map[string]any{"u": username, "p": password}).ok(t)
	if res.get("login.token") != nil || res.str("login.twoFactorChallenge") == "" {
		t.Fatalf("the password alone answered %s; want a challenge and no token", res.raw)
	}
	return res.str("login.twoFactorChallenge")
}

// TestTwoFactorLogin: a person turns on two-factor; from then on the
// password alone starts no session, over GraphQL or REST; wrong codes are
// refused, audited and throttled; the right code or a recovery code (once)
// logs in.
func TestTwoFactorLogin(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		mia := h.creds[member]
		res := h.do(mia, `mutation { enrollTwoFactor { secret uri } }`, nil).ok(t)
		secret, uri := res.str("enrollTwoFactor.secret"), res.str("enrollTwoFactor.uri")
		if len(secret) != 32 || !strings.HasPrefix(uri, "otpauth://totp/Sluice:mia?") || !strings.Contains(uri, "secret="+secret) {
			t.Fatalf("enrollment %q %q", secret, uri)
		}
		h.do(mia, `{ viewer { twoFactor { enabled pending } } }`, nil).ok(t)
		h.do(mia, `mutation { confirmTwoFactor(code: "000000") }`, nil).wantCode(t, "BAD_USER_INPUT")
		res = h.do(mia, `mutation($c: String!) { confirmTwoFactor(code: $c) }`, map[string]any{"c": totpNow(t, secret, -30*time.Second)}).ok(t)
		codes, _ := res.get("confirmTwoFactor").([]any)
		if len(codes) != 10 {
			t.Fatalf("recovery codes: %s", res.raw)
		}
		recovery := func(i int) string { return codes[i].(string) }
		res = h.do(mia, `{ viewer { twoFactor { enabled pending recoveryCodesLeft } } }`, nil).ok(t)
		if res.get("viewer.twoFactor.enabled") != true || res.get("viewer.twoFactor.pending") != false || res.num("viewer.twoFactor.recoveryCodesLeft") != 10 {
			t.Fatalf("status after confirming: %s", res.raw)
		}
		h.do(mia, `mutation { enrollTwoFactor { secret } }`, nil).wantCode(t, "CONFLICT")
		h.do(mia, `mutation { logout }`, nil).ok(t)

		// Wrong codes: refused, audited under mia, throttled like passwords.
		challenge := h.challenge(t, "mia", "member password")
		res = h.do("", codeQuery, map[string]any{"c": challenge, "code": "123456x"}).wantCode(t, "UNAUTHENTICATED")
		if res.Errors[0].Extensions["field"] != "code" {
			t.Fatalf("wrong code error names no field: %s", res.raw)
		}
		h.do("", codeQuery, map[string]any{"c": "lc_nothing", "code": totpNow(t, secret, 0)}).wantCode(t, "UNAUTHENTICATED")
		ev := h.client.AuditEvent.Query().Where(auditevent.Action("loginTwoFactor"), auditevent.OutcomeEQ(auditevent.OutcomeDenied)).
			Order(ent.Asc(auditevent.FieldID)).FirstX(context.Background())
		if ev.ActorName != "mia" || ev.ActorType != auditevent.ActorTypeUser || len(ev.Changes) != 0 {
			t.Fatalf("failed code audit event: %+v", ev)
		}
		h.auth.Logins.Max = 4 // two failures so far: the wrong confirming code and the wrong code
		h.do("", codeQuery, map[string]any{"c": challenge, "code": "654321x"}).wantCode(t, "UNAUTHENTICATED")
		h.do("", codeQuery, map[string]any{"c": challenge, "code": "111111x"}).wantCode(t, "UNAUTHENTICATED")
		h.do("", codeQuery, map[string]any{"c": challenge, "code": totpNow(t, secret, 0)}).wantCode(t, "RATE_LIMITED")
		h.auth.Logins.Max = 1000

		// The right code logs in, once.
		code := totpNow(t, secret, 0)
		res = h.do("", codeQuery, map[string]any{"c": challenge, "code": code}).ok(t)
		token := res.str("loginTwoFactor.token")
		h.do(token, `{ mySessions { id } }`, nil).ok(t)
		h.do("", codeQuery, map[string]any{"c": challenge, "code": recovery(0)}).wantCode(t, "UNAUTHENTICATED")
		h.do("", codeQuery, map[string]any{"c": h.challenge(t, "mia", "member password"), "code": code}).wantCode(t, "UNAUTHENTICATED")

		// A recovery code works once.
		h.do("", codeQuery, map[string]any{"c": h.challenge(t, "mia", "member password"), "code": recovery(0)}).ok(t)
		h.do("", codeQuery, map[string]any{"c": h.challenge(t, "mia", "member password"), "code": recovery(0)}).wantCode(t, "UNAUTHENTICATED")

		// REST follows the same rule.
		status, body := postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"username":"mia","password":"member password"}`)
		restChallenge, _ := body["two_factor_challenge"].(string)
		if status != 401 || body["access_token"] != nil || restChallenge == "" {
			t.Fatalf("REST password step = %d %v; want 401 with a challenge and no token", status, body)
		}
		status, body = postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"challenge":"`+restChallenge+`","code":"000000x"}`)
		if status != 401 || body["access_token"] != nil {
			t.Fatalf("REST wrong code = %d %v", status, body)
		}
		status, body = postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"challenge":"`+restChallenge+`","code":"`+recovery(1)+`"}`)
		restToken, _ := body["access_token"].(string)
		if status != 200 || restToken == "" {
			t.Fatalf("REST code step = %d %v", status, body)
		}
		h.do(restToken, `{ mySessions { id } }`, nil).ok(t)
		if n := h.client.AuditEvent.Query().Where(auditevent.Action("loginTwoFactor"), auditevent.TargetType("REST")).CountX(context.Background()); n != 2 {
			t.Fatalf("REST code steps audited %d times, want 2", n)
		}

		// New recovery codes replace the old; turning off needs the password and a code.
		res = h.do(token, `mutation($c: String!) { regenerateRecoveryCodes(code: $c) }`, map[string]any{"c": recovery(2)}).ok(t)
		fresh, _ := res.get("regenerateRecoveryCodes").([]any)
		if len(fresh) != 10 {
			t.Fatalf("regenerated: %s", res.raw)
		}
		h.do(token, `mutation($c: String!) { disableTwoFactor(password: "member password", code: $c) }`, map[string]any{"c": recovery(3)}).wantCode(t, "BAD_USER_INPUT")
		h.do(token, `mutation($c: String!) { disableTwoFactor(password: "wrong password", code: $c) }`, map[string]any{"c": fresh[0]}).wantCode(t, "BAD_USER_INPUT")
		h.do(token, `mutation($c: String!) { disableTwoFactor(password: "member password", code: $c) }`, map[string]any{"c": fresh[0]}).ok(t)
		res = h.do("", loginQuery, map[string]any{"u": "mia", "p": "member password"}).ok(t)
		if res.str("login.token") == "" {
			t.Fatalf("login after turning two-factor off: %s", res.raw)
		}
		for _, action := range []string{"confirmTwoFactor", "regenerateRecoveryCodes", "disableTwoFactor"} {
			ev := h.client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.OutcomeEQ(auditevent.OutcomeSuccess)).OnlyX(context.Background())
			if ev.ActorName != "mia" || ev.TargetType != "User" || ev.Changes["code"] != "" || ev.Changes["password"] != "" {
				t.Fatalf("%s audit event: %+v", action, ev)
			}
		}
	})
}

// TestTwoFactorEnforcement: an organization requiring two-factor limits
// its members without it to enrolling until they turn it on; only an
// admin with two-factor on may require it; management keys are not
// limited.
func TestTwoFactorEnforcement(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		const require = `mutation($r: Boolean!) { setRequireTwoFactor(required: $r) { requireTwoFactor } }`
		h.as(admin, require, map[string]any{"r": true}).wantCode(t, "CONFLICT")
		h.turnOnTwoFactor(t, h.userID("admin"))
		res := h.as(admin, require, map[string]any{"r": true}).ok(t)
		if res.get("setRequireTwoFactor.requireTwoFactor") != true {
			t.Fatalf("require: %s", res.raw)
		}
		ev := h.client.AuditEvent.Query().Where(auditevent.Action("setRequireTwoFactor")).Order(ent.Desc(auditevent.FieldID)).FirstX(context.Background())
		if ev.Outcome != auditevent.OutcomeSuccess || ev.Changes["required"] != "true" || ev.ActorName != "admin" {
			t.Fatalf("enforcement audit event: %+v", ev)
		}

		// mia's login of before, and a new one, may only enroll.
		newLogin := h.login("mia", "member password")
		for _, cred := range []string{h.creds[member], newLogin} {
			res := h.do(cred, `{ members { username } }`, nil).wantCode(t, "TWO_FACTOR_REQUIRED")
			if !strings.Contains(res.Errors[0].Message, "requires two-factor") {
				t.Fatalf("the refusal does not say why: %s", res.raw)
			}
			h.do(cred, `mutation { createInvitation(role: member) { token } }`, nil).wantCode(t, "TWO_FACTOR_REQUIRED")
			h.do(cred, `{ mySessions { id } }`, nil).wantCode(t, "TWO_FACTOR_REQUIRED")
			res = h.do(cred, `{ viewer { username mustEnrollTwoFactor twoFactor { enabled requiredByOrganization } } }`, nil).ok(t)
			if res.get("viewer.mustEnrollTwoFactor") != true || res.get("viewer.twoFactor.requiredByOrganization") != true {
				t.Fatalf("viewer of a login that must enroll: %s", res.raw)
			}
		}
		// Such a login may end itself.
		h.do(h.creds[member], `mutation { logout }`, nil).ok(t)
		h.do(h.creds[member], `{ members { username } }`, nil).wantCode(t, "UNAUTHENTICATED")
		// Management keys are not people: not limited.
		h.as(mgmtKey, `{ members { username } }`, nil).ok(t)
		res = h.as(mgmtKey, `{ viewer { mustEnrollTwoFactor } }`, nil).ok(t)
		if res.get("viewer.mustEnrollTwoFactor") != false {
			t.Fatalf("management key viewer: %s", res.raw)
		}
		// The other organization does not require it.
		h.as(otherOrg, `{ members { username } }`, nil).ok(t)

		res = h.do(newLogin, `mutation { enrollTwoFactor { secret } }`, nil).ok(t)
		secret := res.str("enrollTwoFactor.secret")
		h.do(newLogin, `mutation($c: String!) { confirmTwoFactor(code: $c) }`, map[string]any{"c": totpNow(t, secret, 0)}).ok(t)
		h.do(newLogin, `{ members { username } }`, nil).ok(t)
		ev = h.client.AuditEvent.Query().Where(auditevent.Action("confirmTwoFactor")).OnlyX(context.Background())
		if ev.ActorName != "mia" || ev.Outcome != auditevent.OutcomeSuccess {
			t.Fatalf("confirm audit event of a login that had to enroll: %+v", ev)
		}

		// An admin resets mia's two-factor (a lost phone): she is back to enrolling.
		miaID := h.userID("mia")
		reset := `mutation($id: ID!) { resetTwoFactor(userId: $id) }`
		h.do(newLogin, reset, map[string]any{"id": miaID}).wantCode(t, "FORBIDDEN")
		h.as(otherOrg, reset, map[string]any{"id": miaID}).wantCode(t, "NOT_FOUND")
		h.as(admin, reset, map[string]any{"id": h.userID("admin")}).wantCode(t, "FORBIDDEN")
		h.as(admin, reset, map[string]any{"id": miaID}).ok(t)
		h.as(admin, reset, map[string]any{"id": miaID}).wantCode(t, "CONFLICT")
		h.do(newLogin, `{ members { username } }`, nil).wantCode(t, "TWO_FACTOR_REQUIRED")
		res = h.as(admin, `{ members { username twoFactorEnabled } }`, nil).ok(t)
		for _, m := range res.get("members").([]any) {
			m := m.(map[string]any)
			if want := m["username"] == "admin"; m["twoFactorEnabled"] != want {
				t.Fatalf("members' two-factor: %s", res.raw)
			}
		}
		ev = h.client.AuditEvent.Query().Where(auditevent.Action("resetTwoFactor"), auditevent.OutcomeEQ(auditevent.OutcomeSuccess)).OnlyX(context.Background())
		if ev.ActorName != "admin" || ev.TargetName != "mia" {
			t.Fatalf("reset audit event: %+v", ev)
		}
		// Lifting the requirement frees her login.
		h.as(admin, require, map[string]any{"r": false}).ok(t)
		h.do(newLogin, `{ members { username } }`, nil).ok(t)
	})
}
