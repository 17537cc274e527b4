package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

func TestDecodeResponseFixtures(t *testing.T) {
	tests := []struct {
		file string
		want protocol.Response
	}{
		{"answer_text.json", protocol.Response{
			ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Model: "gpt-4.1-2025-04-14", Created: 1741569952,
			Parts:  []protocol.Part{{Type: protocol.PartText, Text: "Hello! How can I assist you today?"}},
			Finish: protocol.FinishStop,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 19, OutputTokens: 10}, Found: true},
		}},
		{"answer_tools.json", protocol.Response{
			ID: "chatcmpl-abc123", Model: "gpt-4o-mini", Created: 1699896916,
			Parts: []protocol.Part{
				{Type: protocol.PartToolCall, ID: "call_abc123", Name: "get_current_weather", Arguments: "{\n\"location\": \"Boston, MA\"\n}"},
				{Type: protocol.PartToolCall, ID: "call_def456", Name: "get_current_weather", Arguments: `{"location": "Paris, France", "unit": "celsius"}`},
			},
			Finish: protocol.FinishToolCalls,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 82, OutputTokens: 17}, Found: true},
		}},
		{"answer_image.json", protocol.Response{
			ID: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", Model: "gpt-4.1-2025-04-14", Created: 1741570283,
			Parts:  []protocol.Part{{Type: protocol.PartText, Text: "The image shows a wooden boardwalk path running through a lush green field or meadow. The sky is bright blue with some scattered clouds."}},
			Finish: protocol.FinishStop,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 1117, OutputTokens: 46}, Found: true},
		}},
		{"answer_structured.json", protocol.Response{
			ID: "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC", Model: "gpt-4o-2024-08-06", Created: 1721596428,
			Parts:  []protocol.Part{{Type: protocol.PartText, Text: `{"name":"Science Fair","date":"Friday","participants":["Alice","Bob"]}`}},
			Finish: protocol.FinishStop,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 81, OutputTokens: 20, CachedInputTokens: 64}, Found: true},
		}},
		{"answer_reasoning.json", protocol.Response{
			ID: "930c60df-bf64-41c9-a88e-3ec75f81e00e", Model: "deepseek-reasoner", Created: 1737521745,
			Parts: []protocol.Part{
				{Type: protocol.PartThinking, Text: "Let me spell it out: s-t-r-a-w-b-e-r-r-y. The Rs are at positions 3, 8 and 9, so there are three."},
				{Type: protocol.PartText, Text: `There are **3** Rs in the word "strawberry".`},
			},
			Finish: protocol.FinishStop,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 64, OutputTokens: 305}, ReasoningTokens: 273, Found: true},
		}},
		{"answer_reasoning_openrouter.json", protocol.Response{
			ID: "gen-1750000000-abcdEFGHijklMNOP", Model: "anthropic/claude-sonnet-4", Created: 1750000000,
			Parts: []protocol.Part{
				{Type: protocol.PartThinking, Text: "Counting the letters r in strawberry: one after st, two before y."},
				{Type: protocol.PartText, Text: `There are 3 Rs in "strawberry".`},
			},
			Finish: protocol.FinishStop,
			Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 2100, OutputTokens: 120, CachedInputTokens: 1800, CacheWriteTokens: 250}, ReasoningTokens: 80, Found: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Chat.DecodeResponse(&protocol.Request{}, fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestDecodeResponseShapes(t *testing.T) {
	tests := []struct {
		name, body string
		parts      []protocol.Part
		finish     protocol.Finish
		usage      usage.Usage
	}{
		{"mistral thinking chunks", `{"choices":[{"index":0,"message":{"role":"assistant","content":[{"type":"thinking","thinking":[{"type":"text","text":"hm"}]},{"type":"text","text":"ok"}]},"finish_reason":"stop"}]}`,
			[]protocol.Part{{Type: protocol.PartThinking, Text: "hm"}, {Type: protocol.PartText, Text: "ok"}}, protocol.FinishStop, usage.Usage{}},
		{"refusal", `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`,
			[]protocol.Part{{Type: protocol.PartText, Text: "I can't help with that."}}, protocol.FinishStop, usage.Usage{}},
		{"deepseek cache hits, tool call without id", `{"choices":[{"index":0,"message":{"tool_calls":[{"function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_cache_hit_tokens":8}}`,
			[]protocol.Part{{Type: protocol.PartToolCall, ID: "call_0", Name: "f", Arguments: "{}"}}, protocol.FinishToolCalls, usage.Usage{Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 2, CachedInputTokens: 8}, Found: true}},
		{"second choice ignored, content filter", `{"choices":[{"index":1,"message":{"content":"b"},"finish_reason":"stop"},{"index":0,"message":{"content":"a"},"finish_reason":"content_filter"}]}`,
			[]protocol.Part{{Type: protocol.PartText, Text: "a"}}, protocol.FinishContentFilter, usage.Usage{}},
		{"openrouter error finish", `{"choices":[{"index":0,"message":{"content":"par"},"finish_reason":"error"}]}`,
			[]protocol.Part{{Type: protocol.PartText, Text: "par"}}, protocol.FinishError, usage.Usage{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Chat.DecodeResponse(&protocol.Request{}, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Parts, tt.parts) || got.Finish != tt.finish || got.Usage != tt.usage {
				t.Errorf("got %+v %q %+v", got.Parts, got.Finish, got.Usage)
			}
		})
	}
	for _, body := range []string{`{"choices":[]}`, `not json`, `{"error":{"message":"boom","type":"server_error"}}`} {
		if _, err := Chat.DecodeResponse(&protocol.Request{}, []byte(body)); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
	_, err := Chat.DecodeResponse(&protocol.Request{}, []byte(`{"error":{"message":"boom","type":"server_error"}}`))
	var up *protocol.UpstreamError
	if !errors.As(err, &up) || up.Message != "boom" || up.Status != 500 {
		t.Errorf("error answer: %v", err)
	}
}

// TestEncodeResponseSDK checks what callers read with the official SDK.
func TestEncodeResponseSDK(t *testing.T) {
	resp := &protocol.Response{
		ID: "msg_01", Model: "claude-sonnet-4-5", Created: 1750000000,
		Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "think", Signature: "sig"},
			{Type: protocol.PartText, Text: "Checking "},
			{Type: protocol.PartText, Text: "both."},
			{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Type: protocol.PartToolCall, ID: "toolu_2", Name: "get_time"},
		},
		Finish: protocol.FinishToolCalls,
		Usage:  usage.Usage{Tokens: tokens.Tokens{InputTokens: 1500, OutputTokens: 90, CachedInputTokens: 1000, CacheWriteTokens: 300}, ReasoningTokens: 40, Found: true},
	}
	b, err := Chat.EncodeResponse(&protocol.Request{Model: "gpt-4o"}, resp)
	if err != nil {
		t.Fatal(err)
	}
	var c openai.ChatCompletion
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "msg_01" || c.Model != "claude-sonnet-4-5" || c.Created != 1750000000 || c.Object != "chat.completion" || len(c.Choices) != 1 {
		t.Fatalf("completion = %s", b)
	}
	ch := c.Choices[0]
	if ch.FinishReason != "tool_calls" || ch.Message.Content != "Checking both." || ch.Message.Role != "assistant" {
		t.Errorf("choice = %+v", ch)
	}
	if len(ch.Message.ToolCalls) != 2 || ch.Message.ToolCalls[0].ID != "toolu_1" || ch.Message.ToolCalls[0].Function.Name != "get_weather" ||
		ch.Message.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || ch.Message.ToolCalls[1].Function.Arguments != "{}" {
		t.Errorf("tool calls = %+v", ch.Message.ToolCalls)
	}
	if f, ok := ch.Message.JSON.ExtraFields["reasoning_content"]; !ok || f.Raw() != `"think"` {
		t.Errorf("reasoning_content = %v", ch.Message.JSON.ExtraFields)
	}
	u := c.Usage
	if u.PromptTokens != 1500 || u.CompletionTokens != 90 || u.TotalTokens != 1590 || u.PromptTokensDetails.CachedTokens != 1000 || u.CompletionTokensDetails.ReasoningTokens != 40 {
		t.Errorf("usage = %+v", u)
	}

	// Without usage from the provider, none is written; a text answer
	// without an id or time gets both.
	b, err = Chat.EncodeResponse(&protocol.Request{Model: "gpt-4o"}, &protocol.Response{Parts: []protocol.Part{{Type: protocol.PartText, Text: "hi"}}, Finish: protocol.FinishRefusal})
	if err != nil {
		t.Fatal(err)
	}
	c = openai.ChatCompletion{}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if c.JSON.Usage.Valid() || c.ID == "" || c.Created == 0 || c.Model != "gpt-4o" || c.Choices[0].FinishReason != "content_filter" || c.Choices[0].Message.Content != "hi" {
		t.Errorf("completion = %s", b)
	}
}
