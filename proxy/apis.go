package proxy

import (
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/protocol/anthropic"
	"github.com/sluicehq/sluice/proxy/protocol/cohere"
	"github.com/sluicehq/sluice/proxy/protocol/gemini"
	"github.com/sluicehq/sluice/proxy/protocol/openai"
	"github.com/sluicehq/sluice/proxy/protocol/responses"
)

// The protocol adapters are chosen here, once: a new protocol is a new
// folder under proxy/protocol and a line in each of these tables.

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
	openAIChatAPI       = clientAPI{op: protocol.OpGenerate, client: openai.Chat}
	openAIResponsesAPI  = clientAPI{op: protocol.OpGenerate, client: responses.API, streamError: responses.StreamError}
	openAIEmbeddingsAPI = clientAPI{op: protocol.OpEmbed, client: openai.Embeddings}
	anthropicAPI        = clientAPI{op: protocol.OpGenerate, client: anthropic.Messages}
	anthropicCountAPI   = clientAPI{op: protocol.OpCountTokens, client: anthropic.Messages}
	geminiAPI           = clientAPI{op: protocol.OpGenerate, client: gemini.API}
	geminiCountAPI      = clientAPI{op: protocol.OpCountTokens, client: gemini.API}
	cohereChatAPI       = clientAPI{op: protocol.OpGenerate, client: cohere.Chat}
)

// providerAdapter is the adapter that speaks protocol p to upstreams for
// op; false when p has no such operation (Anthropic has no embeddings;
// OpenAI-compatible and Cohere APIs count no tokens).
func providerAdapter(p providers.Protocol, op protocol.Op) (protocol.Provider, bool) {
	switch {
	case p == providers.ProtocolOpenAI && op == protocol.OpGenerate:
		return openai.Chat, true
	case p == providers.ProtocolOpenAI && op == protocol.OpEmbed:
		return openai.Embeddings, true
	case p == providers.ProtocolAnthropic && op != protocol.OpEmbed:
		return anthropic.Messages, true
	case p == providers.ProtocolGemini:
		return gemini.API, true
	case p == providers.ProtocolCohere && op != protocol.OpCountTokens:
		return cohere.Chat, true
	}
	return nil, false
}

// modelLister writes the model list of callers of protocol p; false for
// OpenAI's, which the proxy writes itself with its service's details.
func modelLister(p providers.Protocol) (protocol.Client, bool) {
	switch p {
	case providers.ProtocolAnthropic:
		return anthropic.Messages, true
	case providers.ProtocolGemini:
		return gemini.API, true
	}
	return nil, false
}

// errorsOf is the error shape of protocol p's callers.
func errorsOf(p providers.Protocol) protocol.Errors {
	switch p {
	case providers.ProtocolAnthropic:
		return anthropic.Errors
	case providers.ProtocolGemini:
		return gemini.Errors
	case providers.ProtocolCohere:
		return cohere.Errors
	}
	return openai.Errors
}
