package openai

import (
	"encoding/json"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// TestOutputCapName: OpenAI's own API gets max_completion_tokens (its
// reasoning models refuse max_tokens); other hosts get max_tokens.
func TestOutputCapName(t *testing.T) {
	for _, tc := range []struct{ provider, want, not string }{
		{"openai", "max_completion_tokens", "max_tokens"},
		{"groq", "max_tokens", "max_completion_tokens"},
		{"", "max_tokens", "max_completion_tokens"},
	} {
		req := &protocol.Request{Model: "m", Provider: tc.provider, MaxTokens: 300,
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "hi"}}}}}
		call, err := Chat.EncodeRequest(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(call.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body[tc.want] != 300.0 || body[tc.not] != nil {
			t.Errorf("provider %q: %s", tc.provider, call.Body)
		}
	}
}
