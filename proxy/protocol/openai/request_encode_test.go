package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func TestEncodeRequest(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	tests := []struct {
		name        string
		req         protocol.Request
		want        string
		wantOmitted []string
	}{
		{
			name: "system parts joined, sampling, stream asks for usage",
			req: protocol.Request{
				Model: "gpt-4o", Stream: true,
				System:    []protocol.Part{text("a"), {Type: protocol.PartText, Text: "b", Cache: &protocol.CacheControl{}}},
				Messages:  []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("hi")}}},
				MaxTokens: 100, Temperature: ptr(0.5), TopP: ptr(1.0), TopK: ptr(int64(40)), Seed: ptr(int64(1)),
				FrequencyPenalty: ptr(0.1), PresencePenalty: ptr(0.2), Stop: []string{"x"}, User: "u", N: 1,
			},
			want: `{"model":"gpt-4o","messages":[{"role":"system","content":"a\n\nb"},{"role":"user","content":"hi"}],
				"max_tokens":100,"temperature":0.5,"top_p":1,"seed":1,"frequency_penalty":0.1,"presence_penalty":0.2,"stop":["x"],"user":"u",
				"stream":true,"stream_options":{"include_usage":true}}`,
			wantOmitted: []string{"cache_control", "top_k"},
		},
		{
			name: "tool calls, results split into tool messages, images of results follow as a user message",
			req: protocol.Request{
				Model: "m",
				Messages: []protocol.Message{
					{Role: protocol.RoleAssistant, Parts: []protocol.Part{
						{Type: protocol.PartThinking, Text: "hmm", Signature: "sig"},
						text("Let me look."),
						{Type: protocol.PartToolCall, ID: "toolu_1", Name: "look", Arguments: `{"q":1}`},
						{Type: protocol.PartToolCall, ID: "toolu_2", Name: "shot"},
					}},
					{Role: protocol.RoleUser, Parts: []protocol.Part{
						{Type: protocol.PartToolResult, ID: "toolu_1", Name: "look", Content: []protocol.Part{text("found")}},
						{Type: protocol.PartToolResult, ID: "toolu_2", IsError: true, Content: []protocol.Part{text("screen:"), {Type: protocol.PartImage, MediaType: "image/png", Data: "AAAA"}}},
						text("Go on."),
					}},
				},
				Tools: []protocol.Tool{
					{Name: "look", Description: "Looks.", Parameters: json.RawMessage(`{"type":"object"}`), Strict: true},
					{Name: "shot", Cache: &protocol.CacheControl{TTL: "1h"}},
				},
				ToolChoice:        protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "look", Set: true},
				ParallelToolCalls: ptr(false),
			},
			want: `{"model":"m","messages":[
				{"role":"assistant","content":"Let me look.","tool_calls":[
					{"id":"toolu_1","type":"function","function":{"name":"look","arguments":"{\"q\":1}"}},
					{"id":"toolu_2","type":"function","function":{"name":"shot","arguments":"{}"}}]},
				{"role":"tool","content":"found","tool_call_id":"toolu_1"},
				{"role":"tool","content":"screen:","tool_call_id":"toolu_2"},
				{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},{"type":"text","text":"Go on."}]}],
				"tools":[{"type":"function","function":{"name":"look","description":"Looks.","parameters":{"type":"object"},"strict":true}},
					{"type":"function","function":{"name":"shot"}}],
				"tool_choice":{"type":"function","function":{"name":"look"}},"parallel_tool_calls":false}`,
			wantOmitted: []string{"thinking", "is_error", "cache_control"},
		},
		{
			name: "assistant turn of tool calls only has null content; tool choice required",
			req: protocol.Request{
				Model: "m",
				Messages: []protocol.Message{{Role: protocol.RoleAssistant, Parts: []protocol.Part{
					{Type: protocol.PartRedactedThinking, Data: "xx"},
					{Type: protocol.PartToolCall, ID: "c", Name: "f", Arguments: "{}"},
				}}},
				ToolChoice: protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true},
			},
			want:        `{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}],"tool_choice":"required"}`,
			wantOmitted: []string{"redacted_thinking"},
		},
		{
			name: "media: URL image, audio, PDF, text document",
			req: protocol.Request{Model: "m", Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartImage, URL: "https://x/y.jpg"},
				{Type: protocol.PartAudio, MediaType: "audio/mpeg", Data: "SUQz"},
				{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBE"},
				{Type: protocol.PartDocument, MediaType: "text/plain", Data: "aGVsbG8="},
			}}}},
			want: `{"model":"m","messages":[{"role":"user","content":[
				{"type":"image_url","image_url":{"url":"https://x/y.jpg"}},
				{"type":"input_audio","input_audio":{"data":"SUQz","format":"mp3"}},
				{"type":"file","file":{"file_data":"data:application/pdf;base64,JVBE","filename":"document.pdf"}},
				{"type":"text","text":"hello"}]}]}`,
		},
		{
			name: "json schema format, budget becomes an effort",
			req: protocol.Request{
				Model:          "m",
				Messages:       []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("x")}}},
				ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{"type":"object"}`), Strict: true},
				Reasoning:      &protocol.Reasoning{BudgetTokens: 10000},
			},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],
				"response_format":{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"},"strict":true}},
				"reasoning_effort":"medium"}`,
		},
		{
			name: "json object format, disabled reasoning, tool choice auto",
			req: protocol.Request{
				Model:          "m",
				Messages:       []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("x")}}},
				ResponseFormat: &protocol.ResponseFormat{},
				Reasoning:      &protocol.Reasoning{Disabled: true},
				ToolChoice:     protocol.ToolChoice{Set: true},
			},
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"auto","response_format":{"type":"json_object"},"reasoning_effort":"none"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call, err := Chat.EncodeRequest(&tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if call.Path != "/chat/completions" || call.Query != "" || call.Header != nil {
				t.Errorf("call = %q %q %v", call.Path, call.Query, call.Header)
			}
			if !sameJSON(t, call.Body, []byte(tt.want)) {
				t.Errorf("body\n%s\nwant\n%s", call.Body, tt.want)
			}
			if !reflect.DeepEqual(tt.req.Omitted(), tt.wantOmitted) {
				t.Errorf("Omitted = %v, want %v", tt.req.Omitted(), tt.wantOmitted)
			}
		})
	}
}

func TestEncodeRequestUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		parts []protocol.Part
		param string
	}{
		{"document by URL", []protocol.Part{{Type: protocol.PartDocument, URL: "https://x/a.pdf"}}, "messages[0].content[0] (document)"},
		{"word document", []protocol.Part{{Type: protocol.PartDocument, MediaType: "application/msword", Data: "AA"}}, "messages[0].content[0] (document)"},
		{"flac audio", []protocol.Part{{Type: protocol.PartAudio, MediaType: "audio/flac", Data: "AA"}}, "messages[0].content[0] (audio)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := protocol.Request{Model: "m", Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: tt.parts}}}
			_, err := Chat.EncodeRequest(&req)
			var u *protocol.Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("err = %v, want *Unsupported", err)
			}
			if u.Param != tt.param || u.Provider != "openai" {
				t.Errorf("Unsupported = %+v", u)
			}
		})
	}
	_, err := Chat.EncodeRequest(&protocol.Request{Op: protocol.OpCountTokens})
	var u *protocol.Unsupported
	if !errors.As(err, &u) {
		t.Errorf("count tokens: err = %v, want *Unsupported", err)
	}
}
