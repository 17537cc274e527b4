package providers

import (
	"slices"
	"testing"
)

func TestClientAPIs(t *testing.T) {
	chat := []string{"OpenAI Chat Completions", "OpenAI Responses", "Anthropic Messages", "Gemini generateContent", "Cohere v2 chat"}
	withEmbeddings := append(slices.Clone(chat), "OpenAI embeddings")
	tests := []struct {
		protocol Protocol
		want     []string
	}{
		{ProtocolOpenAI, withEmbeddings},
		{ProtocolAnthropic, chat},
		{ProtocolGemini, withEmbeddings},
		{ProtocolCohere, withEmbeddings},
		{"bedrock", []string{}},
		{"", []string{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.protocol), func(t *testing.T) {
			got := ClientAPIs(tt.protocol)
			if got == nil || !slices.Equal(got, tt.want) {
				t.Errorf("ClientAPIs(%q) = %#v, want %#v", tt.protocol, got, tt.want)
			}
		})
	}
}

// TestEveryProviderIsReachable: each provider's protocol is one the chat
// APIs reach, so no service is listed as unreachable.
func TestEveryProviderIsReachable(t *testing.T) {
	for _, p := range All() {
		if apis := ClientAPIs(p.Protocol); !slices.Contains(apis, "OpenAI Chat Completions") {
			t.Errorf("provider %s (protocol %s) is reachable from %v, want every chat API", p.Name, p.Protocol, apis)
		}
	}
}

// TestClientAPIsIsACopy: a caller changing the list it got changes no
// later answer.
func TestClientAPIsIsACopy(t *testing.T) {
	first := ClientAPIs(ProtocolOpenAI)
	first[0] = "changed"
	if got := ClientAPIs(ProtocolOpenAI)[0]; got != "OpenAI Chat Completions" {
		t.Errorf("after changing a returned list, ClientAPIs(openai)[0] = %q", got)
	}
}
