package openai

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func TestDecodeRequestFixtures(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	weatherSchema := `{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}`
	eventSchema := `{"type":"object","properties":{"name":{"type":"string"},"date":{"type":"string"},"participants":{"type":"array","items":{"type":"string"}}},"required":["name","date","participants"],"additionalProperties":false}`
	tests := []struct {
		file string
		want protocol.Request
		// schemas are compared as JSON, apart from the rest.
		toolSchema, formatSchema string
	}{
		{file: "request_text.json", want: protocol.Request{
			Model: "gpt-4o", Stream: true, IncludeStreamUsage: true,
			System:      []protocol.Part{text("You are a helpful assistant.")},
			Messages:    []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Hello!")}}},
			MaxTokens:   256,
			Temperature: ptr(0.7), TopP: ptr(0.9), Seed: ptr(int64(42)),
			FrequencyPenalty: ptr(0.1), PresencePenalty: ptr(0.2),
			Stop: []string{"\n\n"}, User: "user-1234",
		}},
		{file: "request_tools.json", toolSchema: weatherSchema, want: protocol.Request{
			Model:  "gpt-4o",
			System: []protocol.Part{text("You answer weather questions.")},
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("What's the weather like in Boston and Paris today?")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{
					{Type: protocol.PartToolCall, ID: "call_abc123", Name: "get_current_weather", Arguments: `{"location":"Boston, MA"}`},
					{Type: protocol.PartToolCall, ID: "call_def456", Name: "get_current_weather", Arguments: `{"location":"Paris, France"}`},
				}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{
					{Type: protocol.PartToolResult, ID: "call_abc123", Name: "get_current_weather", Content: []protocol.Part{text(`{"temperature":22,"unit":"celsius"}`)}},
					{Type: protocol.PartToolResult, ID: "call_def456", Name: "get_current_weather", Content: []protocol.Part{text(`{"temperature":18,"unit":"celsius"}`)}},
				}},
			},
			Tools:             []protocol.Tool{{Name: "get_current_weather", Description: "Get the current weather in a given location"}},
			ToolChoice:        protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "get_current_weather", Set: true},
			ParallelToolCalls: ptr(true),
		}},
		{file: "request_image.json", want: protocol.Request{
			Model: "gpt-4o",
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
				text("What's in these images?"),
				{Type: protocol.PartImage, URL: "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"},
				{Type: protocol.PartImage, MediaType: "image/png", Data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
				{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBERi0xLjQK"},
				{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="},
			}}},
			MaxTokens: 300,
		}},
		{file: "request_structured.json", formatSchema: eventSchema, want: protocol.Request{
			Model:          "gpt-4o-2024-08-06",
			System:         []protocol.Part{text("Extract the event information.")},
			Messages:       []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Alice and Bob are going to a science fair on Friday.")}}},
			ResponseFormat: &protocol.ResponseFormat{Name: "calendar_event", Strict: true},
		}},
		{file: "request_reasoning.json", want: protocol.Request{
			Model: "o3-mini",
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("9.11 and 9.8, which is greater?")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{
					{Type: protocol.PartThinking, Text: "Compare the tenths: 8 > 1, so 9.8 is greater."},
					text("9.8 is greater than 9.11."),
				}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("How many Rs are there in the word 'strawberry'?")}},
			},
			Reasoning: &protocol.Reasoning{Effort: "high"},
			MaxTokens: 4096,
			N:         1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Chat.DecodeRequest(protocol.OpGenerate, fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if tt.toolSchema != "" {
				if !sameJSON(t, got.Tools[0].Parameters, []byte(tt.toolSchema)) {
					t.Errorf("tool parameters = %s", got.Tools[0].Parameters)
				}
				got.Tools[0].Parameters = nil
			}
			if tt.formatSchema != "" {
				if !sameJSON(t, got.ResponseFormat.Schema, []byte(tt.formatSchema)) {
					t.Errorf("response format schema = %s", got.ResponseFormat.Schema)
				}
				got.ResponseFormat.Schema = nil
			}
			if !reflect.DeepEqual(*got, tt.want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("got\n%s\nwant\n%s", gj, wj)
			}
		})
	}
}

