package usage

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/tokens"
)

// Streams as the providers send them.
const (
	openAIChatStream = `data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":" there, \"usage\": friend"},"logprobs":null,"finish_reason":null}],"usage":null}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

data: [DONE]

`
	openAIToolStream = `data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":\"Paris\"}"}}]},"finish_reason":null}]}

data: {"id":"chatcmpl-9","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: [DONE]

`
	openAIResponsesStream = `event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"in_progress","error":null,"incomplete_details":null,"instructions":"You are a helpful assistant.","max_output_tokens":null,"model":"gpt-4.1-2025-04-14","output":[],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":true,"temperature":1.0,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":null,"user":null,"metadata":{}}}

event: response.output_item.added
data: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"in_progress","role":"assistant","content":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":"Hi"}

event: response.output_text.delta
data: {"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" there!"}

event: response.output_text.done
data: {"type":"response.output_text.done","sequence_number":6,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"text":"Hi there!"}

event: response.completed
data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654","object":"response","created_at":1741290958,"status":"completed","error":null,"model":"gpt-4.1-2025-04-14","output":[{"id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there!","annotations":[]}]}],"usage":{"input_tokens":37,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":48,"input_tokens_details":{"cached_tokens":5}},"user":null,"metadata":{}}}

`
	anthropicStream = `event: message_start
data: {"type": "message_start", "message": {"id": "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-20250514", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000, "cache_creation": {"ephemeral_5m_input_tokens": 40, "ephemeral_1h_input_tokens": 60}, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

`
	geminiStream = "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n" +
		"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" opposite of hot is cold.\\n\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 4,\"totalTokenCount\": 13},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n" +
		"data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 8,\"totalTokenCount\": 47,\"thoughtsTokenCount\": 30,\"cachedContentTokenCount\": 2},\"modelVersion\": \"gemini-2.0-flash\"}\r\n\r\n"
	cohereStream = `event: message-start
data: {"id":"29f14a5a-11de-4cae-9800-25e4747408ea","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}

event: content-start
data: {"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}

event: content-delta
data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}}}

event: content-delta
data: {"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" world"}}}}

event: citation-start
data: {"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0,"end":5,"text":"Hello","sources":[]}}}}

event: content-end
data: {"type":"content-end","index":0}

event: message-end
data: {"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":9},"tokens":{"input_tokens":69,"output_tokens":9}}}}

`
)

// meter runs a raw stream through the SSE reader into a StreamMeter, and
// returns the raw events for which IsUsageOnlyChunk held.
func meter(t testing.TB, protocol, stream string) (*StreamMeter, []string) {
	t.Helper()
	m := NewStreamMeter(protocol)
	rd := sse.NewReader(strings.NewReader(stream))
	var only []string
	for {
		ev, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return m, only
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.IsUsageOnlyChunk(ev) {
			only = append(only, string(ev.Data))
		}
		m.Observe(ev)
	}
}

// cut keeps the first n events of a stream, as if the connection dropped.
func cut(stream string, n int) string {
	parts := strings.SplitAfter(stream, "\n\n")
	if n > len(parts) {
		n = len(parts)
	}
	return strings.Join(parts[:n], "")
}

