package graph_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestEndpointHardening: limits answer with a clear error and a code.
func TestEndpointHardening(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)

		deep := "{ services { edges { node { apiKeys { edges { node { service { apiKeys { edges { node { service { apiKeys { edges { node { service { id } } } } } } } } } } } } } } } }"
		res := h.as(admin, deep, nil).wantCode(t, "BAD_USER_INPUT")
		if !strings.Contains(res.Errors[0].Message, "the limit is 15") {
			t.Errorf("depth error does not say the limit: %q", res.Errors[0].Message)
		}

		wide := "{ " + strings.Repeat("apiStandards { apiStandardHandle description keyMethod keyField } ", 1) + "a: apiStandards { description } "
		for i := 0; i < 700; i++ {
			wide += "x" + strings.Repeat("y", i%5) + string(rune('a'+i%26)) + ": apiStandards { description keyField } "
		}
		wide += "}"
		if res := h.as(admin, wide, nil); res.code() == "" {
			t.Errorf("a query of complexity > 2000 ran: %.200s", res.raw)
		}

		big := bytes.Repeat([]byte(" "), 2<<20)
		body := append([]byte(`{"query":"{ apiStandards { apiStandardHandle } }`), big...)
		body = append(body, []byte(`"}`)...)
		if res := h.post(h.creds[admin], body); res.Status < 400 || len(res.Errors) == 0 {
			t.Errorf("a 2 MiB body was accepted: %d %.200s", res.Status, res.raw)
		}

		if res := h.as(admin, `subscription { usageEvents { model } }`, nil); res.code() != "BAD_USER_INPUT" {
			t.Errorf("a subscription over POST: %s", res.raw)
		}
		if res := h.post("", []byte(`{"query": `)); len(res.Errors) == 0 || res.Status != 400 {
			t.Errorf("malformed JSON: %d %s", res.Status, res.raw)
		}
		if res := h.as(admin, `{ services { nosuchfield } }`, nil); res.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("unknown field: %s", res.raw)
		}
		if res := h.as(admin, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": "not-a-number"}); res.code() == "" {
			t.Errorf("wrong ID type accepted: %s", res.raw)
		}
	})
}

// TestIntrospectionCanBeTurnedOff is in the server tests (it is a setting
// of the binary); here: introspection is on in the harness.
func TestIntrospectionOn(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		res := h.do("", `{ __schema { queryType { name } } }`, nil).ok(t)
		if res.str("__schema.queryType.name") != "Query" {
			t.Fatalf("introspection: %s", res.raw)
		}
	})
}

// TestOddInputIsStoredVerbatim: SQL-looking and unicode names are data,
// not code; huge lists are refused by the body limit or stored whole.
func TestOddInputIsStoredVerbatim(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		names := []string{`x'; DROP TABLE services; --`, `Ünïcødé 服务 🚀`, `"quoted" \backslash\`}
		for _, n := range names {
			res := h.as(admin, `mutation($n: String!) { createService(input: {serviceName: $n, provider: "openai", modelsEnabled: []}) { serviceName } }`,
				map[string]any{"n": n}).ok(t)
			if res.str("createService.serviceName") != n {
				t.Fatalf("stored %q as %q", n, res.str("createService.serviceName"))
			}
		}
		if res := h.as(admin, `{ services { totalCount } }`, nil).ok(t); res.num("services.totalCount") != float64(len(names)) {
			t.Fatalf("services after odd names: %s", res.raw)
		}
		control := h.as(admin, `mutation { createService(input: {serviceName: "bad\u0007name", provider: "openai", modelsEnabled: []}) { id } }`, nil)
		if control.code() != "BAD_USER_INPUT" {
			t.Fatalf("a control character in a name: %s", control.raw)
		}
		models := make([]string, 100000)
		for i := range models {
			models[i] = "m"
		}
		huge := h.as(admin, `mutation($m: [String!]!) { createService(input: {serviceName: "huge", provider: "openai", modelsEnabled: $m}) { id } }`,
			map[string]any{"m": models})
		if huge.code() != "BAD_USER_INPUT" {
			t.Fatalf("a 100,000-entry list: %.300s", huge.raw)
		}
		if res := h.as(admin, `{ services { totalCount } }`, nil).ok(t); res.num("services.totalCount") != float64(len(names)) {
			t.Fatal("a refused input left a service behind")
		}
	})
}
