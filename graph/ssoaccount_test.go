package graph_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestViewerHasPassword: hasPassword is true for a password account, false
// for a single sign-on account without one and for a management key.
func TestViewerHasPassword(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		h.client.User.Update().Where(user.Username("mia")).SetPasswordHash("").SetEmail("mia@example.com").
			ExecX(context.Background())
		for role, want := range map[string]bool{admin: true, member: false, mgmtKey: false} {
			res := h.as(role, `{ viewer { hasPassword } }`, nil).ok(t)
			if got := res.get("viewer.hasPassword"); got != want {
				t.Errorf("%s: hasPassword = %v, want %v", role, got, want)
			}
		}
	})
}

// TestAcceptInvitationPasswordLoginOff: with password login off, an
// invitation makes no password account and takes no password: the person
// is told to sign in with single sign-on, and a signed-in person joins.
func TestAcceptInvitationPasswordLoginOff(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		h := newHarness(t, db)
		h.auth.PasswordLoginOff = true
		token := h.as(otherOrg, `mutation { createInvitation(role: member) { token } }`, nil).ok(t).str("createInvitation.token")
		users := h.client.User.Query().CountX(ctx)
		accept := `mutation($t: String!, $u: String, $p: String) { acceptInvitation(token: $t, username: $u, password: $p) { token } }`
		for _, vars := range []map[string]any{
			{"t": token, "u": "newcomer@example.com", "p": "a long new password"},
			{"t": token, "u": "mia", "p": "member password"},
		} {
			res := h.do("", accept, vars).wantCode(t, "FORBIDDEN")
			if !strings.Contains(res.Errors[0].Message, "sign in with single sign-on first") {
				t.Fatalf("acceptance as %v with password login off: %s", vars["u"], res.raw)
			}
		}
		if n := h.client.User.Query().CountX(ctx); n != users {
			t.Fatalf("users after refused acceptances = %d, want %d", n, users)
		}
		mia := h.do(h.creds[member], accept, map[string]any{"t": token}).ok(t).str("acceptInvitation.token")
		if got := h.do(mia, `{ viewer { username organization { name } } }`, nil).ok(t).str("viewer.organization.name"); got != "Other" {
			t.Fatalf("mia signed in joined %q, want Other", got)
		}
	})
}