func TestStreamMeter(t *testing.T) {
	cases := []struct {
		name, protocol, stream string
		want                   Usage
		usageOnly              int // events IsUsageOnlyChunk picks out
	}{
		{"openai chat", OpenAI, openAIChatStream, Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 12}, Found: true}, 1},
		{"openai chat cut before usage", OpenAI, cut(openAIChatStream, 3),
			// "Hello" + ` there, "usage": friend` = 5 + 23 characters → 7 tokens
			Usage{Tokens: tokens.Tokens{OutputTokens: 7}}, 0},
		{"openai tools without usage", OpenAI, openAIToolStream,
			// {"location":"Paris"} is 20 characters → 5 tokens
			Usage{Tokens: tokens.Tokens{OutputTokens: 5}}, 0},
		{"openai responses", OpenAI, openAIResponsesStream, Usage{Tokens: tokens.Tokens{InputTokens: 37, OutputTokens: 11, CachedInputTokens: 5}, Found: true}, 0},
		{"openai responses cut", OpenAI, cut(openAIResponsesStream, 5),
			// only the two deltas: "Hi" + " there!" = 9 characters → 3 tokens
			Usage{Tokens: tokens.Tokens{OutputTokens: 3}}, 0},
		{"anthropic", Anthropic, anthropicStream, Usage{Tokens: tokens.Tokens{InputTokens: 25 + 100 + 2000, OutputTokens: 15, CachedInputTokens: 2000, CacheWriteTokens: 100, CacheWrite1hTokens: 60}, Found: true}, 0},
		{"anthropic cut after content", Anthropic, cut(anthropicStream, 5),
			// input known from message_start; "Hello!" → 2 tokens beats the 1 reported
			Usage{Tokens: tokens.Tokens{InputTokens: 2125, OutputTokens: 2, CachedInputTokens: 2000, CacheWriteTokens: 100, CacheWrite1hTokens: 60}}, 0},
		{"anthropic cut after start", Anthropic, cut(anthropicStream, 1), Usage{Tokens: tokens.Tokens{InputTokens: 2125, OutputTokens: 1, CachedInputTokens: 2000, CacheWriteTokens: 100, CacheWrite1hTokens: 60}}, 0},
		{"anthropic message_delta repeating the cache counts as zeros", Anthropic,
			"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":40,\"ephemeral_1h_input_tokens\":60},\"output_tokens\":1}}}\n\n" +
				"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":15}}\n\n" +
				"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			Usage{Tokens: tokens.Tokens{InputTokens: 2125, OutputTokens: 15, CachedInputTokens: 2000, CacheWriteTokens: 100, CacheWrite1hTokens: 60}, Found: true}, 0},
		{"gemini", Gemini, geminiStream, Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 38, CachedInputTokens: 2}, Found: true}, 0},
		{"gemini cut", Gemini, strings.Join(strings.SplitAfter(geminiStream, "\r\n\r\n")[:2], ""),
			// "The" + " opposite of hot is cold.\n" = 29 characters → 8 tokens,
			// more than the 4 of the running usageMetadata
			Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 8}}, 0},
		{"cohere", Cohere, cohereStream, Usage{Tokens: tokens.Tokens{InputTokens: 69, OutputTokens: 9}, Found: true}, 0},
		{"cohere cut", Cohere, cut(cohereStream, 6),
			// "Hello world" = 11 characters → 3 tokens; the citation's text is not counted
			Usage{Tokens: tokens.Tokens{OutputTokens: 3}}, 0},
		{"empty stream", OpenAI, "", Usage{}, 0},
		{"unknown protocol meters as openai", "mistral", openAIChatStream, Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 12}, Found: true}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, only := meter(t, tc.protocol, tc.stream)
			if got := m.Usage(); got != tc.want {
				t.Fatalf("Usage() = %+v, want %+v", got, tc.want)
			}
			if m.Partial() == tc.want.Found {
				t.Fatalf("Partial() = %v with Found = %v", m.Partial(), tc.want.Found)
			}
			if len(only) != tc.usageOnly {
				t.Fatalf("IsUsageOnlyChunk picked %d events, want %d: %q", len(only), tc.usageOnly, only)
			}
		})
	}
}

