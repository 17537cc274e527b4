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
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/livefeed"
)

const whoAmI = `{ viewer { username organization { name } } }`

// refused fails unless token no longer authenticates.
func refused(t *testing.T, h *harness, token, after string) {
	t.Helper()
	res := h.do(token, whoAmI, nil)
	if res.code() != "UNAUTHENTICATED" && res.get("viewer") != nil {
		t.Fatalf("after %s the old token still works: %s", after, res.raw)
	}
	res = h.do(token, `{ services { totalCount } }`, nil).wantCode(t, "UNAUTHENTICATED")
	if !strings.Contains(res.Errors[0].Message, "log in again") {
		t.Fatalf("after %s the refusal does not say to log in again: %s", after, res.raw)
	}
}

// TestSessionsEnd: logout, endAllSessions, a password change and an
// admin's reset each make the old token refused; mySessions lists the
// live ones and marks the caller's.
func TestSessionsEnd(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		if err := auth.CreateUser(ctx, h.client, "sam", "sam's first password", h.org.ID, auth.RoleMember); err != nil {
			t.Fatal(err)
		}

		// A login deletes the rows of sessions long expired.
		old := h.client.Session.Create().SetUserID(h.userID("sam")).SetOrganizationID(h.org.ID).
			SetExpiresAt(time.Now().Add(-8 * 24 * time.Hour)).SaveX(ctx)

		// logout ends this session only.
		one, two := h.login("sam", "sam's first password"), h.login("sam", "sam's first password")
		res := h.do(one, `{ mySessions { id current userAgent } }`, nil).ok(t)
		if n := len(res.get("mySessions").([]any)); n != 2 || res.get("mySessions.0.current") != false || res.get("mySessions.1.current") != true {
			t.Fatalf("mySessions = %s, want two, the older one current", res.raw)
		}
		if _, err := h.client.Session.Get(ctx, old.ID); !ent.IsNotFound(err) {
			t.Fatalf("a session expired 8 days ago outlived a login: %v", err)
		}
		h.do(one, `mutation { logout }`, nil).ok(t)
		refused(t, h, one, "logout")
		h.do(two, whoAmI, nil).ok(t)

		// endAllSessions ends every one, this one included.
		three := h.login("sam", "sam's first password")
		if n := h.do(two, `mutation { endAllSessions }`, nil).ok(t).num("endAllSessions"); n != 2 {
			t.Fatalf("endAllSessions ended %v sessions, want 2", n)
		}
		refused(t, h, two, "endAllSessions")
		refused(t, h, three, "endAllSessions")

		// changePassword: a wrong current password is refused at its field,
		// the right one ends the other sessions and returns a new login.
		four, five := h.login("sam", "sam's first password"), h.login("sam", "sam's first password")
		change := `mutation($c: String!, $n: String!) { changePassword(current: $c, new: $n) { token } }`
		res = h.do(four, change, map[string]any{"c": "wrong", "n": "sam's second password"}).wantCode(t, "BAD_USER_INPUT")
		if res.Errors[0].Extensions["field"] != "current" {
			t.Fatalf("wrong current password: %s", res.raw)
		}
		res = h.do(four, change, map[string]any{"c": "sam's first password", "n": "short"}).wantCode(t, "BAD_USER_INPUT")
		if res.Errors[0].Extensions["field"] != "new" {
			t.Fatalf("short new password: %s", res.raw)
		}
		six := h.do(four, change, map[string]any{"c": "sam's first password", "n": "sam's second password"}).ok(t).str("changePassword.token")
		refused(t, h, four, "changePassword")
		refused(t, h, five, "changePassword")
		if h.do(six, whoAmI, nil).ok(t).str("viewer.username") != "sam" {
			t.Fatal("the token changePassword returned does not work")
		}
		h.do("", `mutation { login(username: "sam", password: "sam's first password") { token } }`, nil).wantCode(t, "UNAUTHENTICATED")

		// resetPassword by an admin ends sam's sessions; the password it
		// shows once works.
		sam := h.client.User.Query().AllX(ctx)
		var samID int
		for _, u := range sam {
			if u.Username == "sam" {
				samID = u.ID
			}
		}
		res = h.as(admin, `mutation($id: ID!) { resetPassword(userId: $id) { username password } }`, map[string]any{"id": samID}).ok(t)
		refused(t, h, six, "resetPassword")
		if res.str("resetPassword.username") != "sam" {
			t.Fatalf("resetPassword = %s", res.raw)
		}
		h.login("sam", res.str("resetPassword.password"))
		// The audit log has the reset, naming whom, never the password.
		ev := h.client.AuditEvent.Query().Where(auditevent.Action("resetPassword")).OnlyX(ctx)
		if ev.TargetName != "sam" || ev.ActorName != "admin" || ev.ClientIP == "" {
			t.Fatalf("resetPassword audit event: %+v", ev)
		}
		ev = h.client.AuditEvent.Query().Where(auditevent.Action("changePassword"), auditevent.OutcomeEQ(auditevent.OutcomeSuccess)).OnlyX(ctx)
		if ev.Changes["new"] != "changed" || len(ev.Changes) != 1 {
			t.Fatalf("changePassword audit changes = %v, want the new password as changed and nothing else", ev.Changes)
		}
		// The other organization's admin cannot reset sam, nor see that sam exists.
		h.as(otherOrg, `mutation($id: ID!) { resetPassword(userId: $id) { password } }`, map[string]any{"id": samID}).wantCode(t, "NOT_FOUND")
	})
}

