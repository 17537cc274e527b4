package graph_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/user"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/graph/generated"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/livefeed"
)

// ok in a matrix row means the role gets data without an error.
const ok = ""

// operation is one row of the role matrix: a GraphQL operation and what
// each role gets. Mutations run against fixtures made fresh for each role.
type operation struct {
	field string // the Query or Mutation field it exercises
	query string
	vars  func(h *harness, f fixtures) map[string]any
	want  map[string]string // role → ok or the extensions.code
}

// triggers make a subscription's first event happen, for the roles that
// may subscribe; subscriptions run over the websocket transport.
var triggers = map[string]func(h *harness, f fixtures, role string){
	"usageEvents": func(h *harness, f fixtures, role string) {
		org := h.org.ID
		if role == otherOrg {
			org = h.other.ID
		}
		h.feed.PublishUsage(livefeed.UsageEvent{OrgID: org, Model: "m"})
	},
	"providerUsageChanged": func(h *harness, f fixtures, role string) {
		h.feed.PublishRateLimits(f.credentialID)
	},
}

// fixtures are records of the default organization the matrix acts on,
// made fresh for every row and role so that mutations do not interfere.
type fixtures struct {
	serviceID, credentialID, keyID, priceID int
	// targetID routes the service to a second credential of its own.
	targetID                int
	keyName, handle, unique string
	// userID is a member of the default organization made for the row;
	// orgID an organization of its own; invitationID an open invitation
	// to the default organization and invitationToken one to the other.
	userID, orgID, invitationID int
	invitationToken             string
}

var fixtureSeq atomic.Int64

func makeFixtures(t *testing.T, h *harness) fixtures {
	t.Helper()
	ctx := context.Background()
	n := fixtureSeq.Add(1)
	f := fixtures{unique: fmt.Sprintf("x%d", n), keyName: fmt.Sprintf("key-%d", n), handle: fmt.Sprintf("std-%d", n)}
	std := h.client.APIStandard.Create().SetAPIStandardHandle(f.handle).SetDescription("d").SetKeyMethod("none").SaveX(ctx)
	_ = std
	cred := h.client.ProviderCredential.Create().SetOrganizationID(h.org.ID).SetProvider("openai").
		SetAccountKey(fmt.Sprintf("acct-%d", n)).SetDisplayName("acct").SetBaseURL("http://127.0.0.1:1/v1").SaveX(ctx)
	f.credentialID = cred.ID
	s := h.client.Service.Create().SetOrganizationID(h.org.ID).SetServiceName(fmt.Sprintf("svc-%d", n)).
		SetProvider("openai").SaveX(ctx)
	f.serviceID = s.ID
	cred2 := h.client.ProviderCredential.Create().SetOrganizationID(h.org.ID).SetProvider("openai").
		SetAccountKey(fmt.Sprintf("acct2-%d", n)).SetDisplayName("acct2").SetBaseURL("http://127.0.0.1:1/v1").SaveX(ctx)
	f.targetID = h.client.ServiceTarget.Create().SetOrganizationID(h.org.ID).SetServiceID(s.ID).SetCredentialID(cred2.ID).SaveX(ctx).ID
	k := h.client.APIKey.Create().SetOrganizationID(h.org.ID).SetServiceID(s.ID).SetName(f.keyName).
		SetKeyHash(fmt.Sprintf("hash-%d", n)).SetKeyPrefix("sk_x").SetKeyLastFour("abcd").SaveX(ctx)
	f.keyID = k.ID
	p := h.client.ModelPrice.Create().SetProvider("openai").SetModel(fmt.Sprintf("m-%d", n)).SaveX(ctx)
	f.priceID = p.ID
	u := h.client.User.Create().SetUsername("user-" + f.unique).SetPasswordHash("x").SaveX(ctx)
	h.client.Membership.Create().SetUserID(u.ID).SetOrganizationID(h.org.ID).SaveX(ctx)
	f.userID = u.ID
	org, err := auth.CreateOrganization(ctx, h.client, "org-"+f.unique, false)
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = org.ID
	inv, _, err := auth.Invite(ctx, h.client, h.org.ID, auth.RoleMember, "", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.invitationID = inv.ID
	if _, f.invitationToken, err = auth.Invite(ctx, h.client, h.other.ID, auth.RoleMember, "", time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

// freshUser marks the operations that end the caller's session or
// membership or change its password: a user role runs them as a user made
// for the row (in its role's organization, with freshPassword), so that
// the matrix's other rows keep their logins.
var freshUser = map[string]bool{
	"logout": true, "endAllSessions": true, "changePassword": true, "switchOrganization": true, "leaveOrganization": true,
	"enrollTwoFactor": true, "confirmTwoFactor": true, "regenerateRecoveryCodes": true, "disableTwoFactor": true,
}

const freshPassword = "a fresh password"

// freshCredential logs in a new user of role's organization with role's
// role, for a freshUser row; other callers keep their credentials.
func freshCredential(t *testing.T, h *harness, role, unique string) string {
	t.Helper()
	var org int
	var r auth.Role
	switch role {
	case member:
		org, r = h.org.ID, auth.RoleMember
	case admin:
		org, r = h.org.ID, auth.RoleAdmin
	case otherOrg:
		org, r = h.other.ID, auth.RoleAdmin
	default:
		return h.creds[role]
	}
	name := "fresh-" + unique
	if err := auth.CreateUser(context.Background(), h.client, name, freshPassword, org, r); err != nil {
		t.Fatal(err)
	}
	return h.login(name, freshPassword)
}

var (
	public      = map[string]string{anonymous: ok, member: ok, admin: ok, mgmtKey: ok, otherOrg: ok}
	loggedIn    = map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: ok, otherOrg: ok}
	ownOrgOnly  = map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: ok, otherOrg: "NOT_FOUND"}
	adminsRead  = map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: ok, otherOrg: ok}
	noVariables = func(*harness, fixtures) map[string]any { return nil }
	// orgWrite: admins and management keys of the organization write;
	// another organization's admin cannot even see the target.
	orgWrite = map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: ok, otherOrg: "NOT_FOUND"}
	// orgCreate: creating in one's own organization.
	orgCreate = map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: ok, otherOrg: ok}
	// instanceWrite: what all organizations share.
	instanceWrite = map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: ok, otherOrg: "FORBIDDEN"}
	// usersOnly: what a logged-in person does to their own login; a
	// management key has none.
	usersOnly = map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: "FORBIDDEN", otherOrg: ok}
	idVar     = func(pick func(fixtures) int) func(*harness, fixtures) map[string]any {
		return func(_ *harness, f fixtures) map[string]any { return map[string]any{"id": pick(f)} }
	}
	uniqueVar = func(_ *harness, f fixtures) map[string]any { return map[string]any{"u": f.unique} }
	handleVar = func(_ *harness, f fixtures) map[string]any { return map[string]any{"h": f.handle} }
)

