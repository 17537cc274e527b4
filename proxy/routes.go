package proxy

import (
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// route is one provider-compatible endpoint.
type route struct {
	path string
	// protocol is the API family the route belongs to: its error shape,
	// and the providers a request passes through to untranslated.
	protocol providers.Protocol
	// upstream is the path appended to the service's base URL (the
	// providers' default base URLs already end in their version: /v1,
	// /v1beta; Cohere's does not).
	upstream string
	// includeUsage marks OpenAI chat and completions, whose streams carry
	// usage only when stream_options.include_usage asks for it.
	includeUsage bool
	// api is how the route's requests are translated for providers of
	// other protocols.
	api clientAPI
}

var routes = []route{
	{path: "/v1/chat/completions", protocol: providers.ProtocolOpenAI, upstream: "/chat/completions", includeUsage: true, api: openAIChatAPI},
	{path: "/v1/completions", protocol: providers.ProtocolOpenAI, upstream: "/completions", includeUsage: true},
	{path: "/v1/responses", protocol: providers.ProtocolOpenAI, upstream: "/responses", api: openAIResponsesAPI},
	{path: "/v1/embeddings", protocol: providers.ProtocolOpenAI, upstream: "/embeddings", api: openAIEmbeddingsAPI},
	{path: "/v1/messages", protocol: providers.ProtocolAnthropic, upstream: "/messages", api: anthropicAPI},
	{path: "/v1/messages/count_tokens", protocol: providers.ProtocolAnthropic, upstream: "/messages/count_tokens", api: anthropicCountAPI},
	{path: "/v2/chat", protocol: providers.ProtocolCohere, upstream: "/v2/chat", api: cohereChatAPI},
	{path: "/v2/embed", protocol: providers.ProtocolCohere, upstream: "/v2/embed"},
}

// geminiPrefixes are routed as prefixes: ServeMux cannot match
// {model}:generateContent within one path segment. Google's genai SDK
// calls /v1/models/… by default, its older SDKs and the REST docs
// /v1beta/models/….
var geminiPrefixes = []string{"/v1beta/models/", "/v1/models/"}

// geminiActions are the Gemini methods the gateway serves, and how each
// is translated.
var geminiActions = map[string]clientAPI{
	"generateContent":       geminiAPI,
	"streamGenerateContent": geminiAPI,
	"countTokens":           geminiCountAPI,
	"embedContent":          {op: protocol.OpEmbed},
	"batchEmbedContents":    {op: protocol.OpEmbed},
}

// Mount registers the proxy's routes on mux: the provider routes, the
// Sluice-local model lists and GET /services, and catch-alls under
// /v1/, /v1beta/ and /v2/ that answer unknown routes with a JSON 404
// naming the real ones. The prefixes' roots and the SDK paths at the root
// (an OpenAI base URL without /v1 calls /chat/completions) are registered
// too: ServeMux would redirect the first, repeating the query, and hand
// the second to the dashboard. Serve the mux through CanonicalPaths.
func (p *Proxy) Mount(mux *http.ServeMux) {
	for i := range routes {
		rt := &routes[i]
		mux.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) { p.serve(w, r, rt) })
	}
	for _, prefix := range geminiPrefixes {
		mux.HandleFunc(prefix, func(w http.ResponseWriter, r *http.Request) { p.serveModelPath(w, r, prefix) })
	}
	mux.HandleFunc("/v1/models", p.serveModels)
	mux.HandleFunc("/v1beta/models", p.serveModels)
	mux.HandleFunc("/services", p.serveServices)
	for _, prefix := range []string{"/v1/", "/v1beta/", "/v2/"} {
		mux.HandleFunc(prefix, unknownRoute)
		mux.HandleFunc(strings.TrimSuffix(prefix, "/"), unknownRoute)
	}
	for _, tail := range rootTails {
		mux.HandleFunc(tail, unknownRoute)
	}
}

// routesOf names the routes a protocol speaks, for error messages.
func routesOf(p providers.Protocol) string {
	if p == providers.ProtocolGemini {
		return "POST /v1beta/models/{model}:generateContent, :streamGenerateContent, :countTokens, :embedContent and :batchEmbedContents (also under /v1/models/)"
	}
	var names []string
	for _, rt := range routes {
		if rt.protocol == p {
			names = append(names, rt.path)
		}
	}
	return "POST " + strings.Join(names, ", ")
}

func allRoutes() string {
	var b []string
	for _, p := range []providers.Protocol{providers.ProtocolOpenAI, providers.ProtocolAnthropic, providers.ProtocolGemini, providers.ProtocolCohere} {
		b = append(b, routesOf(p))
	}
	return strings.Join(b, "; ")
}
