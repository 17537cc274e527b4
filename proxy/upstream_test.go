package proxy

import (
	"net/http"
	"testing"

	"github.com/sluicehq/sluice/database"
	"github.com/sluicehq/sluice/ent/modelprice"
	"github.com/sluicehq/sluice/internal/testenv"
)

// TestBillingHeadersNotForwarded: a client cannot pick which of the
// operator's provider organizations or projects pays for its request, and
// does not learn the operator's account identity from the answer.
func TestBillingHeadersNotForwarded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.price("openai", "gpt-test", 1_000_000, 1_000_000, 0, modelprice.KindText)
		up := newUpstream(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
			answerJSON(w, 200, openAIChatBody, "OpenAI-Organization", "org-operator", "OpenAI-Project", "proj_operator",
				"Anthropic-Organization-Id", "operator-org-uuid", "OpenAI-Processing-Ms", "12")
		})
		_, key := f.addService(serviceSpec{name: "oa", provider: "openai", baseURL: up.srv.URL, secret: "sk-provider-BILLING", models: []string{"gpt-test"}})

		resp, body := f.call("POST", "/v1/chat/completions", key, `{"model":"gpt-test","messages":[]}`,
			"OpenAI-Organization", "org-attacker", "OpenAI-Project", "proj_attacker", "X-Goog-User-Project", "attacker-gcp",
			"OpenAI-Beta", "assistants=v2")
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		got := up.last(t).Header
		for _, h := range []string{"OpenAI-Organization", "OpenAI-Project", "X-Goog-User-Project"} {
			if v := got.Get(h); v != "" {
				t.Errorf("the upstream received the client's %s: %q", h, v)
			}
		}
		if got.Get("OpenAI-Beta") != "assistants=v2" {
			t.Error("a feature header that bills nobody was not forwarded")
		}
		for _, h := range []string{"OpenAI-Organization", "OpenAI-Project", "Anthropic-Organization-Id"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("the client received the operator's %s: %q", h, v)
			}
		}
		if resp.Header.Get("OpenAI-Processing-Ms") != "12" {
			t.Error("an ordinary upstream header was not relayed")
		}
	})
}
