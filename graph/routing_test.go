package graph_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/auth"
	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/auditevent"
	"github.com/sluicehq/sluice/ent/schema"
	"github.com/sluicehq/sluice/graph"
	"github.com/sluicehq/sluice/headroom"
	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/proxy"
	"github.com/sluicehq/sluice/upstream"
)

// fakeHealth answers every target's state from a map; absent ones are
// healthy.
type fakeHealth map[int]proxy.TargetState

func (f fakeHealth) Health(id int) proxy.TargetState {
	if s, ok := f[id]; ok {
		return s
	}
	return proxy.TargetState{Healthy: true}
}

// TestServiceTargets walks a service's targets through their life: add
// (appended in order), read with their state, update, reorder, remove,
// each audited.
func TestServiceTargets(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		ctx := context.Background()
		cred3 := h.client.ProviderCredential.Create().SetOrganizationID(h.org.ID).SetProvider("openai").
			SetAccountKey("third").SetDisplayName("third").SaveX(ctx)

		add := `mutation($s: ID!, $c: ID!, $m: Map) { addServiceTarget(serviceId: $s, input: {credentialId: $c, weight: 3, modelMap: $m, enabled: false}) {
			id position weight enabled modelMap credentialID service { id } state { healthy consecutiveFailures } } }`
		res := h.as(admin, add, map[string]any{"s": f.serviceID, "c": f.credentialID, "m": map[string]any{"gpt-4o": "my-deployment"}}).ok(t)
		first := res.id("addServiceTarget.id")
		if res.num("addServiceTarget.position") != 1 || res.num("addServiceTarget.weight") != 3 || res.get("addServiceTarget.enabled") != false ||
			res.str("addServiceTarget.modelMap.gpt-4o") != "my-deployment" || res.id("addServiceTarget.credentialID") != f.credentialID ||
			res.id("addServiceTarget.service.id") != f.serviceID || res.get("addServiceTarget.state.healthy") != true {
			t.Fatalf("addServiceTarget: %s", res.raw)
		}
		third := h.as(admin, add, map[string]any{"s": f.serviceID, "c": cred3.ID}).ok(t).id("addServiceTarget.id")

		upd := h.as(admin, `mutation($id: ID!) { updateServiceTarget(id: $id, input: {weight: 5, enabled: true, modelMap: {}}) { weight enabled modelMap } }`,
			map[string]any{"id": first}).ok(t)
		if upd.num("updateServiceTarget.weight") != 5 || upd.get("updateServiceTarget.enabled") != true || len(upd.get("updateServiceTarget.modelMap").(map[string]any)) != 0 {
			t.Fatalf("updateServiceTarget: %s", upd.raw)
		}

		order := []int{third, first, f.targetID}
		ro := h.as(admin, `mutation($s: ID!, $t: [ID!]!) { reorderServiceTargets(serviceId: $s, targetIds: $t) { id position } }`,
			map[string]any{"s": f.serviceID, "t": order}).ok(t)
		for i, id := range order {
			if ro.id(fmt.Sprintf("reorderServiceTargets.%d.id", i)) != id || ro.num(fmt.Sprintf("reorderServiceTargets.%d.position", i)) != float64(i) {
				t.Fatalf("reorder: %s", ro.raw)
			}
		}
		list := h.as(member, `query($id: ID!) { service(id: $id) { targets { id } } }`, map[string]any{"id": f.serviceID}).ok(t)
		for i, id := range order {
			if list.id(fmt.Sprintf("service.targets.%d.id", i)) != id {
				t.Fatalf("Service.targets not in position order: %s", list.raw)
			}
		}

		h.as(admin, `mutation($id: ID!) { removeServiceTarget(id: $id) }`, map[string]any{"id": third}).ok(t)
		if n := len(h.as(admin, `query($id: ID!) { service(id: $id) { targets { id } } }`, map[string]any{"id": f.serviceID}).ok(t).get("service.targets").([]any)); n != 2 {
			t.Fatalf("%d targets after remove, want 2", n)
		}
		for _, action := range []string{"addServiceTarget", "updateServiceTarget", "reorderServiceTargets", "removeServiceTarget"} {
			ev := h.client.AuditEvent.Query().Where(auditevent.Action(action), auditevent.OutcomeEQ(auditevent.OutcomeSuccess)).FirstX(ctx)
			if ev.TargetType == "" || ev.TargetName == "" {
				t.Errorf("audit of %s names no target: %+v", action, ev)
			}
		}
		// Deleting the service takes its targets with it.
		h.as(admin, `mutation($id: ID!) { deleteService(id: $id) }`, map[string]any{"id": f.serviceID}).ok(t)
		if n := h.client.ServiceTarget.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d targets left after deleting their service", n)
		}
	})
}

