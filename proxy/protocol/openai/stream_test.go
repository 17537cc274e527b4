package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

func start(id, model string) protocol.Event {
	return protocol.Event{Type: protocol.EventStart, ID: id, Model: model}
}

func partStart(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventPartStart, Index: i, Part: p}
}

func textDelta(i int, t protocol.PartType, s string) protocol.Event {
	return protocol.Event{Type: protocol.EventDelta, Index: i, Part: protocol.Part{Type: t, Text: s}}
}

func argsDelta(i int, s string) protocol.Event {
	return protocol.Event{Type: protocol.EventDelta, Index: i, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: s}}
}

func partEnd(i int, t protocol.PartType) protocol.Event {
	return protocol.Event{Type: protocol.EventPartEnd, Index: i, Part: protocol.Part{Type: t}}
}

func finish(f protocol.Finish, u *usage.Usage) protocol.Event {
	return protocol.Event{Type: protocol.EventFinish, Finish: f, Usage: u}
}

func usageEvent(u usage.Usage) protocol.Event {
	return protocol.Event{Type: protocol.EventUsage, Usage: &u}
}

var streamFixtures = []struct {
	file string
	want []protocol.Event
}{
	{"stream_text.sse", []protocol.Event{
		start("chatcmpl-123", "gpt-4o-mini"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		textDelta(0, protocol.PartText, "Hello"),
		textDelta(0, protocol.PartText, "! How can I help?"),
		partEnd(0, protocol.PartText),
		finish(protocol.FinishStop, nil),
		usageEvent(usage.Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 12}, Found: true}),
	}},
	{"stream_tools.sse", []protocol.Event{
		start("chatcmpl-tools", "gpt-4o-2024-08-06"),
		partStart(0, protocol.Part{Type: protocol.PartToolCall, ID: "call_abc123", Name: "get_current_weather"}),
		argsDelta(0, `{"location"`),
		argsDelta(0, `: "Boston, MA"}`),
		partEnd(0, protocol.PartToolCall),
		partStart(1, protocol.Part{Type: protocol.PartToolCall, ID: "call_def456", Name: "get_current_weather"}),
		argsDelta(1, `{"location": "Paris, France"}`),
		partEnd(1, protocol.PartToolCall),
		finish(protocol.FinishToolCalls, nil),
		usageEvent(usage.Usage{Tokens: tokens.Tokens{InputTokens: 82, OutputTokens: 36}, Found: true}),
	}},
	{"stream_image.sse", []protocol.Event{
		start("chatcmpl-img", "gpt-4.1-2025-04-14"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		textDelta(0, protocol.PartText, "The image shows a wooden boardwalk"),
		textDelta(0, protocol.PartText, " through a green meadow."),
		partEnd(0, protocol.PartText),
		finish(protocol.FinishLength, nil),
		usageEvent(usage.Usage{Tokens: tokens.Tokens{InputTokens: 1117, OutputTokens: 12, CachedInputTokens: 1024}, Found: true}),
	}},
	{"stream_structured.sse", []protocol.Event{
		start("chatcmpl-json", "gpt-4o-2024-08-06"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		textDelta(0, protocol.PartText, `{"name":"Science Fair",`),
		textDelta(0, protocol.PartText, `"date":"Friday","participants":["Alice","Bob"]}`),
		partEnd(0, protocol.PartText),
		finish(protocol.FinishStop, nil),
	}},
	{"stream_reasoning.sse", []protocol.Event{
		start("1f633d8bfc032625086f14113c411638", "deepseek-reasoner"),
		partStart(0, protocol.Part{Type: protocol.PartThinking}),
		textDelta(0, protocol.PartThinking, "Let me spell it"),
		textDelta(0, protocol.PartThinking, ": s-t-r-a-w-b-e-r-r-y."),
		partEnd(0, protocol.PartThinking),
		partStart(1, protocol.Part{Type: protocol.PartText}),
		textDelta(1, protocol.PartText, "There are 3 Rs"),
		textDelta(1, protocol.PartText, "."),
		partEnd(1, protocol.PartText),
		finish(protocol.FinishStop, &usage.Usage{Tokens: tokens.Tokens{InputTokens: 64, OutputTokens: 305, CachedInputTokens: 64}, ReasoningTokens: 273, Found: true}),
	}},
}

func TestStreamDecoderFixtures(t *testing.T) {
	for _, tt := range streamFixtures {
		t.Run(tt.file, func(t *testing.T) {
			got, err := decodeStream(t, fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("got\n%s", gj)
			}
		})
	}
}

func TestStreamDecoderShapes(t *testing.T) {
	sseOf := func(chunks ...string) []byte {
		var b []byte
		for _, c := range chunks {
			b = protocol.AppendEvent(b, "", []byte(c))
		}
		return b
	}
	tests := []struct {
		name   string
		stream []byte
		want   []protocol.Event
	}{
		{"groq usage in x_groq with the finish; azure filter chunk skipped", sseOf(
			`{"id":"","choices":[],"prompt_filter_results":[]}`,
			`{"id":"g","model":"llama","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}`,
			`{"id":"g","model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"usage":{"prompt_tokens":5,"completion_tokens":1}}}`,
			`[DONE]`), []protocol.Event{
			start("g", "llama"),
			partStart(0, protocol.Part{Type: protocol.PartText}),
			textDelta(0, protocol.PartText, "hi"),
			partEnd(0, protocol.PartText),
			finish(protocol.FinishStop, &usage.Usage{Tokens: tokens.Tokens{InputTokens: 5, OutputTokens: 1}, Found: true}),
		}},
		{"mistral: whole tool calls without index, usage before finish", sseOf(
			`{"id":"m","model":"mistral","choices":[{"index":0,"delta":{"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{\"x\":1}"}},{"id":"b","function":{"name":"g","arguments":"{}"}}]}}]}`,
			`{"id":"m","model":"mistral","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}`,
			`{"id":"m","model":"mistral","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
			`[DONE]`), []protocol.Event{
			start("m", "mistral"),
			partStart(0, protocol.Part{Type: protocol.PartToolCall, ID: "a", Name: "f"}),
			argsDelta(0, `{"x":1}`),
			partEnd(0, protocol.PartToolCall),
			partStart(1, protocol.Part{Type: protocol.PartToolCall, ID: "b", Name: "g"}),
			argsDelta(1, `{}`),
			partEnd(1, protocol.PartToolCall),
			finish(protocol.FinishToolCalls, &usage.Usage{Tokens: tokens.Tokens{InputTokens: 3, OutputTokens: 4}, Found: true}),
		}},
		{"openrouter reasoning, text then a tool call; done without finish ends as stop", sseOf(
			`{"id":"o","model":"x","choices":[{"index":0,"delta":{"reasoning":"r"}}]}`,
			`{"id":"o","model":"x","choices":[{"index":0,"delta":{"content":"t"}}]}`,
			`{"id":"o","model":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{"}}]}}]}`,
			`{"id":"o","model":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}}]}`,
			`[DONE]`), []protocol.Event{
			start("o", "x"),
			partStart(0, protocol.Part{Type: protocol.PartThinking}),
			textDelta(0, protocol.PartThinking, "r"),
			partEnd(0, protocol.PartThinking),
			partStart(1, protocol.Part{Type: protocol.PartText}),
			textDelta(1, protocol.PartText, "t"),
			partEnd(1, protocol.PartText),
			partStart(2, protocol.Part{Type: protocol.PartToolCall, ID: "c", Name: "f"}),
			argsDelta(2, "{"),
			argsDelta(2, "}"),
			partEnd(2, protocol.PartToolCall),
			finish(protocol.FinishStop, nil),
		}},
		{"keep-alives and other choices are ignored", append([]byte(": keep-alive\n\n"), sseOf(
			`{"id":"k","model":"x","choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"},"finish_reason":"stop"}]}`)...), []protocol.Event{
			start("k", "x"),
			partStart(0, protocol.Part{Type: protocol.PartText}),
			textDelta(0, protocol.PartText, "mine"),
			partEnd(0, protocol.PartText),
			finish(protocol.FinishStop, nil),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeStream(t, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("got\n%s", gj)
			}
		})
	}
}

func TestStreamDecoderErrors(t *testing.T) {
	tests := []struct {
		name, data string
		status     int
		message    string
	}{
		{"openai", `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`, 500, "The server had an error"},
		{"openrouter numeric code", `{"id":"x","choices":[],"error":{"code":502,"message":"Provider returned error"}}`, 502, "Provider returned error"},
		{"rate limit", `{"error":{"message":"slow down","type":"rate_limit_error"}}`, 429, "slow down"},
		{"a string", `{"error":"bad things"}`, 0, "bad things"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newStreamDecoder().Decode(nil, sse.Event{Data: []byte(tt.data)})
			var up *protocol.UpstreamError
			if !errors.As(err, &up) {
				t.Fatalf("err = %v, want *UpstreamError", err)
			}
			if up.Status != tt.status || up.Message != tt.message {
				t.Errorf("got %+v", up)
			}
		})
	}
	if _, err := newStreamDecoder().Decode(nil, sse.Event{Data: []byte(`{not json`)}); err == nil {
		t.Error("malformed chunk: no error")
	}
}

// encodeStream writes events through a stream encoder for req.
func encodeStream(req *protocol.Request, events []protocol.Event) []byte {
	e := Chat.NewStreamEncoder(req)
	var out []byte
	for _, ev := range events {
		out = e.Encode(out, ev)
	}
	return e.End(out)
}

// accumulate reads an encoded stream as the official SDK does.
func accumulate(t *testing.T, stream []byte) (openai.ChatCompletionAccumulator, []openai.ChatCompletionChunk) {
	t.Helper()
	var acc openai.ChatCompletionAccumulator
	var chunks []openai.ChatCompletionChunk
	r := sse.NewReader(bytes.NewReader(stream))
	sawDone := false
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if sawDone {
			t.Fatalf("event after [DONE]: %s", ev.Raw)
		}
		if string(ev.Data) == "[DONE]" {
			sawDone = true
			continue
		}
		var c openai.ChatCompletionChunk
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("%s: %v", ev.Data, err)
		}
		if !acc.AddChunk(c) {
			t.Fatalf("the accumulator refused %s", ev.Data)
		}
		chunks = append(chunks, c)
	}
	if !sawDone {
		t.Fatal("no [DONE]")
	}
	return acc, chunks
}

