package main

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
)

// TestTwoReplicasEndSessions: a login token ended through one replica
// (logout, endAllSessions, a password change) is refused by the other
// within a second, because every admin request reads its session.
func TestTwoReplicasEndSessions(t *testing.T) {
	target := testenv.Target(t, "postgres")
	env := map[string]string{"DATABASE_URL": target.DSN, "SLUICE_MASTER_KEY": testMasterKey, "SLUICE_JWT_SECRET": testJWT, "SLUICE_ADMIN_PASSWORD": "pw-sessions-1"}
	a := startProcess(t, env)
	b := startProcess(t, env)
	login := func(base, password string) string {
		data := gql(t, base, "", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`, map[string]any{"p": password})
		return dig(data, "login", "token").(string)
	}
	// refusedWithin polls replica b until it refuses token, failing after a second.
	refusedWithin := func(token, after string) {
		t.Helper()
		start := time.Now()
		for {
			if viewerCode(t, b.base, token) == "UNAUTHENTICATED" {
				t.Logf("%s: refused by the other replica after %v", after, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Since(start) > time.Second {
				t.Fatalf("%s through one replica: the other still accepts the token after a second", after)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	token := login(a.base, "pw-sessions-1")
	if code := viewerCode(t, b.base, token); code != "" {
		t.Fatalf("a token from one replica is refused by the other: %s", code)
	}
	gql(t, a.base, token, `mutation { logout }`, nil)
	refusedWithin(token, "logout")

	token = login(b.base, "pw-sessions-1")
	gql(t, a.base, token, `mutation { endAllSessions }`, nil)
	refusedWithin(token, "endAllSessions")

	token = login(a.base, "pw-sessions-1")
	other := login(b.base, "pw-sessions-1")
	fresh := dig(gql(t, a.base, token, `mutation { changePassword(current: "pw-sessions-1", new: "pw-sessions-2-long") { token } }`, nil),
		"changePassword", "token").(string)
	refusedWithin(token, "changePassword")
	refusedWithin(other, "changePassword")
	if code := viewerCode(t, b.base, fresh); code != "" {
		t.Fatalf("the token changePassword returned is refused by the other replica: %s", code)
	}
}

// viewerCode asks base for the caller's services with token and returns
// the error code, "" when the token is accepted.
func viewerCode(t *testing.T, base, token string) string {
	t.Helper()
	return gqlCode(t, base, token, `{ services { totalCount } }`, nil)
}

// gqlCode runs a GraphQL operation on base with token (none when empty)
// and returns the first error's code, "" when there is none.
func gqlCode(t *testing.T, base, token, query string, vars map[string]any) string {
	t.Helper()
	_, errs, _ := gqlPost(t, base, token, query, vars)
	if len(errs) == 0 {
		return ""
	}
	return errs[0].Extensions.Code
}
