package anthropic

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// encodeBody encodes req and reads the body back as generic JSON.
func encodeBody(t *testing.T, req *protocol.Request) (protocol.Call, map[string]any) {
	t.Helper()
	call, err := Messages.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(call.Body, &body); err != nil {
		t.Fatalf("body %s: %v", call.Body, err)
	}
	return call, body
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func userText(s string) []protocol.Message {
	return []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: s}}}}
}

func TestEncodeRequestBodies(t *testing.T) {
	tests := []struct {
		name string
		req  protocol.Request
		// want maps top-level members to their JSON; members not named
		// must be absent, except model and messages.
		want map[string]string
		omit []string
	}{{
		name: "text with sampling, stop and user",
		req: protocol.Request{Model: "claude-sonnet-4-20250514", Stream: true, MaxTokens: 300, Messages: userText("hi"),
			System:      []protocol.Part{{Type: protocol.PartText, Text: "Be brief.", Cache: &protocol.CacheControl{TTL: "1h"}}},
			Temperature: ptrTo(0.2), TopP: ptrTo(0.8), TopK: ptrTo(int64(5)), Stop: []string{"END"}, User: "u1", Seed: ptrTo(int64(7))},
		want: map[string]string{
			"max_tokens": `300`, "stream": `true`, "temperature": `0.2`, "top_p": `0.8`, "top_k": `5`,
			"stop_sequences": `["END"]`, "metadata": `{"user_id":"u1"}`,
			"system": `[{"cache_control":{"ttl":"1h","type":"ephemeral"},"text":"Be brief.","type":"text"}]`,
		},
		omit: []string{"seed"},
	}, {
		name: "max_tokens from the catalog",
		req:  protocol.Request{Model: "m", DefaultMaxTokens: 64000, Messages: userText("hi")},
		want: map[string]string{"max_tokens": `64000`},
	}, {
		name: "max_tokens default",
		req:  protocol.Request{Model: "m", Messages: userText("hi")},
		want: map[string]string{"max_tokens": `4096`},
	}, {
		name: "tools with a required choice and no parallel calls",
		req: protocol.Request{Model: "m", MaxTokens: 100, Messages: userText("hi"),
			Tools:             []protocol.Tool{{Name: "f", Description: "d", Parameters: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Cache: &protocol.CacheControl{}}, {Name: "g", Strict: true}},
			ToolChoice:        protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true},
			ParallelToolCalls: ptrTo(false)},
		want: map[string]string{
			"max_tokens":  `100`,
			"tools":       `[{"cache_control":{"type":"ephemeral"},"description":"d","input_schema":{"properties":{"a":{"type":"string"}},"type":"object"},"name":"f"},{"input_schema":{"properties":{},"type":"object"},"name":"g","strict":true}]`,
			"tool_choice": `{"disable_parallel_tool_use":true,"type":"any"}`,
		},
	}, {
		name: "tool choice none",
		req: protocol.Request{Model: "m", MaxTokens: 100, Messages: userText("hi"), Tools: []protocol.Tool{{Name: "f"}},
			ToolChoice: protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}, ParallelToolCalls: ptrTo(true)},
		want: map[string]string{"max_tokens": `100`, "tools": `[{"input_schema":{"properties":{},"type":"object"},"name":"f"}]`, "tool_choice": `{"type":"none"}`},
	}, {
		name: "structured output is a forced tool",
		req: protocol.Request{Model: "m", MaxTokens: 100, Messages: userText("hi"),
			ResponseFormat: &protocol.ResponseFormat{Name: "person", Schema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)}},
		want: map[string]string{
			"max_tokens":  `100`,
			"tools":       `[{"description":"Answer with the response, as this tool's input.","input_schema":{"properties":{"name":{"type":"string"}},"type":"object"},"name":"person"}]`,
			"tool_choice": `{"name":"person","type":"tool"}`,
		},
	}, {
		name: "JSON object output without a schema",
		req:  protocol.Request{Model: "m", MaxTokens: 100, Messages: userText("hi"), ResponseFormat: &protocol.ResponseFormat{}},
		want: map[string]string{
			"max_tokens":  `100`,
			"tools":       `[{"description":"Answer with the response, as this tool's input.","input_schema":{"properties":{},"type":"object"},"name":"json_response"}]`,
			"tool_choice": `{"name":"json_response","type":"tool"}`,
		},
	}, {
		name: "an effort becomes a budget below max_tokens, sampling is left out",
		req: protocol.Request{Model: "m", MaxTokens: 5000, Messages: userText("hi"), Reasoning: &protocol.Reasoning{Effort: "high"},
			Temperature: ptrTo(0.3), TopP: ptrTo(0.5), TopK: ptrTo(int64(3))},
		want: map[string]string{"max_tokens": `5000`, "thinking": `{"budget_tokens":4999,"type":"enabled"}`},
		omit: []string{"temperature", "top_p", "top_k"},
	}, {
		name: "a small budget is raised to the minimum",
		req:  protocol.Request{Model: "m", MaxTokens: 5000, Messages: userText("hi"), Reasoning: &protocol.Reasoning{BudgetTokens: 100}},
		want: map[string]string{"max_tokens": `5000`, "thinking": `{"budget_tokens":1024,"type":"enabled"}`},
	}, {
		name: "an effort with the default cap",
		req:  protocol.Request{Model: "m", Messages: userText("hi"), Reasoning: &protocol.Reasoning{Effort: "low"}, Temperature: ptrTo(1.0)},
		want: map[string]string{"max_tokens": `4096`, "thinking": `{"budget_tokens":2048,"type":"enabled"}`},
		omit: []string{"temperature"},
	}, {
		name: "thinking disabled keeps sampling",
		req:  protocol.Request{Model: "m", MaxTokens: 10, Messages: userText("hi"), Reasoning: &protocol.Reasoning{Disabled: true}, Temperature: ptrTo(0.1)},
		want: map[string]string{"max_tokens": `10`, "thinking": `{"type":"disabled"}`, "temperature": `0.1`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			call, body := encodeBody(t, &req)
			if call.Path != "/messages" || call.Header["anthropic-version"] != "2023-06-01" || call.Query != "" {
				t.Errorf("call %q %q %v", call.Path, call.Query, call.Header)
			}
			for k, v := range body {
				if k == "model" || k == "messages" {
					continue
				}
				want, ok := tt.want[k]
				if !ok {
					t.Errorf("unexpected member %s: %s", k, jsonOf(t, v))
					continue
				}
				if got := jsonOf(t, v); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			for k := range tt.want {
				if _, ok := body[k]; !ok {
					t.Errorf("member %s missing", k)
				}
			}
			if !reflect.DeepEqual(req.Omitted(), tt.omit) {
				t.Errorf("Omitted = %q, want %q", req.Omitted(), tt.omit)
			}
		})
	}
}

