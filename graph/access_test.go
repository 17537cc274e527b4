package graph_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/graph/generated"
	"github.com/sluicehq/sluice/internal/testenv"
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

// fixtures are records of the default organization the matrix acts on.
type fixtures struct {
	serviceID int
}

func makeFixtures(t *testing.T, h *harness) fixtures {
	t.Helper()
	s := h.client.Service.Create().SetOrganizationID(h.org.ID).SetServiceName(fmt.Sprintf("svc-%d", time.Now().UnixNano())).
		SetProvider("openai").SaveX(context.Background())
	return fixtures{serviceID: s.ID}
}

var (
	public      = map[string]string{anonymous: ok, member: ok, admin: ok, mgmtKey: ok, otherOrg: ok}
	loggedIn    = map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: ok, otherOrg: ok}
	ownOrgOnly  = map[string]string{anonymous: "UNAUTHENTICATED", member: ok, admin: ok, mgmtKey: ok, otherOrg: "NOT_FOUND"}
	adminsRead  = map[string]string{anonymous: "UNAUTHENTICATED", member: "FORBIDDEN", admin: ok, mgmtKey: ok, otherOrg: ok}
	noVariables = func(*harness, fixtures) map[string]any { return nil }
)

// matrix is every operation of the API. TestMatrixCoversSchema fails when
// an operation is added to the schema but not here.
var matrix = []operation{
	{"apiStandards", `{ apiStandards { apiStandardHandle } }`, noVariables, public},
	{"apiStandard", `{ apiStandard(handle: "openai") { keyMethod } }`, noVariables, public},
	{"providers", `{ providers { name protocol } }`, noVariables, public},
	{"viewer", `{ viewer { username } }`, noVariables, public},
	{"node", `query($id: ID!) { node(id: $id) { id } }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"id": f.serviceID}
	}, ownOrgOnly},
	{"nodes", `query($id: ID!) { nodes(ids: [$id]) { id } }`, func(h *harness, f fixtures) map[string]any {
		return map[string]any{"id": h.org.ID}
	}, loggedIn},
	{"apiKeys", `{ apiKeys { totalCount } }`, noVariables, loggedIn},
	{"auditEvents", `{ auditEvents { totalCount } }`, noVariables, adminsRead},
	{"modelPrices", `{ modelPrices { totalCount } }`, noVariables, loggedIn},
	{"organizations", `{ organizations { totalCount } }`, noVariables, loggedIn},
	{"providerCredentials", `{ providerCredentials { totalCount } }`, noVariables, loggedIn},
	{"services", `{ services { totalCount } }`, noVariables, loggedIn},
	{"login", `mutation($p: String!) { login(username: "admin", password: $p) { token } }`, func(*harness, fixtures) map[string]any {
		return map[string]any{"p": adminPassword}
	}, public},
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
					res := h.as(role, op.query, op.vars(h, makeFixtures(t, h)))
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
		if mine.num("services.totalCount") != 1 || mine.num("apiKeys.totalCount") != 1 {
			t.Fatalf("admin should see its service and management key: %s", mine.raw)
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

// TestLoginLimit: after 5 failed logins in a minute from one address the
// 6th attempt is refused with RATE_LIMITED even with the right password; a
// wrong username and a wrong password get the same answer.
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
		for i := 0; i < 3; i++ {
			h.do("", q, map[string]any{"u": "admin", "p": "wrong"}).wantCode(t, "UNAUTHENTICATED")
		}
		res := h.do("", q, map[string]any{"u": "admin", "p": adminPassword}).wantCode(t, "RATE_LIMITED")
		if !strings.Contains(res.Errors[0].Message, "try again in") {
			t.Fatalf("limit message does not say when: %q", res.Errors[0].Message)
		}
		// The five failures and the refusal are in the audit log as denied,
		// without the password.
		evs := h.client.AuditEvent.Query().Where(auditevent.Action("login"), auditevent.OutcomeEQ(auditevent.OutcomeDenied)).
			Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
		if len(evs) != 6 || !strings.Contains(evs[5].Error, "too many failed logins") || evs[5].Changes["password"] != "changed" {
			t.Fatalf("denied login audit events = %d (last %+v), want 6 ending with the refusal", len(evs), evs[len(evs)-1])
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
	})
}

// TestMutationsAreAudited: every mutation leaves an audit event, with
// secrets recorded only as "changed".
func TestMutationsAreAudited(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		evs := h.client.AuditEvent.Query().Where(auditevent.Action("login")).Order(ent.Asc(auditevent.FieldID)).AllX(context.Background())
		if len(evs) < 3 {
			t.Fatalf("login audit events = %d, want one per login (3)", len(evs))
		}
		for _, ev := range evs {
			if ev.Changes["password"] != "changed" || ev.Outcome != auditevent.OutcomeSuccess {
				t.Fatalf("login event records %v / %s; want the password as changed and success", ev.Changes, ev.Outcome)
			}
		}
		res := h.as(admin, `{ auditEvents(where: {action: "login"}) { totalCount edges { node { actorName outcome changes { field value } } } } }`, nil).ok(t)
		if res.num("auditEvents.totalCount") < 1 || strings.Contains(res.raw, adminPassword) {
			t.Fatalf("auditEvents query: %s", res.raw)
		}
	})
}
