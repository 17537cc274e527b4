// Package providers is the one list of upstream LLM providers Sluice can talk
// to: which wire protocol the proxy speaks to each, how it authenticates by
// default, and where its API lives. Credentials, services, the pricing catalog
// and the GraphQL `providers` query all check names against this list so a
// typo is refused once, at the edge, instead of failing on the first request.
package providers

import (
	"fmt"
	"slices"
	"strings"
)

// Protocol is the wire protocol the proxy speaks to an upstream. Many
// providers share the OpenAI protocol, so the proxy switches on Protocol, not
// on the provider name.
type Protocol string

// The wire protocols the proxy implements.
const (
	// ProtocolOpenAI is the OpenAI Chat Completions family, also spoken by
	// most hosted open-model providers and by Ollama.
	ProtocolOpenAI Protocol = "openai"
	// ProtocolAnthropic is the Anthropic Messages API.
	ProtocolAnthropic Protocol = "anthropic"
	// ProtocolGemini is Google's Generative Language API (generateContent).
	ProtocolGemini Protocol = "gemini"
	// ProtocolCohere is Cohere's v2 API.
	ProtocolCohere Protocol = "cohere"
)

// MaxServiceTargets is the most routing targets a service may have: the
// dashboard refuses more, and the proxy tracks the targets a request tried
// in one 64-bit word.
const MaxServiceTargets = 64

// Custom is the provider name for any other OpenAI-compatible endpoint. It has
// no default base URL, so a credential for it must give one.
const Custom = "custom"

// Provider describes one supported upstream. It is a value type: callers get
// copies and cannot change the shared list.
type Provider struct {
	// Name is the stable identifier stored on credentials and services.
	Name string
	// DisplayName is what the dashboard shows.
	DisplayName string
	// DefaultBaseURL is used when a credential leaves base_url empty; it is
	// empty only for Custom.
	DefaultBaseURL string
	// APIStandard is the handle of the pre-seeded API standard that decides
	// how the upstream key is sent (bearer header, x-api-key, ?key=, none)
	// unless a credential names another.
	APIStandard string
	// Protocol is the wire protocol the proxy speaks to this provider.
	Protocol Protocol
	// ModelsPath is the provider's model-list endpoint relative to the base
	// URL, called with GET. It costs nothing to call, so it is the only
	// endpoint Sluice calls on its own (testing a credential, the
	// live-usage probe); a billed path here would bill every check.
	ModelsPath string
}

// all is kept sorted by Name; TestAllSorted guards that.
var all = []Provider{
	{Name: "anthropic", DisplayName: "Anthropic", DefaultBaseURL: "https://api.anthropic.com/v1", APIStandard: "anthropic", Protocol: ProtocolAnthropic, ModelsPath: "/models"},
	{Name: "cohere", DisplayName: "Cohere", DefaultBaseURL: "https://api.cohere.com", APIStandard: "cohere", Protocol: ProtocolCohere, ModelsPath: "/v1/models"},
	{Name: Custom, DisplayName: "Custom (OpenAI-compatible)", DefaultBaseURL: "", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "deepseek", DisplayName: "DeepSeek", DefaultBaseURL: "https://api.deepseek.com/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "google", DisplayName: "Google AI (Gemini)", DefaultBaseURL: "https://generativelanguage.googleapis.com/v1beta", APIStandard: "gemini", Protocol: ProtocolGemini, ModelsPath: "/models"},
	{Name: "groq", DisplayName: "Groq", DefaultBaseURL: "https://api.groq.com/openai/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "mistral", DisplayName: "Mistral AI", DefaultBaseURL: "https://api.mistral.ai/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "ollama", DisplayName: "Ollama (local)", DefaultBaseURL: "http://localhost:11434/v1", APIStandard: "ollama", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "openai", DisplayName: "OpenAI", DefaultBaseURL: "https://api.openai.com/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "openrouter", DisplayName: "OpenRouter", DefaultBaseURL: "https://openrouter.ai/api/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
	{Name: "together", DisplayName: "Together AI", DefaultBaseURL: "https://api.together.xyz/v1", APIStandard: "openai", Protocol: ProtocolOpenAI, ModelsPath: "/models"},
}

// All returns every supported provider sorted by name, as a fresh slice the
// caller may reorder or filter.
func All() []Provider {
	return slices.Clone(all)
}

// Lookup finds a provider by its exact name, for code that needs its
// defaults; names are lower-case and matched as stored.
func Lookup(name string) (Provider, bool) {
	i, found := slices.BinarySearchFunc(all, name, func(p Provider, n string) int {
		return strings.Compare(p.Name, n)
	})
	if !found {
		return Provider{}, false
	}
	return all[i], true
}

// Names returns the supported provider names sorted, for validation messages
// and GraphQL enums.
func Names() []string {
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = p.Name
	}
	return names
}

// Validate refuses a provider name Sluice does not support, with a message
// that lists the supported ones so an admin can fix the input without reading
// the docs.
func Validate(name string) error {
	if _, ok := Lookup(name); ok {
		return nil
	}
	return fmt.Errorf("unsupported provider %q; supported: %s", name, strings.Join(Names(), ", "))
}