func TestEncodeRequestContent(t *testing.T) {
	req := &protocol.Request{Model: "m", MaxTokens: 10, Messages: []protocol.Message{
		{Role: protocol.RoleUser, Parts: []protocol.Part{
			{Type: protocol.PartText, Text: "look", Cache: &protocol.CacheControl{}},
			{Type: protocol.PartImage, MediaType: "image/jpeg", Data: "/9j/4AAQ"},
			{Type: protocol.PartImage, URL: "https://example.com/a.png"},
			{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBERi0="},
			{Type: protocol.PartDocument, MediaType: "application/pdf", URL: "https://example.com/a.pdf"},
			{Type: protocol.PartDocument, MediaType: "text/plain", Data: "aGVsbG8="},
		}},
		{Role: protocol.RoleAssistant, Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "hmm", Signature: "sig=="},
			{Type: protocol.PartRedactedThinking, Data: "enc"},
			{Type: protocol.PartText, Text: ""},
			{Type: protocol.PartToolCall, ID: "toolu_1", Name: "f", Arguments: `{"a":1}`},
			{Type: protocol.PartToolCall, ID: "toolu_2", Name: "g"},
		}},
		{Role: protocol.RoleUser, Parts: []protocol.Part{
			{Type: protocol.PartToolResult, ID: "toolu_1", Name: "f", Content: []protocol.Part{{Type: protocol.PartText, Text: "ok"}, {Type: protocol.PartImage, URL: "https://example.com/b.png"}}},
			{Type: protocol.PartToolResult, ID: "toolu_2", Name: "g", IsError: true},
		}},
	}}
	_, body := encodeBody(t, req)
	want := `[{"content":[{"cache_control":{"type":"ephemeral"},"text":"look","type":"text"},` +
		`{"source":{"data":"/9j/4AAQ","media_type":"image/jpeg","type":"base64"},"type":"image"},` +
		`{"source":{"type":"url","url":"https://example.com/a.png"},"type":"image"},` +
		`{"source":{"data":"JVBERi0=","media_type":"application/pdf","type":"base64"},"type":"document"},` +
		`{"source":{"type":"url","url":"https://example.com/a.pdf"},"type":"document"},` +
		`{"source":{"data":"hello","media_type":"text/plain","type":"text"},"type":"document"}],"role":"user"},` +
		`{"content":[{"signature":"sig==","thinking":"hmm","type":"thinking"},{"data":"enc","type":"redacted_thinking"},` +
		`{"id":"toolu_1","input":{"a":1},"name":"f","type":"tool_use"},{"id":"toolu_2","input":{},"name":"g","type":"tool_use"}],"role":"assistant"},` +
		`{"content":[{"content":[{"text":"ok","type":"text"},{"source":{"type":"url","url":"https://example.com/b.png"},"type":"image"}],"tool_use_id":"toolu_1","type":"tool_result"},` +
		`{"is_error":true,"tool_use_id":"toolu_2","type":"tool_result"}],"role":"user"}]`
	if got := jsonOf(t, body["messages"]); got != want {
		t.Errorf("messages\n%s\nwant\n%s", got, want)
	}
}