// TestServiceTargetRules: each refusal answers its code, names the field,
// and changes nothing.
func TestServiceTargetRules(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		ctx := context.Background()
		anth := h.client.ProviderCredential.Create().SetOrganizationID(h.org.ID).SetProvider("anthropic").
			SetAccountKey("an").SetDisplayName("an").SaveX(ctx)
		otherCred := h.client.ProviderCredential.Create().SetOrganizationID(h.other.ID).SetProvider("openai").
			SetAccountKey("theirs").SetDisplayName("theirs").SaveX(ctx)
		targetCred := h.client.ServiceTarget.GetX(ctx, f.targetID).CredentialID
		add := `mutation($s: ID!, $c: ID!, $w: Int, $m: Map) { addServiceTarget(serviceId: $s, input: {credentialId: $c, weight: $w, modelMap: $m}) { id } }`
		reorder := `mutation($s: ID!, $t: [ID!]!) { reorderServiceTargets(serviceId: $s, targetIds: $t) { id } }`
		update := `mutation($id: ID!, $w: Int) { updateServiceTarget(id: $id, input: {weight: $w}) { id } }`
		cases := []struct {
			name, query      string
			vars             map[string]any
			code, field, msg string
		}{
			{"add: unknown service", add, map[string]any{"s": 999999, "c": f.credentialID}, "NOT_FOUND", "", "service not found"},
			{"add: unknown credential", add, map[string]any{"s": f.serviceID, "c": 999999}, "NOT_FOUND", "", "provider credential not found"},
			{"add: another organization's credential", add, map[string]any{"s": f.serviceID, "c": otherCred.ID}, "NOT_FOUND", "", "provider credential not found"},
			{"add: weight zero", add, map[string]any{"s": f.serviceID, "c": f.credentialID, "w": 0}, "BAD_USER_INPUT", "weight", "weight must be from 1"},
			{"add: model map value not a string", add, map[string]any{"s": f.serviceID, "c": f.credentialID, "m": map[string]any{"gpt-4o": 4}}, "BAD_USER_INPUT", "modelMap", "must be a string"},
			{"add: model map with a path", add, map[string]any{"s": f.serviceID, "c": f.credentialID, "m": map[string]any{"gpt-4o": "../admin"}}, "BAD_USER_INPUT", "modelMap", "not a valid model name"},
			{"add: credential already a target", add, map[string]any{"s": f.serviceID, "c": targetCred}, "CONFLICT", "", "already a target"},
			{"update: unknown target", update, map[string]any{"id": 999999, "w": 2}, "NOT_FOUND", "", "service target not found"},
			{"update: weight negative", update, map[string]any{"id": f.targetID, "w": -1}, "BAD_USER_INPUT", "weight", "weight must be from 1"},
			{"remove: unknown target", `mutation { removeServiceTarget(id: 999999) }`, nil, "NOT_FOUND", "", "service target not found"},
			{"reorder: unknown service", reorder, map[string]any{"s": 999999, "t": []int{f.targetID}}, "NOT_FOUND", "", "service not found"},
			{"reorder: a foreign target", reorder, map[string]any{"s": f.serviceID, "t": []int{f.targetID, 999999}}, "BAD_USER_INPUT", "targetIds", "is not a target of service"},
			{"reorder: listed twice", reorder, map[string]any{"s": f.serviceID, "t": []int{f.targetID, f.targetID}}, "BAD_USER_INPUT", "targetIds", "listed twice"},
			{"reorder: one missing", reorder, map[string]any{"s": f.serviceID, "t": []int{}}, "BAD_USER_INPUT", "targetIds", "list every target"},
			{"credential: delete while a target", `mutation($id: ID!) { deleteProviderCredential(id: $id) }`, map[string]any{"id": targetCred}, "CONFLICT", "", "routing target of 1 service"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := h.client.ServiceTarget.Query().AllX(ctx)
				res := h.as(admin, c.query, c.vars).wantCode(t, c.code)
				if !strings.Contains(res.Errors[0].Message, c.msg) {
					t.Fatalf("message %q does not contain %q", res.Errors[0].Message, c.msg)
				}
				if got, _ := res.Errors[0].Extensions["field"].(string); got != c.field {
					t.Fatalf("field %q, want %q", got, c.field)
				}
				after := h.client.ServiceTarget.Query().AllX(ctx)
				if fmt.Sprint(before) != fmt.Sprint(after) {
					t.Fatalf("a refused mutation changed the targets: %v → %v", before, after)
				}
			})
		}
		// A target of another provider is taken: requests are translated
		// to its API.
		res := h.as(admin, add, map[string]any{"s": f.serviceID, "c": anth.ID, "m": map[string]any{"gpt-4o": "claude-sonnet-4"}})
		if len(res.Errors) > 0 {
			t.Fatalf("adding a target of another provider: %v", res.Errors)
		}
		if n := h.client.ServiceTarget.Query().CountX(ctx); n != 2 {
			t.Errorf("%d targets after adding one of another provider, want 2", n)
		}
	})
}

