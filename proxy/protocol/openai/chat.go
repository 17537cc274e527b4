package openai

import "github.com/sluicehq/sluice/proxy/protocol"

// Chat is the Chat Completions adapter: the client route
// POST /v1/chat/completions and the provider path "/chat/completions".
// Given OpEmbed it hands over to Embeddings, so one adapter serves every
// operation of an OpenAI-compatible provider.
var Chat chatAdapter

// chatAdapter implements protocol.Client and protocol.Provider.
type chatAdapter struct{}

var (
	_ protocol.Client   = Chat
	_ protocol.Provider = Chat
)

// EncodeModels is OpenAI's model list, owned by "sluice": the gateway
// serves them, whichever provider runs them.
func (chatAdapter) EncodeModels(ids []string) []byte { return ModelList(ids, 0, "sluice") }

// NewStreamEncoder writes a streamed answer as chat.completion.chunk
// events.
func (chatAdapter) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return newStreamEncoder(req)
}

// NewStreamDecoder reads a provider's chat.completion.chunk events.
func (chatAdapter) NewStreamDecoder(req *protocol.Request) protocol.StreamDecoder {
	return newStreamDecoder()
}
