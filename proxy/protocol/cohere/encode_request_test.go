package cohere

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func encodeBody(t *testing.T, req *protocol.Request) (protocol.Call, refChatRequest) {
	t.Helper()
	call, err := Chat.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var body refChatRequest
	if err := json.Unmarshal(call.Body, &body); err != nil {
		t.Fatalf("%v in %s", err, call.Body)
	}
	return call, body
}

// TestEncodeRequest checks the provider bodies against the reference's
// request shape.
func TestEncodeRequest(t *testing.T) {
	tools := []protocol.Tool{
		{Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`), Strict: true},
		{Name: "get_time", Cache: &protocol.CacheControl{}},
	}
	req := &protocol.Request{
		Op:          protocol.OpGenerate,
		Model:       "command-a-03-2025",
		Stream:      true,
		System:      []protocol.Part{{Type: protocol.PartText, Text: "Be brief.", Cache: &protocol.CacheControl{TTL: "1h"}}},
		Tools:       tools,
		ToolChoice:  protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "get_weather", Set: true},
		MaxTokens:   500,
		Temperature: ptr(0.5),
		TopP:        ptr(0.8),
		TopK:        ptr(int64(20)),
		Seed:        ptr(int64(3)),
		Stop:        []string{"###"},
		Reasoning:   &protocol.Reasoning{Effort: "low"},
		User:        "u-1",
		Messages: []protocol.Message{
			{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartText, Text: "Weather in Paris?"},
				{Type: protocol.PartImage, MediaType: "image/jpeg", Data: "AAAA"},
			}},
			{Role: protocol.RoleAssistant, Parts: []protocol.Part{
				{Type: protocol.PartThinking, Text: "I should call the tool.", Signature: "sig"},
				{Type: protocol.PartRedactedThinking, Data: "xyz"},
				{Type: protocol.PartText, Text: "Let me check."},
				{Type: protocol.PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`},
				{Type: protocol.PartToolCall, ID: "call_2", Name: "get_time"},
			}},
			{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartText, Text: "Thanks"},
				{Type: protocol.PartToolResult, ID: "call_1", Name: "get_weather", Content: []protocol.Part{{Type: protocol.PartText, Text: "18C"}}},
				{Type: protocol.PartToolResult, ID: "call_2", IsError: true, Content: []protocol.Part{
					{Type: protocol.PartText, Text: "failed"},
					{Type: protocol.PartDocument, MediaType: "text/plain", Data: "bG9n"},
				}},
			}},
		},
	}
	call, body := encodeBody(t, req)
	equal(t, "path", call.Path, "/v2/chat")
	equal(t, "omitted", req.Omitted(), []string{"cache_control", "redacted_thinking", "is_error", "user"})
	if body.Model != "command-a-03-2025" || !body.Stream || *body.MaxTokens != 500 || *body.Temperature != 0.5 || *body.P != 0.8 || *body.K != 20 || *body.Seed != 3 {
		t.Errorf("parameters: %s", call.Body)
	}
	equal(t, "stop_sequences", body.StopSequences, []string{"###"})
	// A named tool is REQUIRED with only that tool.
	if body.ToolChoice != "REQUIRED" || len(body.Tools) != 1 || body.Tools[0].Function.Name != "get_weather" || body.Tools[0].Type != "function" || !body.StrictTools {
		t.Errorf("tools: %s", call.Body)
	}
	if body.Thinking == nil || body.Thinking.Type != "enabled" || body.Thinking.TokenBudget != 2048 {
		t.Errorf("thinking: %+v", body.Thinking)
	}
	roles := []string{}
	for _, m := range body.Messages {
		roles = append(roles, m.Role)
	}
	equal(t, "roles", roles, []string{"system", "user", "assistant", "tool", "tool", "user"})
	m := body.Messages
	equal(t, "system", m[0].Content, any("Be brief."))
	equal(t, "user content", m[1].Content, any([]any{
		map[string]any{"type": "text", "text": "Weather in Paris?"},
		map[string]any{"type": "image_url", "image_url": map[string]any{"url": "data:image/jpeg;base64,AAAA"}},
	}))
	equal(t, "tool_plan", m[2].ToolPlan, "Let me check.")
	equal(t, "assistant content", m[2].Content, any([]any{map[string]any{"type": "thinking", "thinking": "I should call the tool."}}))
	if len(m[2].ToolCalls) != 2 || m[2].ToolCalls[0].ID != "call_1" || m[2].ToolCalls[0].Function.Arguments != `{"city":"Paris"}` || m[2].ToolCalls[1].Function.Arguments != "{}" || m[2].ToolCalls[1].Type != "function" {
		t.Errorf("tool calls: %+v", m[2].ToolCalls)
	}
	equal(t, "tool 1", m[3].ToolCallID, "call_1")
	equal(t, "tool 1 content", m[3].Content, any("18C"))
	equal(t, "tool 2 content", m[4].Content, any([]any{
		map[string]any{"type": "text", "text": "failed"},
		map[string]any{"type": "document", "document": map[string]any{"data": map[string]any{"text": "log"}}},
	}))
	equal(t, "last user", m[5].Content, any("Thanks"))
}