// TestServiceTargetStateAndAttempts: a target's state comes from the
// resolver's TargetHealth, and a usage record shows its attempts.
func TestServiceTargetStateAndAttempts(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		ctx := context.Background()
		until := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		r := &graph.Resolver{Client: db.Client, DB: db, Log: slog.New(slog.NewTextHandler(h.logs, nil)), Auth: h.auth, Keyring: h.keyring, Budgets: h.budgets,
			Prober: headroom.New(upstream.Policy{}), CredentialTests: auth.NewLimiter("credential-test", 10, time.Minute), Feed: h.feed,
			TargetHealth: fakeHealth{f.targetID: {CoolingDownUntil: until, LastError: "upstream answered 503", ConsecutiveFailures: 3}}}
		mux := http.NewServeMux()
		mux.Handle("/graphql", h.auth.Middleware(graph.NewHandler(r, graph.Options{})))
		srv := httptest.NewServer(mux)
		defer srv.Close()
		saved := h.srv
		h.srv = srv
		defer func() { h.srv = saved }()

		res := h.as(member, `query($id: ID!) { service(id: $id) { targets { state { healthy coolingDownUntil lastError consecutiveFailures } } } }`,
			map[string]any{"id": f.serviceID}).ok(t)
		if res.get("service.targets.0.state.healthy") != false || res.str("service.targets.0.state.coolingDownUntil") != "2030-01-02T03:04:05Z" ||
			res.str("service.targets.0.state.lastError") != "upstream answered 503" || res.num("service.targets.0.state.consecutiveFailures") != 3 {
			t.Fatalf("target state: %s", res.raw)
		}

		h.client.UsageRecord.Create().SetRequestID("req_1").SetOrganizationID(h.org.ID).SetServiceID(f.serviceID).SetAPIKeyID(f.keyID).
			SetProtocol("openai").SetEndpoint("/v1/chat/completions").SetModel("gpt-4o").SetStatus(200).
			SetAttempts([]schema.Attempt{{TargetID: 1, CredentialID: 2, Status: 503, LatencyMs: 4, Error: "upstream answered 503"}, {TargetID: 3, CredentialID: 4, Status: 200, LatencyMs: 9}}).
			ExecX(ctx)
		res = h.as(member, `{ usageRecords { edges { node { attempts { targetID credentialID status latencyMs error } } } } }`, nil).ok(t)
		if res.num("usageRecords.edges.0.node.attempts.0.status") != 503 || res.str("usageRecords.edges.0.node.attempts.0.error") != "upstream answered 503" ||
			res.str("usageRecords.edges.0.node.attempts.1.targetID") != "3" || res.get("usageRecords.edges.0.node.attempts.1.error") != nil {
			t.Fatalf("attempts: %s", res.raw)
		}
	})
}
