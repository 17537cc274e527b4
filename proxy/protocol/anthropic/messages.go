// Package anthropic is the Anthropic Messages API adapter: it reads
// requests from applications written against Anthropic's SDKs and writes
// them answers (the client side), and it sends the internal form to
// Anthropic and reads its answers (the provider side).
//
// Choices made where the two sides do not line up:
//   - Decoded to nothing (they do not change the answer): service_tier,
//     inference_geo, the top-level cache_control (automatic caching;
//     other providers cache implicitly), a cache_control ttl of "5m" (the
//     default).
//   - Listed in Request.Unknown, so a translated request is refused naming
//     them: container, mcp_servers and any top-level member not known
//     here; server tools (a tool with a "type" such as
//     web_search_20250305, named "tools[i] (type)"); content blocks other
//     than text, image, document, tool_use, tool_result, thinking and
//     redacted_thinking (server_tool_use, web_search_tool_result,
//     search_result…, named "messages[i].content[j] (type)"); documents
//     with citations enabled (the internal form has no citations).
//   - A text document source (media_type "text/plain") is base64-encoded
//     into Part.Data like every other inline document, and decoded back.
//   - output_config.format (json_schema) is ResponseFormat, output_config
//     .effort the Reasoning effort ("xhigh" and "max" read as "high"),
//     thinking {type: adaptive} an effort of "medium" unless
//     output_config gives one.
//   - Provider side: max_tokens is required; Request.MaxTokens, else
//     Request.DefaultMaxTokens, else 4096. n > 1, frequency_penalty and
//     presence_penalty are refused with *Unsupported: they change what is
//     sampled and Anthropic has no counterpart. seed is omitted: it only
//     asks for a determinism no provider promises. Audio input and
//     non-text system parts are refused. With thinking on, Anthropic
//     refuses temperature other than 1, top_k, and top_p below 0.95, so
//     temperature, top_p and top_k are left out and named with Omit.
//   - Structured output to Anthropic is a forced tool (ResponseFormat.Name
//     or "json_response") whose input comes back as the answer's text
//     with finish "stop"; tools together with a response format are
//     refused.
//   - Client side: answer parts Anthropic has no block for (images,
//     audio) are left out of the answer.
package anthropic

import (
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// Messages is the Messages API on both sides: protocol.Client for POST
// /v1/messages and /v1/messages/count_tokens, protocol.Provider for
// "/messages" and "/messages/count_tokens".
var Messages messagesAPI

// messagesAPI implements protocol.Client and protocol.Provider.
type messagesAPI struct{}

var (
	_ protocol.Client   = Messages
	_ protocol.Provider = Messages
)

// provider names this protocol in *protocol.Unsupported errors.
const provider = providers.ProtocolAnthropic

// apiVersion is the anthropic-version header every request carries.
const apiVersion = "2023-06-01"

// defaultMaxTokens is the max_tokens sent when neither the caller nor the
// catalog gives one: Anthropic requires a cap, and 4,096 is an output
// every Claude model can produce.
const defaultMaxTokens = 4096

// formatTool is the forced tool's name when ResponseFormat has none.
const formatTool = "json_response"

func (messagesAPI) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return newStreamEncoder(req)
}

func (messagesAPI) NewStreamDecoder(req *protocol.Request) protocol.StreamDecoder {
	return newStreamDecoder(req)
}

func (messagesAPI) ErrorMessage(body []byte) string { return errorMessage(body) }