func TestEncodeRequestOptions(t *testing.T) {
	tests := []struct {
		name  string
		req   protocol.Request
		check func(t *testing.T, b refChatRequest, raw []byte)
	}{
		{"json schema", protocol.Request{ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{"type":"object"}`), Name: "x"}}, func(t *testing.T, b refChatRequest, raw []byte) {
			if b.ResponseFormat == nil || b.ResponseFormat.Type != "json_object" || b.ResponseFormat.JSONSchema["type"] != "object" {
				t.Errorf("response_format: %s", raw)
			}
		}},
		{"thinking disabled", protocol.Request{Reasoning: &protocol.Reasoning{Disabled: true}}, func(t *testing.T, b refChatRequest, raw []byte) {
			equal(t, "thinking", b.Thinking.Type, "disabled")
		}},
		{"thinking default", protocol.Request{Reasoning: &protocol.Reasoning{}}, func(t *testing.T, b refChatRequest, raw []byte) {
			equal(t, "thinking", *b.Thinking, struct {
				Type        string `json:"type"`
				TokenBudget int    `json:"token_budget"`
			}{Type: "enabled"})
		}},
		{"tool choice none, tool without parameters", protocol.Request{Tools: []protocol.Tool{{Name: "f"}}, ToolChoice: protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}}, func(t *testing.T, b refChatRequest, raw []byte) {
			equal(t, "tool_choice", b.ToolChoice, "NONE")
			equal(t, "parameters", b.Tools[0].Function.Parameters, map[string]any{"type": "object", "properties": map[string]any{}})
			equal(t, "strict", b.StrictTools, false)
		}},
		{"tool choice auto is the default", protocol.Request{Tools: []protocol.Tool{{Name: "f"}}, ToolChoice: protocol.ToolChoice{Set: true}}, func(t *testing.T, b refChatRequest, raw []byte) {
			equal(t, "tool_choice", b.ToolChoice, "")
		}},
		{"unset parameters are not sent", protocol.Request{}, func(t *testing.T, b refChatRequest, raw []byte) {
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			if len(m) != 2 {
				t.Errorf("want only model and messages: %s", raw)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Model = "m"
			tt.req.Messages = []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "hi"}}}}
			call, b := encodeBody(t, &tt.req)
			tt.check(t, b, call.Body)
		})
	}
}

func TestEncodeRequestUnsupported(t *testing.T) {
	user := func(p protocol.Part) []protocol.Message {
		return []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{p}}}
	}
	tests := []struct {
		name  string
		req   protocol.Request
		param string
	}{
		{"n", protocol.Request{N: 2}, "n"},
		{"audio", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "AA"})}, "messages[0].content[0] (audio)"},
		{"document in a user turn", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "AA"})}, "messages[0].content[0] (document)"},
		{"pdf in a tool result", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartToolResult, ID: "c", Content: []protocol.Part{{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "AA"}}})}, "messages[0].content[0].content[0] (document)"},
		{"image in a tool result", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartToolResult, ID: "c", Content: []protocol.Part{{Type: protocol.PartImage, URL: "https://x/y.png"}}})}, "messages[0].content[0].content[0] (image)"},
		{"image in the system prompt", protocol.Request{System: []protocol.Part{{Type: protocol.PartText, Text: "a"}, {Type: protocol.PartImage, URL: "https://x/y.png"}}}, "system.content[1] (image)"},
		{"count tokens", protocol.Request{Op: protocol.OpCountTokens}, "count_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Chat.EncodeRequest(&tt.req)
			var u *protocol.Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("error %v, want *protocol.Unsupported", err)
			}
			equal(t, "param", u.Param, tt.param)
			equal(t, "provider", string(u.Provider), "cohere")
		})
	}
}

func TestEncodeEmbed(t *testing.T) {
	tests := []struct {
		req  protocol.Request
		want string
	}{
		{protocol.Request{Op: protocol.OpEmbed, Model: "embed-v4.0", Inputs: []string{"a", "b"}, Dimensions: 256},
			`{"model":"embed-v4.0","texts":["a","b"],"input_type":"search_document","embedding_types":["float"],"output_dimension":256}`},
		{protocol.Request{Op: protocol.OpEmbed, Model: "embed-v4.0", Inputs: []string{"q"}, InputType: "search_query"},
			`{"model":"embed-v4.0","texts":["q"],"input_type":"search_query","embedding_types":["float"]}`},
	}
	for _, tt := range tests {
		call, err := Chat.EncodeRequest(&tt.req)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "path", call.Path, "/v2/embed")
		equal(t, "body", string(call.Body), tt.want)
	}
}
