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
