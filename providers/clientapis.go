package providers

import "slices"

// clientAPI is one API a caller may speak to the gateway and the upstream
// protocols it reaches: the proxy translates a request to another
// protocol and passes one in the provider's own protocol through as it is.
type clientAPI struct {
	name    string
	reaches []Protocol
}

// everyProtocol is reached by the chat APIs, which all translate to each
// other.
var everyProtocol = []Protocol{ProtocolOpenAI, ProtocolAnthropic, ProtocolGemini, ProtocolCohere}

// clientAPIs is in the order the dashboard lists them.
var clientAPIs = []clientAPI{
	{name: "OpenAI Chat Completions", reaches: everyProtocol},
	{name: "OpenAI Responses", reaches: everyProtocol},
	{name: "Anthropic Messages", reaches: everyProtocol},
	{name: "Gemini generateContent", reaches: everyProtocol},
	{name: "Cohere v2 chat", reaches: everyProtocol},
	// Anthropic has no embeddings API to translate to.
	{name: "OpenAI embeddings", reaches: []Protocol{ProtocolOpenAI, ProtocolGemini, ProtocolCohere}},
}

// ClientAPIs names the client APIs through which a service whose provider
// speaks p can be called; none for a protocol the proxy does not speak.
func ClientAPIs(p Protocol) []string {
	names := []string{}
	for _, api := range clientAPIs {
		if slices.Contains(api.reaches, p) {
			names = append(names, api.name)
		}
	}
	return names
}
