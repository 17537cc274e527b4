package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestNodesMixedIDs: nodes(ids:) with an existing id among missing ones,
// another organization's, and one of no known type answers the existing
// node and null for each other, with one NOT_FOUND error at each of their
// paths that is the same for a foreign id as for a missing one.
func TestNodesMixedIDs(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		mine := h.as(admin, `mutation { createService(input: {serviceName: "mine", provider: "openai", modelsEnabled: []}) { id } }`, nil).ok(t).id("createService.id")
		theirs := h.as(otherOrg, `mutation { createService(input: {serviceName: "theirs", provider: "openai", modelsEnabled: []}) { id } }`, nil).ok(t).id("createService.id")
		missing := mine + 1000
		noType := 7
		ids := []int{theirs, mine, missing, noType}

		for _, q := range []string{
			`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Service { serviceName } } }`,
			`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
		} {
			res := h.as(admin, q, map[string]any{"ids": ids})
			var out struct {
				Data struct {
					Nodes []map[string]any `json:"nodes"`
				} `json:"data"`
				Errors []struct {
					Message    string         `json:"message"`
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal([]byte(res.raw), &out); err != nil {
				t.Fatal(err)
			}
			if len(out.Data.Nodes) != 4 || out.Data.Nodes[1]["id"] != fmt.Sprint(mine) ||
				out.Data.Nodes[0] != nil || out.Data.Nodes[2] != nil || out.Data.Nodes[3] != nil {
				t.Fatalf("nodes: %s", res.raw)
			}
			if len(out.Errors) != 3 {
				t.Fatalf("want one error per missing id, got %s", res.raw)
			}
			at := map[string]bool{}
			for _, e := range out.Errors {
				if e.Extensions["code"] != "NOT_FOUND" || e.Message != out.Errors[0].Message || len(e.Path) != 2 {
					t.Fatalf("error %+v differs or is not NOT_FOUND at an index: %s", e, res.raw)
				}
				at[fmt.Sprint(e.Path[1])] = true
			}
			if !at["0"] || !at["2"] || !at["3"] {
				t.Fatalf("errors are not at the refused ids' paths: %s", res.raw)
			}
		}

		// One id alone: another organization's is answered as a missing one.
		foreign := h.as(admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []int{theirs}})
		gone := h.as(admin, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []int{missing}})
		if foreign.code() != "NOT_FOUND" || foreign.Errors[0].Message != gone.Errors[0].Message {
			t.Fatalf("a foreign id (%s) is told from a missing one (%s)", foreign.raw, gone.raw)
		}
	})
}
