package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func TestDecodeRequestFixtures(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	tests := []struct {
		file string
		want protocol.Request
	}{{
		file: "request_text.json",
		want: protocol.Request{
			Model: "claude-sonnet-4-20250514", Stream: true, MaxTokens: 1024,
			System: []protocol.Part{text("You are a concise assistant.")},
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("Hello, Claude")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{text("Hello! How can I help?")}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("Name three colours.")}},
			},
			Stop:        []string{"\n\nHuman:"},
			Temperature: ptrTo(0.5), TopP: ptrTo(0.9), TopK: ptrTo(int64(40)),
			User: "user-1234",
		},
	}, {
		file: "request_tools.json",
		want: protocol.Request{
			Model: "claude-sonnet-4-20250514", MaxTokens: 1024,
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("What's the weather like in San Francisco?")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{
					text("I'll check the weather for you."),
					{Type: protocol.PartToolCall, ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather", Arguments: `{"location": "San Francisco, CA", "unit": "celsius"}`},
				}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{
					{Type: protocol.PartToolResult, ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather", Content: []protocol.Part{text("15 degrees")}},
					{Type: protocol.PartToolResult, ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather", Content: []protocol.Part{text("service unavailable")}, IsError: true},
				}},
			},
			Tools: []protocol.Tool{{
				Name: "get_weather", Description: "Get the current weather in a given location",
				Parameters: json.RawMessage(`{
        "type": "object",
        "properties": {
          "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        },
        "required": ["location"]
      }`),
				Cache: &protocol.CacheControl{},
			}},
			ToolChoice:        protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true},
			ParallelToolCalls: ptrTo(false),
		},
	}, {
		file: "request_image.json",
		want: protocol.Request{
			Model: "claude-sonnet-4-20250514", MaxTokens: 1024,
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartImage, MediaType: "image/png", Data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
				{Type: protocol.PartImage, URL: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"},
				{Type: protocol.PartDocument, MediaType: "application/pdf", URL: "https://assets.anthropic.com/m/1cd9d098ac3e6467/original/Claude-3-Model-Card-October-Addendum.pdf"},
				{Type: protocol.PartDocument, MediaType: "text/plain", Data: base64.StdEncoding.EncodeToString([]byte("The grass is green."))},
				text("Describe these."),
			}}},
		},
	}, {
		file: "request_structured.json",
		want: protocol.Request{
			Model: "claude-sonnet-4-5", MaxTokens: 1024,
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
				text("Extract the key information from this email: John Smith (john@example.com) is interested in our Enterprise plan."),
			}}},
			ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{
        "type": "object",
        "properties": {
          "name": {"type": "string"},
          "email": {"type": "string"},
          "plan": {"type": "string"}
        },
        "required": ["name", "email", "plan"],
        "additionalProperties": false
      }`)},
		},
	}, {
		file: "request_reasoning.json",
		want: protocol.Request{
			Model: "claude-sonnet-4-20250514", MaxTokens: 16000,
			System: []protocol.Part{
				text("You are an AI assistant tasked with analyzing literary works."),
				{Type: protocol.PartText, Text: "<the entire contents of Pride and Prejudice>", Cache: &protocol.CacheControl{TTL: "1h"}},
			},
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("What is 27 * 453?")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{
					{Type: protocol.PartThinking, Text: "Let me analyze this step by step...", Signature: "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL+/==+"},
					{Type: protocol.PartRedactedThinking, Data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB4URj/RH7lF6tEzVOnqW3EuKj4vEk8kqOl6nyQyRfWLkBm3"},
					text("27 * 453 = 12,231"),
				}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "And 27 * 454?", Cache: &protocol.CacheControl{}}}},
			},
			Reasoning: &protocol.Reasoning{BudgetTokens: 10000},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := decodeFixture(t, tt.file)
			if !reflect.DeepEqual(*got, tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("decoded\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestDecodeRequestMembers(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *protocol.Request)
	}{{
		name: "unknown and untranslatable members are listed",
		body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"hi"},{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="},"citations":{"enabled":true}},{"type":"image","source":{"type":"file","file_id":"file_1"}}]}],"tools":[{"type":"web_search_20250305","name":"web_search"}],"container":"c","mcp_servers":[],"speed":"fast","service_tier":"auto","inference_geo":"us","cache_control":{"type":"ephemeral"}}`,
		check: func(t *testing.T, r *protocol.Request) {
			want := []string{"container", "mcp_servers",
				"messages[0].content[1] (server_tool_use)", "messages[0].content[2] (document citations)", "messages[0].content[3] (image source file)",
				"speed", "tools[0] (web_search_20250305)"}
			if !reflect.DeepEqual(r.Unknown, want) {
				t.Errorf("Unknown = %q, want %q", r.Unknown, want)
			}
			if len(r.Messages[0].Parts) != 1 || len(r.Tools) != 0 {
				t.Errorf("untranslatable content was kept: %+v %+v", r.Messages, r.Tools)
			}
		},
	}, {
		name: "tool choice tool with parallel calls allowed",
		body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tools":[{"name":"f","input_schema":{"type":"object"},"strict":true}],"tool_choice":{"type":"tool","name":"f","disable_parallel_tool_use":false}}`,
		check: func(t *testing.T, r *protocol.Request) {
			if r.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "f", Set: true}) || r.ParallelToolCalls == nil || !*r.ParallelToolCalls || !r.Tools[0].Strict {
				t.Errorf("tool choice %+v parallel %v tools %+v", r.ToolChoice, r.ParallelToolCalls, r.Tools)
			}
		},
	}, {
		name: "tool choice none",
		body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"none"}}`,
		check: func(t *testing.T, r *protocol.Request) {
			if r.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}) || r.ParallelToolCalls != nil {
				t.Errorf("tool choice %+v parallel %v", r.ToolChoice, r.ParallelToolCalls)
			}
		},
	}, {
		name: "thinking disabled",
		body: `{"model":"m","max_tokens":5,"messages":[],"thinking":{"type":"disabled"}}`,
		check: func(t *testing.T, r *protocol.Request) {
			if !reflect.DeepEqual(r.Reasoning, &protocol.Reasoning{Disabled: true}) {
				t.Errorf("Reasoning = %+v", r.Reasoning)
			}
		},
	}, {
		name: "adaptive thinking with an effort",
		body: `{"model":"m","max_tokens":5,"messages":[],"thinking":{"type":"adaptive"},"output_config":{"effort":"max"}}`,
		check: func(t *testing.T, r *protocol.Request) {
			if !reflect.DeepEqual(r.Reasoning, &protocol.Reasoning{Effort: "high"}) {
				t.Errorf("Reasoning = %+v", r.Reasoning)
			}
		},
	}, {
		name: "adaptive thinking alone is medium",
		body: `{"model":"m","max_tokens":5,"messages":[],"thinking":{"type":"adaptive"}}`,
		check: func(t *testing.T, r *protocol.Request) {
			if !reflect.DeepEqual(r.Reasoning, &protocol.Reasoning{Effort: "medium"}) {
				t.Errorf("Reasoning = %+v", r.Reasoning)
			}
		},
	}, {
		name: "null members are absent",
		body: `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"t","name":"f","input":null}]}],"temperature":null,"system":null}`,
		check: func(t *testing.T, r *protocol.Request) {
			if r.Temperature != nil || r.System != nil || r.Messages[0].Parts[0].Arguments != "" {
				t.Errorf("nulls read as values: %+v", r)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Messages.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestDecodeRequestCountTokens(t *testing.T) {
	r, err := Messages.DecodeRequest(protocol.OpCountTokens, []byte(`{"model":"claude-sonnet-4-20250514","messages":[{"role":"user","content":"Hello, world"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Op != protocol.OpCountTokens || r.MaxTokens != 0 || r.Model != "claude-sonnet-4-20250514" || r.Messages[0].Parts[0].Text != "Hello, world" {
		t.Errorf("decoded %+v", r)
	}
}

func TestDecodeRequestBadRequests(t *testing.T) {
	tests := []struct {
		body  string
		param string
	}{
		{`[]`, ""},
		{`{"model":5}`, "model"},
		{`{"messages":[{"role":"system","content":"x"}]}`, "messages[0].role"},
		{`{"messages":[{"role":"user"}]}`, "messages[0].content"},
		{`{"messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{`{"messages":[{"role":"assistant","content":[{"type":"tool_use","name":"f","input":{}}]}]}`, "messages[0].content[0].id"},
		{`{"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}`, "messages[0].content[0].tool_use_id"},
		{`{"messages":[{"role":"user","content":[{"type":"text","text":"x","cache_control":{"type":"ephemeral","ttl":"2h"}}]}]}`, "messages[0].content[0].cache_control.ttl"},
		{`{"system":[{"type":"image","source":{"type":"url","url":"u"}}]}`, "system[0]"},
		{`{"tool_choice":{"type":"sometimes"}}`, "tool_choice.type"},
		{`{"tool_choice":{"type":"tool"}}`, "tool_choice.name"},
		{`{"thinking":{"type":"enabled"}}`, "thinking.budget_tokens"},
		{`{"output_config":{"format":{"type":"json_schema"}}}`, "output_config.format"},
		{`{"tools":[{"description":"no name"}]}`, "tools[0].name"},
	}
	for _, tt := range tests {
		_, err := Messages.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
		var bad *protocol.BadRequest
		if !errors.As(err, &bad) {
			t.Errorf("%s: error %v, want *BadRequest", tt.body, err)
			continue
		}
		if bad.Param != tt.param {
			t.Errorf("%s: Param %q, want %q (%v)", tt.body, bad.Param, tt.param, err)
		}
	}
}
