package main

import (
	"fmt"
	"strings"
)

// mockAnthropic is the Anthropic Messages API with the OpenAI answers'
// text and usage (10 input, 20 output tokens), so that a gateway
// translating between the two is measured on the same content: a complete
// message, or a stream of message_start, content_block_start, one
// text_delta per content chunk of the OpenAI stream, content_block_stop,
// message_delta with the usage and message_stop. Its rate-limit headers
// are Anthropic's.
var mockAnthropic = newMockAPI(
	[]byte(`{"id":"msg_bench","type":"message","role":"assistant","model":"claude-haiku-4-5",`+
		`"content":[{"type":"text","text":`+fmt.Sprintf("%q", strings.Join(mockWords[:], ""))+`}],`+
		`"stop_reason":"end_turn","stop_sequence":null,`+
		`"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":20}}`),
	renderAnthropicEvents(),
	map[string][]string{
		"Anthropic-Ratelimit-Requests-Limit":     {"10000"},
		"Anthropic-Ratelimit-Requests-Remaining": {"9999"},
		"Anthropic-Ratelimit-Requests-Reset":     {"2026-01-01T00:00:00Z"},
		"Anthropic-Ratelimit-Tokens-Limit":       {"30000000"},
		"Anthropic-Ratelimit-Tokens-Remaining":   {"29999970"},
		"Anthropic-Ratelimit-Tokens-Reset":       {"2026-01-01T00:00:00Z"},
	})

// renderAnthropicEvents returns the SSE events of a streamed Messages
// answer, each named as Anthropic names them.
func renderAnthropicEvents() [][]byte {
	event := func(name, data string) []byte {
		return []byte("event: " + name + "\ndata: " + data + "\n\n")
	}
	events := [][]byte{
		event("message_start", `{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-haiku-4-5",`+
			`"content":[],"stop_reason":null,"stop_sequence":null,`+
			`"usage":{"input_tokens":10,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}`),
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
	}
	for _, w := range mockWords {
		events = append(events, event("content_block_delta",
			fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%q}}`, w)))
	}
	return append(events,
		event("content_block_stop", `{"type":"content_block_stop","index":0}`),
		event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":20}}`),
		event("message_stop", `{"type":"message_stop"}`))
}
