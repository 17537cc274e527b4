package proxy

import (
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// clientAPI is how one caller-facing API is translated: what its requests
// ask for and the adapter that reads them and writes their answers. A
// zero clientAPI is passed through to providers of its own protocol only.
type clientAPI struct {
	op     protocol.Op
	client protocol.Client
	// streamError, when set, writes the API's stream error event in place
	// of its protocol's (the Responses API has its own).
	streamError func(status int, code, message string) []byte
}

// The caller-facing APIs that are translated.
var (
	openAIChatAPI       = clientAPI{op: protocol.OpGenerate}
	openAIResponsesAPI  = clientAPI{op: protocol.OpGenerate}
	openAIEmbeddingsAPI = clientAPI{op: protocol.OpEmbed}
	anthropicAPI        = clientAPI{op: protocol.OpGenerate}
	anthropicCountAPI   = clientAPI{op: protocol.OpCountTokens}
	geminiAPI           = clientAPI{op: protocol.OpGenerate}
	geminiCountAPI      = clientAPI{op: protocol.OpCountTokens}
	cohereChatAPI       = clientAPI{op: protocol.OpGenerate}
)

// providerAdapter is the adapter that speaks protocol p to upstreams for
// op; false when p has no such operation (Anthropic has no embeddings;
// OpenAI-compatible and Cohere APIs count no tokens).
func providerAdapter(p providers.Protocol, op protocol.Op) (protocol.Provider, bool) {
	return nil, false
}

// modelLister writes the model list of callers of protocol p; false for
// OpenAI's, which the proxy writes itself with its service's details.
func modelLister(p providers.Protocol) (protocol.Client, bool) {
	return nil, false
}
