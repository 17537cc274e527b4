package graph_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestUsageRecordProviderProtocol: the usage log answers the protocol of
// the upstream that answered beside the caller's, and an empty one for a
// request that reached no upstream.
func TestUsageRecordProviderProtocol(t *testing.T) {
	cases := []struct {
		requestID, protocol, upstream string
	}{
		{"req_passed", "openai", "openai"},
		{"req_translated", "openai", "anthropic"},
		{"req_refused", "gemini", ""},
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		f := makeFixtures(t, h)
		ctx := context.Background()
		start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		for i, c := range cases {
			create := h.client.UsageRecord.Create().SetCreatedAt(start.Add(time.Duration(i) * time.Second)).
				SetRequestID(c.requestID).SetOrganizationID(h.org.ID).SetServiceID(f.serviceID).SetAPIKeyID(f.keyID).
				SetProtocol(c.protocol).SetEndpoint("/v1/chat/completions").SetModel("gpt-4o").SetStatus(200)
			if c.upstream != "" {
				create.SetProviderProtocol(c.upstream)
			}
			create.ExecX(ctx)
		}
		res := h.as(member, `{ usageRecords(orderBy: {field: CREATED_AT, direction: ASC}) { edges { node { requestID protocol providerProtocol } } } }`, nil).ok(t)
		edges, _ := res.get("usageRecords.edges").([]any)
		if len(edges) != len(cases) {
			t.Fatalf("%d records answered, want %d: %s", len(edges), len(cases), res.raw)
		}
		for i, c := range cases {
			node := edges[i].(map[string]any)["node"].(map[string]any)
			if node["requestID"] != c.requestID || node["protocol"] != c.protocol || node["providerProtocol"] != c.upstream {
				t.Errorf("record %d = %v, want %s with protocol %s and provider protocol %q", i, node, c.requestID, c.protocol, c.upstream)
			}
		}
	})
}

// TestProvidersClientAPIs: the providers query lists the client APIs that
// reach each provider; Anthropic, having no embeddings API, is reached by
// the chat APIs only.
func TestProvidersClientAPIs(t *testing.T) {
	chat := []string{"OpenAI Chat Completions", "OpenAI Responses", "Anthropic Messages", "Gemini generateContent", "Cohere v2 chat"}
	withEmbeddings := append(slices.Clone(chat), "OpenAI embeddings")
	want := map[string][]string{
		"openai":    withEmbeddings,
		"groq":      withEmbeddings,
		"anthropic": chat,
		"google":    withEmbeddings,
		"cohere":    withEmbeddings,
	}
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		res := h.as(admin, `{ providers { name clientApis } }`, nil).ok(t)
		list, _ := res.get("providers").([]any)
		seen := 0
		for _, p := range list {
			p := p.(map[string]any)
			name, _ := p["name"].(string)
			apis, _ := p["clientApis"].([]any)
			var got []string
			for _, a := range apis {
				got = append(got, a.(string))
			}
			if len(got) == 0 {
				t.Errorf("provider %s lists no client APIs", name)
			}
			if w, ok := want[name]; ok {
				seen++
				if !slices.Equal(got, w) {
					t.Errorf("provider %s: clientApis = %v, want %v", name, got, w)
				}
			}
		}
		if seen != len(want) {
			t.Fatalf("the providers query answered %d of the %d providers checked: %s", seen, len(want), res.raw)
		}
	})
}

// TestProvidersModels: a provider's models are the price catalog's, in
// order (the catalog loaded at start and those added), whether asked for by name or under an alias; a selection without
// them answers the rest.
func TestProvidersModels(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		h := newHarness(t, db)
		ctx := context.Background()
		for _, m := range []string{"zeta-1", "alpha-2"} {
			h.client.ModelPrice.Create().SetProvider("openai").SetModel(m).SaveX(ctx)
		}
		for _, q := range []string{`{ providers { name models } }`, `{ providers { name m: models } }`} {
			res := h.as(admin, q, nil).ok(t)
			field := "models"
			if strings.Contains(q, "m:") {
				field = "m"
			}
			var got []any
			for _, p := range res.get("providers").([]any) {
				if p := p.(map[string]any); p["name"] == "openai" {
					got, _ = p[field].([]any)
				}
			}
			names := make([]string, len(got))
			for i, m := range got {
				names[i], _ = m.(string)
			}
			if !slices.Contains(names, "alpha-2") || !slices.Contains(names, "zeta-1") || !slices.IsSorted(names) {
				t.Errorf("%s: openai's models = %v, want the catalog's in order, alpha-2 and zeta-1 among them", q, names)
			}
		}
		res := h.as(admin, `{ providers { name protocol } }`, nil).ok(t)
		if list, _ := res.get("providers").([]any); len(list) == 0 {
			t.Errorf("providers without models answered none: %s", res.raw)
		}
	})
}