// matrix is every operation of the API. TestMatrixCoversSchema fails when
// an operation is added to the schema but not here.
var matrix = []operation{
	{"apiStandards", `{ apiStandards { apiStandardHandle } }`, noVariables, public},
	{"apiStandard", `{ apiStandard(handle: "openai") { keyMethod } }`, noVariables, public},
	{"providers", `{ providers { name protocol } }`, noVariables, public},
	{"viewer", `{ viewer { username } }`, noVariables, public},
	{"loginOptions", `{ loginOptions { passwordLogin sso { name } } }`, noVariables, public},
	{"node", `query($id: ID!) { node(id: $id) { id } }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"id": f.serviceID}
	}, ownOrgOnly},
	{"nodes", `query($id: ID!) { nodes(ids: [$id]) { id } }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"id": h.org.ID}
	}, ownOrgOnly},
	{"apiKeys", `{ apiKeys { totalCount } }`, noVariables, loggedIn},
	{"auditEvents", `{ auditEvents { totalCount } }`, noVariables, adminsRead},
	{"modelPrices", `{ modelPrices { totalCount } }`, noVariables, loggedIn},
	{"organizations", `{ organizations { totalCount } }`, noVariables, loggedIn},
	{"providerCredentials", `{ providerCredentials { totalCount } }`, noVariables, loggedIn},
	{"services", `{ services { totalCount } }`, noVariables, loggedIn},
	{"login", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`, func(*harness, fixtures) map[string]any {
		return map[string]any{"p": adminPassword}
	}, public},
	{"providerCredential", `query($id: ID!) { providerCredential(id: $id) { id } }`, idVar(func(f fixtures) int { return f.credentialID }), ownOrgOnly},
	{"service", `query($id: ID!) { service(id: $id) { id } }`, idVar(func(f fixtures) int { return f.serviceID }), ownOrgOnly},
	{"apiKey", `query($id: ID!) { apiKey(id: $id) { id } }`, idVar(func(f fixtures) int { return f.keyID }), ownOrgOnly},
	{"projectSettings", `{ projectSettings { allowOverwrite } }`, noVariables, loggedIn},
	{"balance", `{ balance { currentBalance currency } }`, noVariables, loggedIn},

	{"createAPIStandard", `mutation($u: String!) { createAPIStandard(input: {apiStandardHandle: $u, description: "d", keyMethod: "auth_bearer", keyField: "Authorization"}) { id } }`, uniqueVar, instanceWrite},
	{"putAPIStandard", `mutation($h: String!) { putAPIStandard(handle: $h, input: {apiStandardHandle: $h, description: "new", keyMethod: "none"}) { id } }`, handleVar, instanceWrite},
	{"updateAPIStandard", `mutation($h: String!) { updateAPIStandard(handle: $h, input: {description: "new"}) { id } }`, handleVar, instanceWrite},
	{"deleteAPIStandard", `mutation($h: String!) { deleteAPIStandard(handle: $h) }`, handleVar, instanceWrite},
	{"createProviderCredential", `mutation($u: String!) { createProviderCredential(input: {provider: "openai", accountKey: $u, providerApiKey: "sk-test-1234"}) { id } }`, uniqueVar, orgCreate},
	{"updateProviderCredential", `mutation($id: ID!) { updateProviderCredential(id: $id, input: {displayName: "renamed"}) { id } }`, idVar(func(f fixtures) int { return f.credentialID }), orgWrite},
	{"deleteProviderCredential", `mutation($id: ID!) { deleteProviderCredential(id: $id) }`, idVar(func(f fixtures) int { return f.credentialID }), orgWrite},
	{"createService", `mutation($u: String!) { createService(input: {serviceName: $u, provider: "openai", modelsEnabled: ["gpt-4o-mini"], providerApiKey: "sk-test-1234"}) { id } }`, uniqueVar, orgCreate},
	{"updateService", `mutation($id: ID!) { updateService(id: $id, input: {description: "new"}) { id } }`, idVar(func(f fixtures) int { return f.serviceID }), orgWrite},
	{"deleteService", `mutation($id: ID!) { deleteService(id: $id) }`, idVar(func(f fixtures) int { return f.serviceID }), orgWrite},
	{"createAPIKey", `mutation($u: String!) { createAPIKey(input: {name: $u, isManagementKey: true}) { key } }`, uniqueVar, orgCreate},
	{"updateAPIKey", `mutation($id: ID!) { updateAPIKey(id: $id, input: {isActive: false}) { id } }`, idVar(func(f fixtures) int { return f.keyID }), orgWrite},
	{"rotateAPIKey", `mutation($id: ID!) { rotateAPIKey(id: $id) { key } }`, idVar(func(f fixtures) int { return f.keyID }), orgWrite},
	{"deleteAPIKey", `mutation($u: String!) { deleteAPIKey(name: $u) }`, func(_ *harness, f fixtures) map[string]any { return map[string]any{"u": f.keyName} }, orgWrite},
	{"createModelPrice", `mutation($u: String!) { createModelPrice(input: {provider: "openai", model: $u, inputPerMtok: 1, outputPerMtok: 2}) { id } }`, uniqueVar, instanceWrite},
	{"updateModelPrice", `mutation($id: ID!) { updateModelPrice(id: $id, input: {inputPerMtok: 3}) { id } }`, idVar(func(f fixtures) int { return f.priceID }), instanceWrite},
	{"updateProjectSettings", `mutation { updateProjectSettings(input: {allowOverwrite: false}) { allowOverwrite } }`, noVariables, orgCreate},
	{"updateOrganizationLimits", `mutation { updateOrganizationLimits(input: {limitCostDayWarn: 5, limitCostDayBlock: 10}) { limitCostDayBlock } }`, noVariables, orgCreate},
	{"addServiceTarget", `mutation($s: ID!, $c: ID!) { addServiceTarget(serviceId: $s, input: {credentialId: $c, weight: 2}) { id state { healthy } } }`,
		func(_ *harness, f fixtures) map[string]any {
			return map[string]any{"s": f.serviceID, "c": f.credentialID}
		}, orgWrite},
	{"updateServiceTarget", `mutation($id: ID!) { updateServiceTarget(id: $id, input: {weight: 3}) { weight } }`, idVar(func(f fixtures) int { return f.targetID }), orgWrite},
	{"removeServiceTarget", `mutation($id: ID!) { removeServiceTarget(id: $id) }`, idVar(func(f fixtures) int { return f.targetID }), orgWrite},
	{"reorderServiceTargets", `mutation($s: ID!, $t: ID!) { reorderServiceTargets(serviceId: $s, targetIds: [$t]) { id } }`,
		func(_ *harness, f fixtures) map[string]any { return map[string]any{"s": f.serviceID, "t": f.targetID} }, orgWrite},
	{"usage", `{ usage(bucket: DAY) { totals { requests cost } } }`, noVariables, loggedIn},
	{"usageRecords", `{ usageRecords { totalCount } }`, noVariables, loggedIn},
	{"requestBodies", `query($id: ID!) { requestBodies(usageRecordId: $id) { request } }`, func(h *harness, f fixtures) map[string]any {
		rec := h.client.UsageRecord.Create().SetRequestID("req-" + f.unique).SetOrganizationID(h.org.ID).SetServiceID(f.serviceID).
			SetAPIKeyID(f.keyID).SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("m").SetStatus(200).SaveX(context.Background())
		return map[string]any{"id": rec.ID}
	}, orgWrite},
	{"providerUsage", `query($id: ID!) { providerUsage(credentialId: $id) { reachable error } }`, idVar(func(f fixtures) int { return f.credentialID }), ownOrgOnly},
	{"testProviderCredential", `mutation { testProviderCredential(input: {provider: "custom", baseUrl: "http://127.0.0.1:1/v1", providerApiKey: "k"}) { reachable } }`, noVariables, orgCreate},
	{"usageEvents", `subscription { usageEvents { model } }`, noVariables, loggedIn},
	{"providerUsageChanged", `subscription($id: ID!) { providerUsageChanged(credentialId: $id) { reachable } }`,
		idVar(func(f fixtures) int { return f.credentialID }), ownOrgOnly},
	{"organizationSpend", `{ organizationSpend { window spent } }`, noVariables, loggedIn},
	{"organizationPace", `{ organizationPace { kind limit remaining } }`, noVariables, loggedIn},
	{"topUpBalance", `mutation { topUpBalance(amount: 10) { currentBalance } }`, noVariables, instanceWrite},
	{"updateBalance", `mutation { updateBalance(input: {enforced: false}) { enforced } }`, noVariables, instanceWrite},

	{"mySessions", `{ mySessions { id current } }`, noVariables, usersOnly},
	{"members", `{ members { userId username role } }`, noVariables, loggedIn},
	{"invitations", `{ invitations { id role } }`, noVariables, adminsRead},
	{"logout", `mutation { logout }`, noVariables, usersOnly},
	{"endAllSessions", `mutation { endAllSessions }`, noVariables, usersOnly},
	{"changePassword", `mutation($c: String!) { changePassword(current: $c, new: "another fresh password") { token } }`,
		func(*harness, fixtures) map[string]any { return map[string]any{"c": freshPassword} }, usersOnly},
	{"resetPassword", `mutation($id: ID!) { resetPassword(userId: $id) { password } }`, idVar(func(f fixtures) int { return f.userID }), orgWrite},
	// Switching to the default organization: its people may, the other's
	// admin is no member of it.
	{"switchOrganization", `mutation($id: ID!) { switchOrganization(id: $id) { token } }`,
		func(h *harness, _ fixtures) map[string]any { return map[string]any{"id": h.org.ID} },
		map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: "FORBIDDEN", otherOrg: "NOT_FOUND"}},
	// The organization's first admin is the user who creates it, so a
	// management key may not.
	{"createOrganization", `mutation($u: String!) { createOrganization(name: $u) { id } }`, uniqueVar,
		map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: "FORBIDDEN", otherOrg: "FORBIDDEN"}},
	{"renameOrganization", `mutation($id: ID!) { renameOrganization(id: $id, name: "renamed") { name } }`, idVar(func(f fixtures) int { return f.orgID }), instanceWrite},
	{"deleteOrganization", `mutation($id: ID!) { deleteOrganization(id: $id) }`, idVar(func(f fixtures) int { return f.orgID }), instanceWrite},
	{"createInvitation", `mutation { createInvitation(role: member, note: "for someone") { token invitation { id } } }`, noVariables, orgCreate},
	{"revokeInvitation", `mutation($id: ID!) { revokeInvitation(id: $id) }`, idVar(func(f fixtures) int { return f.invitationID }), orgWrite},
	// The invitation is to the other organization: a logged-in person
	// joins it, a management key's request creates a new user, and the
	// other organization's admin is a member already.
	{"acceptInvitation", `mutation($t: String!, $u: String!) { acceptInvitation(token: $t, username: $u, password: "a new password") { token } }`,
		func(_ *harness, f fixtures) map[string]any {
			return map[string]any{"t": f.invitationToken, "u": "invitee-" + f.unique}
		}, map[string]string{anonymous: ok, member: ok, admin: ok, mgmtKey: ok, otherOrg: "CONFLICT"}},
	{"updateMemberRole", `mutation($id: ID!) { updateMemberRole(userId: $id, role: admin) { role } }`, idVar(func(f fixtures) int { return f.userID }), orgWrite},
	{"removeMember", `mutation($id: ID!) { removeMember(userId: $id) }`, idVar(func(f fixtures) int { return f.userID }), orgWrite},
	{"leaveOrganization", `mutation { leaveOrganization }`, noVariables, usersOnly},

	// Completing a login needs no credential: the challenge is one.
	{"loginTwoFactor", `mutation($c: String!, $code: String!) { loginTwoFactor(challenge: $c, code: $code) { token } }`,
		func(h *harness, f fixtures) map[string]any {
			name := "tf-" + f.unique
			if err := auth.CreateUser(context.Background(), h.client, name, freshPassword, h.org.ID, auth.RoleMember); err != nil {
				h.t.Fatal(err)
			}
			_, codes := h.turnOnTwoFactor(h.t, h.userID(name))
			return map[string]any{"c": h.challenge(h.t, name, freshPassword), "code": codes[0]}
		}, public},
	{"enrollTwoFactor", `mutation { enrollTwoFactor { secret uri } }`, noVariables, usersOnly},
	{"confirmTwoFactor", `mutation($c: String!) { confirmTwoFactor(code: $c) }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"c": freshEnrollment(h, f)}
	}, usersOnly},
	{"regenerateRecoveryCodes", `mutation($c: String!) { regenerateRecoveryCodes(code: $c) }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"c": freshRecoveryCode(h, f)}
	}, usersOnly},
	{"disableTwoFactor", `mutation($p: String!, $c: String!) { disableTwoFactor(password: $p, code: $c) }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"p": freshPassword, "c": freshRecoveryCode(h, f)}
	}, usersOnly},
	{"resetTwoFactor", `mutation($id: ID!) { resetTwoFactor(userId: $id) }`, func(h *harness, f fixtures) map[string]any {
		h.turnOnTwoFactor(h.t, f.userID)
		return map[string]any{"id": f.userID}
	}, orgWrite},
	{"setRequireTwoFactor", `mutation { setRequireTwoFactor(required: false) { requireTwoFactor } }`, noVariables, orgCreate},
}