// TestStreamMeterUnreadableUsage: a usage event whose counts are not
// counts leaves the stream partial, with an error naming the count, and
// its usage an estimate from the streamed content, never zero tokens as if
// reported.
func TestStreamMeterUnreadableUsage(t *testing.T) {
	chat := strings.SplitAfter(openAIChatStream, "\n\n")
	cases := []struct {
		name, protocol, stream, field string
		want                          Usage
	}{
		{"openai prompt_tokens", OpenAI, strings.Join(chat[:4], "") +
			`data: {"choices":[],"usage":{"prompt_tokens":"abc","completion_tokens":12}}` + "\n\n",
			"prompt_tokens", Usage{Tokens: tokens.Tokens{OutputTokens: 12}}},
		{"openai completion_tokens", OpenAI, strings.Join(chat[:4], "") +
			`data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":"lots"}}` + "\n\n",
			// the 28 streamed characters → 7 tokens
			"completion_tokens", Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 7}}},
		{"responses", OpenAI, `data: {"type":"response.output_text.delta","delta":"Hi there"}` + "\n\n" +
			`data: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":[1]}}}` + "\n\n",
			"output_tokens", Usage{Tokens: tokens.Tokens{InputTokens: 5, OutputTokens: 2}}},
		{"anthropic", Anthropic, cut(anthropicStream, 5) +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":\"15\"}}\n\n",
			"output_tokens", Usage{Tokens: tokens.Tokens{InputTokens: 2125, OutputTokens: 2, CachedInputTokens: 2000, CacheWriteTokens: 100, CacheWrite1hTokens: 60}}},
		{"gemini", Gemini, `data: {"candidates":[{"content":{"parts":[{"text":"abcdefgh"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":-3}}` + "\n\n",
			"candidatesTokenCount", Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 2}}},
		{"cohere", Cohere, cut(cohereStream, 6) +
			`data: {"type":"message-end","delta":{"usage":{"tokens":{"input_tokens":"69","output_tokens":9}}}}` + "\n\n",
			"input_tokens", Usage{Tokens: tokens.Tokens{OutputTokens: 9}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := meter(t, tc.protocol, tc.stream)
			if !m.Partial() {
				t.Fatal("a stream whose usage could not be read is not partial")
			}
			err := m.Err()
			if !errors.Is(err, ErrUnreadableUsage) || !strings.Contains(err.Error(), `"`+tc.field+`"`) {
				t.Fatalf("Err() = %v, want ErrUnreadableUsage naming %q", err, tc.field)
			}
			if got := m.Usage(); got != tc.want {
				t.Fatalf("Usage() = %+v, want %+v", got, tc.want)
			}
		})
	}
	if m, _ := meter(t, OpenAI, openAIChatStream); m.Err() != nil {
		t.Fatalf("a readable stream has Err() = %v", m.Err())
	}
}