func TestEncodeRequestRefusals(t *testing.T) {
	tests := []struct {
		name  string
		req   protocol.Request
		param string
	}{
		{"n", protocol.Request{N: 2}, "n"},
		{"frequency penalty", protocol.Request{FrequencyPenalty: ptrTo(0.5)}, "frequency_penalty"},
		{"presence penalty", protocol.Request{PresencePenalty: ptrTo(0.5)}, "presence_penalty"},
		{"tools and a format", protocol.Request{Tools: []protocol.Tool{{Name: "f"}}, ResponseFormat: &protocol.ResponseFormat{}}, "response_format"},
		{"thinking with a small cap", protocol.Request{MaxTokens: 1024, Reasoning: &protocol.Reasoning{Effort: "low"}}, "max_tokens"},
		{"audio", protocol.Request{Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "UklG"}}}}}, "messages[0].content[0] (audio)"},
		{"system image", protocol.Request{System: []protocol.Part{{Type: protocol.PartImage, URL: "u"}}}, "system[0] (image)"},
		{"word document", protocol.Request{Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartDocument, MediaType: "application/msword", Data: "AA=="}}}}}, "messages[0].content[0] (document application/msword)"},
		{"embeddings", protocol.Request{Op: protocol.OpEmbed}, "embeddings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			_, err := Messages.EncodeRequest(&req)
			var u *protocol.Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("error %v, want *Unsupported", err)
			}
			if u.Param != tt.param || u.Provider != provider {
				t.Errorf("Unsupported %+v, want Param %q", u, tt.param)
			}
		})
	}
}

func TestEncodeRequestCountTokens(t *testing.T) {
	req := &protocol.Request{Op: protocol.OpCountTokens, Model: "m", MaxTokens: 100, Stream: true, Temperature: ptrTo(0.5), Messages: userText("hi"),
		Tools: []protocol.Tool{{Name: "f"}}, Reasoning: &protocol.Reasoning{BudgetTokens: 2000}}
	call, body := encodeBody(t, req)
	if call.Path != "/messages/count_tokens" {
		t.Errorf("Path = %q", call.Path)
	}
	for _, k := range []string{"max_tokens", "stream", "temperature"} {
		if _, ok := body[k]; ok {
			t.Errorf("count_tokens body has %s", k)
		}
	}
	if jsonOf(t, body["thinking"]) != `{"budget_tokens":2000,"type":"enabled"}` || body["tools"] == nil {
		t.Errorf("body %v", body)
	}
}

// TestThinkingSignatureSurvives checks that a signed thinking block of an
// earlier assistant turn reaches Anthropic with its signature byte for
// byte, as Anthropic verifies it.
func TestThinkingSignatureSurvives(t *testing.T) {
	req := decodeFixture(t, "request_reasoning.json")
	call, err := Messages.EncodeRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	var w wireRequest
	if err := json.Unmarshal(call.Body, &w); err != nil {
		t.Fatal(err)
	}
	var orig struct {
		Messages []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(fixture(t, "request_reasoning.json"), &orig); err != nil {
		t.Fatal(err)
	}
	var blocks []wireBlock
	if err := json.Unmarshal(orig.Messages[1].Content, &blocks); err != nil {
		t.Fatal(err)
	}
	got := w.Messages[1].Content
	if got[0].Type != "thinking" || got[0].Signature != blocks[0].Signature || got[0].Thinking != blocks[0].Thinking {
		t.Errorf("thinking block %+v, want signature %q", got[0], blocks[0].Signature)
	}
	if got[1].Type != "redacted_thinking" || got[1].Data != blocks[1].Data {
		t.Errorf("redacted thinking %+v, want data %q", got[1], blocks[1].Data)
	}
}