// freshEnrollment enrolls the row's fresh user (see freshUser), when the
// role has one, and returns a code of the secret: "000000" otherwise.
func freshEnrollment(h *harness, f fixtures) string {
	u, err := h.client.User.Query().Where(user.Username("fresh-" + f.unique)).Only(context.Background())
	if ent.IsNotFound(err) {
		return "000000"
	}
	e, err := h.auth.EnrollTwoFactor(context.Background(), &auth.Viewer{UserID: u.ID})
	if err != nil {
		h.t.Fatal(err)
	}
	return totpNow(h.t, e.Secret, 0)
}

// freshRecoveryCode turns on two-factor for the row's fresh user, when
// the role has one, and returns a recovery code: "000000" otherwise.
func freshRecoveryCode(h *harness, f fixtures) string {
	u, err := h.client.User.Query().Where(user.Username("fresh-" + f.unique)).Only(context.Background())
	if ent.IsNotFound(err) {
		return "000000"
	}
	_, codes := h.turnOnTwoFactor(h.t, u.ID)
	return codes[0]
}

// TestRoleMatrix runs every operation as every role, on both dialects.
func TestRoleMatrix(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		for _, op := range matrix {
			for _, role := range roles {
				t.Run(op.field+"/"+role, func(t *testing.T) {
					want, listed := op.want[role]
					if !listed {
						t.Fatalf("matrix row %s has no expectation for %s", op.field, role)
					}
					f := makeFixtures(t, h)
					if trigger := triggers[op.field]; trigger != nil {
						h.checkSubscription(t, op, trigger, f, role, want)
						return
					}
					cred := h.creds[role]
					if freshUser[op.field] {
						cred = freshCredential(t, h, role, f.unique)
					}
					res := h.do(cred, op.query, op.vars(h, f))
					if got := res.code(); got != want {
						t.Fatalf("%s as %s: got %q, want %q: %s", op.field, role, got, want, res.raw)
					}
				})
			}
		}
	})
}