func TestIsUsageOnlyChunk(t *testing.T) {
	cases := []struct {
		name, protocol, data string
		want                 bool
	}{
		{"final usage chunk", OpenAI, `{"id":"c","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`, true},
		{"spaced", OpenAI, `{"choices": [ ], "usage": {"prompt_tokens": 1}}`, true},
		{"null usage", OpenAI, `{"choices":[],"usage":null}`, false},
		{"usage with choices", OpenAI, `{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":{"prompt_tokens":1}}`, false},
		{"no choices member", OpenAI, `{"usage":{"prompt_tokens":1}}`, false},
		{"usage mentioned in content", OpenAI, `{"choices":[{"delta":{"content":"\"usage\":{}, \"choices\":[]"}}]}`, false},
		{"done", OpenAI, `[DONE]`, false},
		{"other protocol", Anthropic, `{"choices":[],"usage":{"input_tokens":1}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := NewStreamMeter(tc.protocol)
			if got := m.IsUsageOnlyChunk(sse.Event{Data: []byte(tc.data)}); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCountText(t *testing.T) {
	cases := []struct {
		name, data string
		want       int64
	}{
		{"plain", `{"text":"abcd"}`, 4},
		{"nested and spaced", `{"a":{"b":[{"text" : "ab"},{"text":"c"}]}}`, 3},
		{"escapes count once", `{"text":"a\nb\"c\\d\u00e9"}`, 8},
		{"surrogate pair is one", `{"text":"\ud83d\ude00!"}`, 2},
		{"utf-8 runes", `{"text":"héllo 世界"}`, 8},
		{"non-string value", `{"text":{"text":"ab"},"x":1}`, 2},
		{"key inside a string", `{"other":"\"text\":\"zzzz\""}`, 0},
		{"other keys", `{"role":"assistant","texts":"no"}`, 0},
		{"unterminated", `{"text":"abc`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := sum(countText([]byte(tc.data), geminiText)); got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReasoningCountedOnce(t *testing.T) {
	// OpenRouter sends the same reasoning twice in one chunk.
	d := `{"choices":[{"delta":{"content":"","reasoning":"abcdefgh","reasoning_details":[{"type":"reasoning.text","text":"abcdefgh"}]}}]}`
	m := NewStreamMeter(OpenAI)
	m.Observe(sse.Event{Data: []byte(d)})
	if got := m.Usage().OutputTokens; got != 2 {
		t.Fatalf("OutputTokens = %d, want 2 (8 characters once)", got)
	}
}

func FuzzStreamMeter(f *testing.F) {
	for _, s := range []string{openAIChatStream, openAIToolStream, openAIResponsesStream, anthropicStream, geminiStream, cohereStream} {
		for p := range protocols {
			f.Add(uint8(p), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, p uint8, stream []byte) {
		m := NewStreamMeter(protocols[int(p)%len(protocols)])
		rd := sse.NewReader(strings.NewReader(string(stream)))
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			m.IsUsageOnlyChunk(ev)
			m.Observe(ev)
			u := m.Usage()
			if u.InputTokens < 0 || u.OutputTokens < 0 || u.CachedInputTokens < 0 {
				t.Fatalf("negative count: %+v", u)
			}
			if u.Found == m.Partial() {
				t.Fatalf("Found %v with Partial %v", u.Found, m.Partial())
			}
		}
	})
}

// events splits a stream into events once, outside the timed loop.
func events(b *testing.B, stream string) []sse.Event {
	rd := sse.NewReader(strings.NewReader(stream))
	var evs []sse.Event
	for {
		ev, err := rd.Next()
		if err != nil {
			return evs
		}
		evs = append(evs, sse.Event{Name: ev.Name, Data: append([]byte(nil), ev.Data...)})
	}
}

// BenchmarkStreamMeter meters whole streams of seven events (the OpenAI one is
// padded with content chunks to seven) without the SSE parsing.
func BenchmarkStreamMeter(b *testing.B) {
	chat := strings.SplitAfter(openAIChatStream, "\n\n")
	resp := strings.SplitAfter(openAIResponsesStream, "\n\n")
	streams := []struct{ protocol, name, stream string }{
		{OpenAI, "openai-chat", chat[0] + chat[1] + chat[1] + strings.Join(chat[2:], "")},
		{OpenAI, "openai-responses", strings.Join(resp[:4], "") + resp[2] + strings.Join(resp[4:], "")},
		{Anthropic, "anthropic", cut(anthropicStream, 7)},
		{Cohere, "cohere", cohereStream},
	}
	for _, s := range streams {
		evs := events(b, s.stream)
		if len(evs) != 7 {
			b.Fatalf("%s: %d events, want 7", s.name, len(evs))
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := StreamMeter{p: NewStreamMeter(s.protocol).p}
				for _, ev := range evs {
					m.IsUsageOnlyChunk(ev)
					m.Observe(ev)
				}
				if m.Partial() {
					b.Fatal("no usage")
				}
			}
		})
	}
}

// BenchmarkStreamPipeline is the proxy's whole per-stream work: SSE parsing
// plus metering of a seven-event Anthropic stream.
func BenchmarkStreamPipeline(b *testing.B) {
	stream := cut(anthropicStream, 7)
	r := strings.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		rd := sse.NewReader(r)
		m := NewStreamMeter(Anthropic)
		for {
			ev, err := rd.Next()
			if err != nil {
				break
			}
			m.Observe(ev)
		}
		if m.Partial() {
			b.Fatal("no usage")
		}
	}
}