func TestDecodeRequestMembers(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, r *protocol.Request)
	}{
		{"unknown members listed sorted", `{"model":"m","messages":[],"logit_bias":{"1":2},"audio":{"voice":"x"},"top_logprobs":2,"functions":[]}`, func(t *testing.T, r *protocol.Request) {
			want := []string{"audio", "functions", "logit_bias", "top_logprobs"}
			if !reflect.DeepEqual(r.Unknown, want) {
				t.Errorf("Unknown = %v, want %v", r.Unknown, want)
			}
		}},
		{"null, logprobs false and text modality are nothing", `{"messages":[],"logprobs":false,"modalities":["text"],"temperature":null,"web_search_options":null}`, func(t *testing.T, r *protocol.Request) {
			if r.Unknown != nil || r.Temperature != nil {
				t.Errorf("Unknown = %v, Temperature = %v", r.Unknown, r.Temperature)
			}
		}},
		{"logprobs true and audio modality cannot be translated", `{"messages":[],"logprobs":true,"modalities":["text","audio"],"prediction":{"type":"content","content":"x"}}`, func(t *testing.T, r *protocol.Request) {
			want := []string{"logprobs", "modalities", "prediction"}
			if !reflect.DeepEqual(r.Unknown, want) {
				t.Errorf("Unknown = %v, want %v", r.Unknown, want)
			}
		}},
		{"file_id, custom tools and function role are unknown", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-abc"}}]},{"role":"function","name":"f","content":"x"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, func(t *testing.T, r *protocol.Request) {
			want := []string{"messages[0].content[0].file.file_id", "messages[1] (role function)", "tools[0] (custom)"}
			if !reflect.DeepEqual(r.Unknown, want) {
				t.Errorf("Unknown = %v, want %v", r.Unknown, want)
			}
		}},
		{"stop string, max_tokens, json_object, tool_choice required", `{"messages":[],"stop":"END","max_tokens":7,"response_format":{"type":"json_object"},"tool_choice":"required"}`, func(t *testing.T, r *protocol.Request) {
			if !reflect.DeepEqual(r.Stop, []string{"END"}) || r.MaxTokens != 7 || r.ResponseFormat == nil || r.ResponseFormat.Schema != nil {
				t.Errorf("Stop %v MaxTokens %d ResponseFormat %+v", r.Stop, r.MaxTokens, r.ResponseFormat)
			}
			if r.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true}) {
				t.Errorf("ToolChoice = %+v", r.ToolChoice)
			}
		}},
		{"max_completion_tokens wins, text format is none, effort none disables", `{"messages":[],"max_tokens":7,"max_completion_tokens":9,"response_format":{"type":"text"},"reasoning_effort":"none","tool_choice":"none"}`, func(t *testing.T, r *protocol.Request) {
			if r.MaxTokens != 9 || r.ResponseFormat != nil || r.Reasoning == nil || !r.Reasoning.Disabled || r.ToolChoice.Mode != protocol.ToolNone {
				t.Errorf("MaxTokens %d ResponseFormat %+v Reasoning %+v ToolChoice %+v", r.MaxTokens, r.ResponseFormat, r.Reasoning, r.ToolChoice)
			}
		}},
		{"system parts and a developer message join System", `{"messages":[{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"user","content":"hi"},{"role":"developer","content":"c"}]}`, func(t *testing.T, r *protocol.Request) {
			if len(r.System) != 3 || r.System[2].Text != "c" || len(r.Messages) != 1 {
				t.Errorf("System %+v Messages %+v", r.System, r.Messages)
			}
		}},
		{"user message after tool messages joins them; assistant refusal is text", `{"messages":[{"role":"assistant","refusal":"no","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"c1","content":"r"},{"role":"user","content":"next"},{"role":"user","content":"again"}]}`, func(t *testing.T, r *protocol.Request) {
			if len(r.Messages) != 3 {
				t.Fatalf("Messages = %+v", r.Messages)
			}
			if p := r.Messages[0].Parts; len(p) != 2 || p[0].Text != "no" || p[1].ID != "c1" {
				t.Errorf("assistant = %+v", p)
			}
			if p := r.Messages[1].Parts; len(p) != 2 || p[0].Type != protocol.PartToolResult || p[0].Name != "f" || p[1].Text != "next" {
				t.Errorf("joined user = %+v", p)
			}
		}},
		{"image_url as a bare string", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"https://x/y.png"}]}]}`, func(t *testing.T, r *protocol.Request) {
			if p := r.Messages[0].Parts[0]; p.Type != protocol.PartImage || p.URL != "https://x/y.png" {
				t.Errorf("part = %+v", p)
			}
		}},
		{"raw base64 file_data is a PDF", `{"messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf","file_data":"JVBERi0="}}]}]}`, func(t *testing.T, r *protocol.Request) {
			if p := r.Messages[0].Parts[0]; p.Type != protocol.PartDocument || p.MediaType != "application/pdf" || p.Data != "JVBERi0=" {
				t.Errorf("part = %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Chat.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestDecodeRequestBadRequest(t *testing.T) {
	tests := []struct {
		name, body, param string
	}{
		{"not an object", `[1]`, ""},
		{"no messages", `{"model":"m"}`, "messages"},
		{"messages not an array", `{"messages":{}}`, "messages"},
		{"temperature a string", `{"messages":[],"temperature":"hot"}`, "temperature"},
		{"unknown role", `{"messages":[{"role":"robot","content":"x"}]}`, "messages[0].role"},
		{"tool without id", `{"messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{"tool call without id", `{"messages":[{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f","arguments":"{}"}}]}]}`, "messages[0].tool_calls[0].id"},
		{"image in a system message", `{"messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]}`, "messages[0].content[0].type"},
		{"unknown part type", `{"messages":[{"role":"user","content":[{"type":"video"}]}]}`, "messages[0].content[0].type"},
		{"tool without a name", `{"messages":[],"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name"},
		{"bad tool_choice", `{"messages":[],"tool_choice":"sometimes"}`, "tool_choice"},
		{"json_schema without schema object", `{"messages":[],"response_format":{"type":"json_schema"}}`, "response_format.json_schema"},
		{"count tokens", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := protocol.OpGenerate
			if tt.name == "count tokens" {
				op = protocol.OpCountTokens
			}
			_, err := Chat.DecodeRequest(op, []byte(tt.body))
			var bad *protocol.BadRequest
			if !errors.As(err, &bad) {
				t.Fatalf("err = %v, want *BadRequest", err)
			}
			if bad.Param != tt.param {
				t.Errorf("Param = %q, want %q (%v)", bad.Param, tt.param, err)
			}
		})
	}
}