// TestMatrixCoversSchema fails when the schema has an operation the matrix
// does not exercise.
func TestMatrixCoversSchema(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{Resolvers: &graph.Resolver{}}).Schema()
	inMatrix := map[string]bool{}
	for _, op := range matrix {
		inMatrix[op.field] = true
	}
	var missing []string
	for _, typ := range []string{"Query", "Mutation", "Subscription"} {
		def := schema.Types[typ]
		if def == nil {
			continue
		}
		for _, f := range def.Fields {
			if !strings.HasPrefix(f.Name, "__") && !inMatrix[f.Name] {
				missing = append(missing, typ+"."+f.Name)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("operations missing from the role matrix in access_test.go: %v", missing)
	}
}

// TestListsAreScopedToTheOrganization: an admin of another organization
// sees none of the default organization's records in any list.
func TestListsAreScopedToTheOrganization(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		makeFixtures(t, h)
		q := `{ services { totalCount } apiKeys { totalCount } organizations { edges { node { name } } } }`
		mine := h.as(admin, q, nil).ok(t)
		theirs := h.as(otherOrg, q, nil).ok(t)
		if mine.num("services.totalCount") != 1 || mine.num("apiKeys.totalCount") != 2 {
			t.Fatalf("admin should see its service, its key and the management key: %s", mine.raw)
		}
		if theirs.num("services.totalCount") != 0 || theirs.num("apiKeys.totalCount") != 0 {
			t.Fatalf("another organization sees the default organization's records: %s", theirs.raw)
		}
		if mine.str("organizations.edges.0.node.name") != "Default" || theirs.str("organizations.edges.0.node.name") != "Other" {
			t.Fatalf("organizations not scoped: %s / %s", mine.raw, theirs.raw)
		}
	})
}

