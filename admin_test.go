package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/loginchallenge"
	"github.com/sluicehq/sluice/ent/recoverycode"
	"github.com/sluicehq/sluice/ent/session"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestAdminResetTwoFactor: `admin reset-two-factor` turns off a user's
// two-factor, deletes the recovery codes and pending login steps, ends the
// user's sessions and audits it in each of the user's organizations; the
// password alone then logs in.
func TestAdminResetTwoFactor(t *testing.T) {
	testenv.EachDialect(t, func(t *testing.T, d string) {
		ctx := context.Background()
		const password = "pw-reset-two-factor"
		target := testenv.Target(t, d)
		getenv := env("DATABASE_URL", testenv.URL(target), "SLUICE_ADMIN_PASSWORD", password,
			"SLUICE_MASTER_KEY", "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=", "SLUICE_JWT_SECRET", "admin-jwt-secret-admin-jwt-secret-0")
		base, _ := startBinary(t, getenv)
		token := dig(gql(t, base, "", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`,
			map[string]any{"p": password}), "login", "token").(string)
		var out bytes.Buffer
		if code := run(ctx, []string{"admin", "create-organization", "--name", "Acme", "--username", "admin"}, getenv, &out, &out); code != 0 {
			t.Fatalf("create-organization: exit %d, %s", code, out.String())
		}

		db, err := database.Open(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		u := db.Client.User.Query().Where(user.Username("admin")).OnlyX(ctx)
		now := time.Now().UTC()
		db.Client.User.UpdateOne(u).SetTotpCiphertext([]byte("sealed secret")).SetTotpKeyID("k1").SetTotpEnabledAt(now).ExecX(ctx)
		db.Client.RecoveryCode.Create().SetUserID(u.ID).SetCodeHash(strings.Repeat("a", 64)).ExecX(ctx)
		db.Client.LoginChallenge.Create().SetUserID(u.ID).SetTokenHash(strings.Repeat("b", 64)).SetExpiresAt(now.Add(time.Minute)).ExecX(ctx)

		out.Reset()
		if code := run(ctx, []string{"admin", "reset-two-factor", "--username", "admin"}, getenv, &out, io.Discard); code != 0 ||
			!strings.Contains(out.String(), `two-factor of "admin" turned off`) {
			t.Fatalf("reset-two-factor: exit %d, %s", code, out.String())
		}
		u = db.Client.User.GetX(ctx, u.ID)
		if u.TotpEnabledAt != nil || (u.TotpCiphertext != nil && len(*u.TotpCiphertext) > 0) {
			t.Fatalf("two-factor still on after the reset: %+v", u)
		}
		if n := db.Client.RecoveryCode.Query().Where(recoverycode.UserID(u.ID)).CountX(ctx); n != 0 {
			t.Errorf("%d recovery codes left", n)
		}
		if n := db.Client.LoginChallenge.Query().Where(loginchallenge.UserID(u.ID)).CountX(ctx); n != 0 {
			t.Errorf("%d login challenges left", n)
		}
		if n := db.Client.Session.Query().Where(session.UserID(u.ID), session.EndedAtIsNil()).CountX(ctx); n != 0 {
			t.Errorf("%d sessions still open", n)
		}
		if code := gqlCode(t, base, token, `{ services { totalCount } }`, nil); code != "UNAUTHENTICATED" {
			t.Errorf("the login from before the reset answers %q, want UNAUTHENTICATED", code)
		}
		evs := db.Client.AuditEvent.Query().Where(auditevent.Action("resetTwoFactor")).AllX(ctx)
		if len(evs) != 2 {
			t.Fatalf("%d resetTwoFactor audit events, want one per organization (2)", len(evs))
		}
		for _, ev := range evs {
			if ev.ActorType != auditevent.ActorTypeSystem || ev.ActorName != "command line" || ev.TargetName != "admin" ||
				ev.OrganizationID == nil || ev.Outcome != auditevent.OutcomeSuccess {
				t.Errorf("audit event: %+v", ev)
			}
		}
		res := gql(t, base, "", `mutation($p: String!) { login(username: "admin", password: $p) { token twoFactorChallenge } }`,
			map[string]any{"p": password})
		if dig(res, "login", "token") == nil || dig(res, "login", "twoFactorChallenge") != nil {
			t.Errorf("login after the reset: %v", res)
		}

		for _, c := range []struct{ username, want string }{
			{"admin", "has no two-factor to reset"},
			{"nobody", `no user named "nobody"`},
		} {
			var stderr bytes.Buffer
			if code := run(ctx, []string{"admin", "reset-two-factor", "--username", c.username}, getenv, io.Discard, &stderr); code != 1 ||
				!strings.Contains(stderr.String(), c.want) {
				t.Errorf("reset-two-factor %s: exit %d, %s", c.username, code, stderr.String())
			}
		}
	})
}