// TestOrganizationsAndInvitations: an instance admin makes an
// organization, its admin invites a person by a one-time token, the person
// sets a password and sees only that organization; roles change, the last
// admin stays, a removed member's token is refused, a person in two
// organizations switches, and an organization with services cannot be
// deleted.
func TestOrganizationsAndInvitations(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		makeFixtures(t, h) // a service in the default organization

		res := h.as(admin, `mutation { createOrganization(name: "Acme") { id name } }`, nil).ok(t)
		acme := res.id("createOrganization.id")
		h.as(admin, `mutation { createOrganization(name: " ") { id } }`, nil).wantCode(t, "BAD_USER_INPUT")

		// admin belongs to two organizations now and switches to Acme.
		res = h.as(admin, `{ viewer { memberships { organization { name } role } } }`, nil).ok(t)
		if res.str("viewer.memberships.1.organization.name") != "Acme" || res.str("viewer.memberships.1.role") != "admin" {
			t.Fatalf("memberships = %s", res.raw)
		}
		old := h.login("admin", adminPassword)
		acmeAdmin := h.do(old, `mutation($id: ID!) { switchOrganization(id: $id) { token } }`, map[string]any{"id": acme}).ok(t).str("switchOrganization.token")
		refused(t, h, old, "switchOrganization")
		if res := h.do(acmeAdmin, `{ viewer { organization { name } } services { totalCount } }`, nil).ok(t); res.str("viewer.organization.name") != "Acme" || res.num("services.totalCount") != 0 {
			t.Fatalf("after the switch: %s", res.raw)
		}
		// The next login without an organization picks Acme, the last one used;
		// asking for the default organization gets it.
		if h.do(h.login("admin", adminPassword), whoAmI, nil).ok(t).str("viewer.organization.name") != "Acme" {
			t.Fatal("login did not pick the organization last used")
		}
		res = h.do("", `mutation($p: String!, $o: ID!) { login(username: "admin", password: $p, organizationId: $o) { token } }`,
			map[string]any{"p": adminPassword, "o": h.org.ID}).ok(t)
		if h.do(res.str("login.token"), whoAmI, nil).ok(t).str("viewer.organization.name") != "Default" {
			t.Fatal("login did not pick the organization asked for")
		}
		res = h.do("", `mutation($o: ID!) { login(username: "otto", password: "other password", organizationId: $o) { token } }`,
			map[string]any{"o": acme}).wantCode(t, "NOT_FOUND")
		if res.Errors[0].Extensions["field"] != "organizationId" {
			t.Fatalf("login to a foreign organization: %s", res.raw)
		}

		// Invite; the token is shown once and works once.
		res = h.do(acmeAdmin, `mutation { createInvitation(role: member, note: "for pat") { token invitation { id role note } } }`, nil).ok(t)
		token := res.str("createInvitation.token")
		if !strings.HasPrefix(token, "inv_") || res.str("createInvitation.invitation.role") != "member" {
			t.Fatalf("createInvitation = %s", res.raw)
		}
		if strings.Contains(h.do(acmeAdmin, `{ invitations { id note acceptedAt } }`, nil).ok(t).raw, token) {
			t.Fatal("the invitations list shows the token")
		}
		accept := `mutation($t: String!, $u: String, $p: String) { acceptInvitation(token: $t, username: $u, password: $p) { token } }`
		res = h.do("", accept, map[string]any{"t": token, "u": "pat", "p": "short"}).wantCode(t, "BAD_USER_INPUT")
		if res.Errors[0].Extensions["field"] != "password" {
			t.Fatalf("short password: %s", res.raw)
		}
		pat := h.do("", accept, map[string]any{"t": token, "u": "pat", "p": "pat's own password"}).ok(t).str("acceptInvitation.token")
		res = h.do(pat, `{ viewer { username role organization { name } } services { totalCount } members { username role } }`, nil).ok(t)
		if res.str("viewer.organization.name") != "Acme" || res.str("viewer.role") != "member" || res.num("services.totalCount") != 0 ||
			len(res.get("members").([]any)) != 2 {
			t.Fatalf("pat after accepting: %s", res.raw)
		}
		res = h.do("", accept, map[string]any{"t": token, "u": "pat2", "p": "pat's own password"}).wantCode(t, "BAD_USER_INPUT")
		if res.Errors[0].Extensions["field"] != "token" {
			t.Fatalf("a used token: %s", res.raw)
		}
		if h.client.User.Query().CountX(ctx) != 5 {
			t.Fatal("a refused acceptance left a user behind")
		}
		// An existing user joins by logging in first.
		token = h.do(acmeAdmin, `mutation { createInvitation(role: admin) { token } }`, nil).ok(t).str("createInvitation.token")
		mia := h.do(h.creds[member], accept, map[string]any{"t": token}).ok(t).str("acceptInvitation.token")
		if h.do(mia, `{ viewer { role organization { name } } }`, nil).ok(t).str("viewer.role") != "admin" {
			t.Fatal("mia did not join Acme as an admin")
		}

		// Roles: demote mia, then the last admin may be neither demoted nor removed.
		ids := map[string]int{}
		for _, u := range h.client.User.Query().AllX(ctx) {
			ids[u.Username] = u.ID
		}
		role := `mutation($id: ID!, $r: Role!) { updateMemberRole(userId: $id, role: $r) { username role } }`
		h.do(acmeAdmin, role, map[string]any{"id": ids["mia"], "r": "member"}).ok(t)
		res = h.do(acmeAdmin, role, map[string]any{"id": ids["admin"], "r": "member"}).wantCode(t, "CONFLICT")
		if res.Errors[0].Extensions["field"] != "userId" || !strings.Contains(res.Errors[0].Message, "last admin") {
			t.Fatalf("demoting the last admin: %s", res.raw)
		}
		h.do(acmeAdmin, `mutation($id: ID!) { removeMember(userId: $id) }`, map[string]any{"id": ids["admin"]}).wantCode(t, "CONFLICT")
		h.do(acmeAdmin, `mutation { leaveOrganization }`, nil).wantCode(t, "CONFLICT")
		// pat is a member and may not change roles.
		h.do(pat, role, map[string]any{"id": ids["pat"], "r": "admin"}).wantCode(t, "FORBIDDEN")
		// Removing pat refuses pat's token at once.
		h.do(acmeAdmin, `mutation($id: ID!) { removeMember(userId: $id) }`, map[string]any{"id": ids["pat"]}).ok(t)
		refused(t, h, pat, "removeMember")
		res = h.do("", `mutation { login(username: "pat", password: "pat's own password") { token } }`, nil).wantCode(t, "FORBIDDEN")
		if !strings.Contains(res.Errors[0].Message, "no organization") {
			t.Fatalf("login of a person in no organization: %s", res.raw)
		}
		// mia leaves Acme; her Acme session ends, her default one does not.
		h.do(mia, `mutation { leaveOrganization }`, nil).ok(t)
		refused(t, h, mia, "leaveOrganization")
		h.as(member, whoAmI, nil).ok(t)

		// An organization with services cannot be deleted; the answer names them.
		res = h.as(admin, `mutation($id: ID!) { deleteOrganization(id: $id) }`, map[string]any{"id": h.org.ID}).wantCode(t, "CONFLICT")
		other := h.client.Service.Create().SetOrganizationID(acme).SetServiceName("acme-chat").SetProvider("openai").SaveX(ctx)
		res = h.as(admin, `mutation($id: ID!) { deleteOrganization(id: $id) }`, map[string]any{"id": acme}).wantCode(t, "CONFLICT")
		if !strings.Contains(res.Errors[0].Message, "acme-chat") {
			t.Fatalf("deleting an organization with services: %s", res.raw)
		}
		h.client.Service.DeleteOne(other).ExecX(ctx)
		h.as(admin, `mutation($id: ID!) { renameOrganization(id: $id, name: "Acme Inc") { name } }`, map[string]any{"id": acme}).ok(t)
		h.as(admin, `mutation($id: ID!) { deleteOrganization(id: $id) }`, map[string]any{"id": acme}).ok(t)
		refused(t, h, acmeAdmin, "deleteOrganization")
		if n := h.client.Membership.Query().CountX(ctx); n != 4 { // admin, mia, otto, the fixtures' user
			t.Fatalf("%d memberships after deleting Acme, want 4", n)
		}

		// Every change is audited with who, from where and to whom.
		evs := h.client.AuditEvent.Query().Where(auditevent.ActionIn("createInvitation", "acceptInvitation", "updateMemberRole", "removeMember", "deleteOrganization")).
			Order(ent.Asc(auditevent.FieldID)).AllX(ctx)
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.ClientIP == "" || ev.ActorName == "" {
				t.Fatalf("audit event without who or where: %+v", ev)
			}
			if strings.Contains(ev.Changes["token"]+ev.Changes["password"], "inv_") || ev.Changes["password"] == "pat's own password" {
				t.Fatalf("audit event records a secret: %v", ev.Changes)
			}
			seen[ev.Action+"/"+ev.TargetName] = true
		}
		for _, want := range []string{"updateMemberRole/mia", "removeMember/pat"} {
			if !seen[want] {
				t.Errorf("no audit event %s in %v", want, seen)
			}
		}
	})
}

// TestLogoutEndsSubscriptionsAtOnce: a subscription of a login that ends
// is ended by the change feed's signal, long before its periodic check.
func TestLogoutEndsSubscriptionsAtOnce(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarnessWith(t, db, graph.Options{Introspection: true, Websocket: graph.WebsocketOptions{Recheck: time.Hour}})
		token := h.login("mia", "member password")
		c, err := h.subscribe(token, usageSubscription, nil)
		if err != nil {
			t.Fatal(err)
		}
		publish := func() { h.feed.PublishUsage(livefeed.UsageEvent{RequestID: "live", OrgID: h.org.ID}) }
		if msg := c.until(publish); msg["type"] != "next" {
			t.Fatalf("before logout: %v", msg)
		}
		h.do(token, `mutation { logout }`, nil).ok(t)
		start := time.Now()
		for time.Since(start) < time.Second {
			publish()
			if m, ok := c.readWithin(50 * time.Millisecond); ok && m["type"] != "next" {
				if m["type"] != "error" || !strings.Contains(string(mustJSON(m)), "UNAUTHENTICATED") {
					t.Fatalf("the subscription ended with %s", mustJSON(m))
				}
				return
			}
		}
		t.Fatal("the subscription of a logged-out session still runs a second later")
	})
}