func TestViewer(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		q := `{ viewer { username role isManagementKey isInstanceAdmin organization { name } } }`
		cases := []struct{ role, username, r, mgmt, inst, org string }{
			{admin, "admin", "admin", "false", "true", "Default"},
			{member, "mia", "member", "false", "false", "Default"},
			{mgmtKey, "ops-mgmt", "admin", "true", "true", "Default"},
			{otherOrg, "otto", "admin", "false", "false", "Other"},
		}
		for _, c := range cases {
			res := h.as(c.role, q, nil).ok(t)
			got := fmt.Sprint(res.str("viewer.username"), " ", res.str("viewer.role"), " ", res.get("viewer.isManagementKey"), " ",
				res.get("viewer.isInstanceAdmin"), " ", res.str("viewer.organization.name"))
			want := fmt.Sprint(c.username, " ", c.r, " ", c.mgmt, " ", c.inst, " ", c.org)
			if got != want {
				t.Errorf("%s: viewer = %s, want %s", c.role, got, want)
			}
		}
		if res := h.as(anonymous, q, nil).ok(t); res.get("viewer") != nil {
			t.Errorf("anonymous viewer = %v, want null", res.get("viewer"))
		}
	})
}

func TestBadCredentialsSayWhy(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		cases := map[string]string{
			"garbage token":     "not-a-token",
			"forged token":      "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwib3JnIjoxfQ.",
			"unknown sk_ key":   "sk_0000000000000000000000000000000000000000000",
			"malformed sk_ key": "sk_short",
		}
		for name, cred := range cases {
			res := h.do(cred, `{ services { totalCount } }`, nil).wantCode(t, "UNAUTHENTICATED")
			if !strings.Contains(res.Errors[0].Message, "invalid") {
				t.Errorf("%s: message %q does not say the credential is invalid", name, res.Errors[0].Message)
			}
		}
	})
}