func TestStreamEncoderSDK(t *testing.T) {
	u := usage.Usage{Tokens: tokens.Tokens{InputTokens: 1200, OutputTokens: 80, CachedInputTokens: 1000}, ReasoningTokens: 30, Found: true}
	events := []protocol.Event{
		start("msg_1", "claude-sonnet-4-5"),
		partStart(0, protocol.Part{Type: protocol.PartThinking}),
		textDelta(0, protocol.PartThinking, "Let me "),
		textDelta(0, protocol.PartThinking, "think."),
		{Type: protocol.EventDelta, Index: 0, Part: protocol.Part{Signature: "sig"}},
		partEnd(0, protocol.PartThinking),
		partStart(1, protocol.Part{Type: protocol.PartText}),
		textDelta(1, protocol.PartText, "Checking \"both\"\n"),
		partEnd(1, protocol.PartText),
		partStart(2, protocol.Part{Type: protocol.PartToolCall, ID: "toolu_a", Name: "weather"}),
		argsDelta(2, `{"city":`),
		argsDelta(2, `"Boston"}`),
		partEnd(2, protocol.PartToolCall),
		partStart(3, protocol.Part{Type: protocol.PartToolCall, ID: "toolu_b", Name: "weather"}),
		{Type: protocol.EventDelta, Index: 3, Part: protocol.Part{Arguments: `{"city":"Paris"}`}},
		partEnd(3, protocol.PartToolCall),
		finish(protocol.FinishToolCalls, nil),
		usageEvent(u),
	}
	for _, include := range []bool{true, false} {
		stream := encodeStream(&protocol.Request{Model: "gpt-4o", Stream: true, IncludeStreamUsage: include}, events)
		acc, chunks := accumulate(t, stream)
		c := acc.ChatCompletion
		if c.ID != "msg_1" || c.Model != "claude-sonnet-4-5" || len(c.Choices) != 1 {
			t.Fatalf("completion = %+v", c)
		}
		m := c.Choices[0].Message
		if m.Content != "Checking \"both\"\n" || c.Choices[0].FinishReason != "tool_calls" {
			t.Errorf("content %q finish %q", m.Content, c.Choices[0].FinishReason)
		}
		if len(m.ToolCalls) != 2 || m.ToolCalls[0].ID != "toolu_a" || m.ToolCalls[0].Function.Arguments != `{"city":"Boston"}` ||
			m.ToolCalls[1].ID != "toolu_b" || m.ToolCalls[1].Function.Name != "weather" || m.ToolCalls[1].Function.Arguments != `{"city":"Paris"}` {
			t.Errorf("tool calls = %+v", m.ToolCalls)
		}
		var thinking strings.Builder
		for _, ch := range chunks {
			if len(ch.Choices) > 0 {
				if f, ok := ch.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]; ok {
					var s string
					_ = json.Unmarshal([]byte(f.Raw()), &s)
					thinking.WriteString(s)
				}
			}
		}
		if thinking.String() != "Let me think." {
			t.Errorf("reasoning_content = %q", thinking.String())
		}
		last := chunks[len(chunks)-1]
		if include {
			if len(last.Choices) != 0 || last.Usage.PromptTokens != 1200 || last.Usage.CompletionTokens != 80 || last.Usage.TotalTokens != 1280 ||
				last.Usage.PromptTokensDetails.CachedTokens != 1000 || last.Usage.CompletionTokensDetails.ReasoningTokens != 30 {
				t.Errorf("usage chunk = %+v", last)
			}
		} else if last.JSON.Usage.Valid() {
			t.Errorf("usage written though not asked for: %+v", last)
		}
	}
}