// TestLoginLimit: after 5 failed logins in a minute for one username from
// one address the 6th attempt is refused with RATE_LIMITED even with the
// right password; a wrong username and a wrong password get the same answer.
func TestLoginLimit(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		h.auth.Logins.Max = 5
		q := `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }`
		wrongUser := h.do("", q, map[string]any{"u": "nobody", "p": "x"}).wantCode(t, "UNAUTHENTICATED")
		wrongPass := h.do("", q, map[string]any{"u": "admin", "p": "x"}).wantCode(t, "UNAUTHENTICATED")
		if wrongUser.Errors[0].Message != wrongPass.Errors[0].Message {
			t.Fatalf("wrong username and wrong password answer differently: %q vs %q", wrongUser.Errors[0].Message, wrongPass.Errors[0].Message)
		}
		for i := 0; i < 4; i++ {
			h.do("", q, map[string]any{"u": "admin", "p": "wrong"}).wantCode(t, "UNAUTHENTICATED")
		}
		res := h.do("", q, map[string]any{"u": "admin", "p": adminPassword}).wantCode(t, "RATE_LIMITED")
		if !strings.Contains(res.Errors[0].Message, "try again in") {
			t.Fatalf("limit message does not say when: %q", res.Errors[0].Message)
		}
		// The six failures and the refusal are in the audit log as denied,
		// without the password, which a login checks and does not change.
		evs := h.client.AuditEvent.Query().Where(auditevent.Action("login"), auditevent.OutcomeEQ(auditevent.OutcomeDenied)).
			Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
		if len(evs) != 7 || !strings.Contains(evs[6].Error, "too many failed logins") || evs[6].Changes["password"] != "" || evs[6].Changes["username"] != "admin" {
			t.Fatalf("denied login audit events = %d (last %+v), want 7 ending with the refusal", len(evs), evs[len(evs)-1])
		}
	})
}

func TestRESTLogin(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		status, body := postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"username":"admin","password":"`+adminPassword+`"}`)
		if status != 200 || body["token_type"] != "bearer" || body["expires_in"].(float64) < 3500 {
			t.Fatalf("REST login = %d %v", status, body)
		}
		res := h.do(body["access_token"].(string), `{ viewer { username } }`, nil).ok(t)
		if res.str("viewer.username") != "admin" {
			t.Fatalf("REST token does not authenticate: %s", res.raw)
		}
		status, body = postJSON(t, h.srv.URL+"/api/admin/auth/login", `{"username":"admin","password":"nope"}`)
		if status != 401 || body["detail"] != "wrong username or password" {
			t.Fatalf("bad REST login = %d %v", status, body)
		}
		status, _ = postJSON(t, h.srv.URL+"/api/admin/auth/login", `not json`)
		if status != 400 {
			t.Fatalf("non-JSON REST login = %d, want 400", status)
		}
		evs := h.client.AuditEvent.Query().Where(auditevent.Action("login"), auditevent.TargetType("REST")).Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
		if len(evs) != 2 || evs[0].Outcome != auditevent.OutcomeSuccess || evs[1].Outcome != auditevent.OutcomeDenied || len(evs[1].Changes) != 1 || evs[1].Changes["username"] != "admin" {
			t.Fatalf("REST login audit events: %v", evs)
		}
	})
}

// TestMutationsAreAudited: every mutation leaves an audit event, with
// secrets recorded only as "changed" and a login's password not at all.
func TestMutationsAreAudited(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		evs := h.client.AuditEvent.Query().Where(auditevent.Action("login")).Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
		if len(evs) < 3 {
			t.Fatalf("login audit events = %d, want one per login (3)", len(evs))
		}
		for _, ev := range evs {
			if _, ok := ev.Changes["password"]; ok || ev.Changes["username"] == "" || ev.Outcome != auditevent.OutcomeSuccess {
				t.Fatalf("login event records %v / %s; want the username alone (a login changes no password) and success", ev.Changes, ev.Outcome)
			}
		}
		res := h.as(admin, `{ auditEvents(where: {action: "login"}) { totalCount edges { node { actorName outcome changes { field value } } } } }`, nil).ok(t)
		if res.num("auditEvents.totalCount") < 1 || strings.Contains(res.raw, adminPassword) {
			t.Fatalf("auditEvents query: %s", res.raw)
		}
	})
}
