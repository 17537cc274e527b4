package responses

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func ptr[T any](v T) *T { return &v }

func text(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }

// compactJSON is s without insignificant whitespace, for comparing schemas.
func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func weatherSchemaJSON(t *testing.T) string {
	b, _ := json.Marshal(weatherSchema)
	return compactJSON(t, b)
}

func decodeFixture(t *testing.T, feature string) *protocol.Request {
	t.Helper()
	req, err := API.DecodeRequest(protocol.OpGenerate, readFixture(t, filepath.Join("testdata", "request_"+feature+".json")))
	if err != nil {
		t.Fatalf("decode %s: %v", feature, err)
	}
	if len(req.Unknown) > 0 {
		t.Errorf("Unknown = %v, want none", req.Unknown)
	}
	return req
}

func TestDecodeText(t *testing.T) {
	req := decodeFixture(t, "text")
	if req.Model != "gpt-4.1" || req.Stream {
		t.Errorf("model %q stream %v", req.Model, req.Stream)
	}
	if !reflect.DeepEqual(req.System, []protocol.Part{text("You are terse.")}) {
		t.Errorf("System = %+v", req.System)
	}
	want := []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Say hello.")}}}
	if !reflect.DeepEqual(req.Messages, want) {
		t.Errorf("Messages = %+v", req.Messages)
	}
	if req.MaxTokens != 256 || *req.Temperature != 0.2 || *req.TopP != 0.9 || req.User != "user-42" {
		t.Errorf("max %d temperature %v top_p %v user %q", req.MaxTokens, *req.Temperature, *req.TopP, req.User)
	}
}

func TestDecodeTools(t *testing.T) {
	req := decodeFixture(t, "tools")
	want := []protocol.Message{
		{Role: protocol.RoleUser, Parts: []protocol.Part{text("What is the weather in Paris and Tokyo?")}},
		{Role: protocol.RoleAssistant, Parts: []protocol.Part{
			{Type: protocol.PartToolCall, ID: "call_paris", Name: "get_weather", Arguments: `{"city":"Paris"}`},
			{Type: protocol.PartToolCall, ID: "call_tokyo", Name: "get_weather", Arguments: `{"city":"Tokyo"}`},
		}},
		{Role: protocol.RoleUser, Parts: []protocol.Part{
			{Type: protocol.PartToolResult, ID: "call_paris", Name: "get_weather", Content: []protocol.Part{text("18C, sunny")}},
			{Type: protocol.PartToolResult, ID: "call_tokyo", Name: "get_weather", Content: []protocol.Part{text("22C, rain")}},
		}},
	}
	if !reflect.DeepEqual(req.Messages, want) {
		t.Errorf("Messages =\n%+v\nwant\n%+v", req.Messages, want)
	}
	if len(req.Tools) != 1 {
		t.Fatalf("Tools = %+v", req.Tools)
	}
	tool := req.Tools[0]
	if tool.Name != "get_weather" || tool.Description != "The current weather in a city." || !tool.Strict ||
		compactJSON(t, tool.Parameters) != weatherSchemaJSON(t) {
		t.Errorf("tool = %+v (%s)", tool, tool.Parameters)
	}
	if req.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolAuto, Set: true}) {
		t.Errorf("ToolChoice = %+v", req.ToolChoice)
	}
	if req.ParallelToolCalls == nil || !*req.ParallelToolCalls {
		t.Errorf("ParallelToolCalls = %v", req.ParallelToolCalls)
	}
}

func TestDecodeImage(t *testing.T) {
	req := decodeFixture(t, "image")
	want := []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
		text("What is in these images and this file?"),
		{Type: protocol.PartImage, MediaType: "image/png", Data: pngBase64},
		{Type: protocol.PartImage, URL: "https://example.com/cat.jpg"},
		{Type: protocol.PartDocument, MediaType: "application/pdf", Data: pdfBase64},
	}}}
	if !reflect.DeepEqual(req.Messages, want) {
		t.Errorf("Messages =\n%+v\nwant\n%+v", req.Messages, want)
	}
}

func TestDecodeStructured(t *testing.T) {
	req := decodeFixture(t, "structured")
	if !reflect.DeepEqual(req.System, []protocol.Part{text("Answer in JSON.")}) {
		t.Errorf("System = %+v", req.System)
	}
	if len(req.Messages) != 1 || req.Messages[0].Role != protocol.RoleUser {
		t.Errorf("Messages = %+v", req.Messages)
	}
	f := req.ResponseFormat
	if f == nil || f.Name != "city" || !f.Strict || compactJSON(t, f.Schema) != weatherSchemaJSON(t) {
		t.Fatalf("ResponseFormat = %+v", f)
	}
}

func TestDecodeReasoning(t *testing.T) {
	req := decodeFixture(t, "reasoning")
	if !req.Stream {
		t.Error("Stream = false")
	}
	if req.Reasoning == nil || *req.Reasoning != (protocol.Reasoning{Effort: "high"}) {
		t.Errorf("Reasoning = %+v", req.Reasoning)
	}
	want := []protocol.Message{
		{Role: protocol.RoleUser, Parts: []protocol.Part{text("How many r are in strawberry?")}},
		{Role: protocol.RoleAssistant, Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "Counting the letters one by one.", Signature: "gAAAAABencrypted"},
			text("Three."),
		}},
		{Role: protocol.RoleUser, Parts: []protocol.Part{text("And in raspberry?")}},
	}
	if !reflect.DeepEqual(req.Messages, want) {
		t.Errorf("Messages =\n%+v\nwant\n%+v", req.Messages, want)
	}
}

// TestDecodeMembers covers what the fixtures do not: Unknown members and
// items, the other forms of tool_choice, text and reasoning.
func TestDecodeMembers(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		check   func(*protocol.Request) bool
		unknown []string
	}{
		{"state", `{"model":"m","input":"hi","previous_response_id":"resp_1","conversation":"conv_1","background":true,"top_logprobs":2}`,
			nil, []string{"background", "conversation", "previous_response_id", "top_logprobs"}},
		{"ignored", `{"model":"m","input":"hi","store":true,"metadata":{"a":"b"},"include":[],"truncation":"auto","service_tier":"flex","prompt_cache_key":"k","safety_identifier":"s","background":false,"instructions":null}`,
			func(r *protocol.Request) bool { return len(r.System) == 0 }, nil},
		{"hosted tools", `{"model":"m","input":"hi","tools":[{"type":"web_search"},{"type":"function","name":"f"},{"type":"mcp","server_label":"x"}],"tool_choice":{"type":"web_search_preview"}}`,
			func(r *protocol.Request) bool {
				return len(r.Tools) == 1 && r.Tools[0].Name == "f" && r.Tools[0].Parameters == nil && !r.Tools[0].Strict
			},
			[]string{"tool_choice (web_search_preview)", "tools[0] (web_search)", "tools[2] (mcp)"}},
		{"named tool", `{"model":"m","input":"hi","tool_choice":{"type":"function","name":"f"}}`,
			func(r *protocol.Request) bool {
				return r.ToolChoice == protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "f", Set: true}
			}, nil},
		{"required", `{"model":"m","input":"hi","tool_choice":"required"}`,
			func(r *protocol.Request) bool { return r.ToolChoice.Mode == protocol.ToolRequired }, nil},
		{"none", `{"model":"m","input":"hi","tool_choice":"none"}`,
			func(r *protocol.Request) bool { return r.ToolChoice.Mode == protocol.ToolNone }, nil},
		{"json object", `{"model":"m","input":"hi","text":{"format":{"type":"json_object"},"verbosity":"medium"}}`,
			func(r *protocol.Request) bool { return r.ResponseFormat != nil && r.ResponseFormat.Schema == nil }, nil},
		{"text format", `{"model":"m","input":"hi","text":{"format":{"type":"text"},"verbosity":"low"}}`,
			func(r *protocol.Request) bool { return r.ResponseFormat == nil }, []string{"text.verbosity"}},
		{"effort none", `{"model":"m","input":"hi","reasoning":{"effort":"none"}}`,
			func(r *protocol.Request) bool { return r.Reasoning != nil && r.Reasoning.Disabled }, nil},
		{"effort xhigh", `{"model":"m","input":"hi","reasoning":{"effort":"xhigh","summary":"detailed"}}`,
			func(r *protocol.Request) bool { return r.Reasoning != nil && r.Reasoning.Effort == "high" }, nil},
		{"summary only", `{"model":"m","input":"hi","reasoning":{"summary":"auto"}}`,
			func(r *protocol.Request) bool { return r.Reasoning == nil }, nil},
		{"stored content", `{"model":"m","input":[{"type":"item_reference","id":"msg_1"},{"role":"user","content":[{"type":"input_image","file_id":"file_1"},{"type":"input_file","file_url":"https://x/y.pdf"},{"type":"input_file","file_id":"file_2"},{"type":"input_text","text":"t"}]}]}`,
			func(r *protocol.Request) bool {
				return reflect.DeepEqual(r.Messages, []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("t")}}})
			},
			[]string{"input[0] (item_reference)", "input[1].content[0] (input_image file_id)", "input[1].content[1] (input_file file_url)", "input[1].content[2] (input_file file_id)"}},
		{"empty reasoning dropped", `{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[]},{"type":"function_call","call_id":"c","name":"f","arguments":""}]}`,
			func(r *protocol.Request) bool {
				return len(r.Messages) == 1 && len(r.Messages[0].Parts) == 1 && r.Messages[0].Parts[0].Type == protocol.PartToolCall
			}, nil},
		{"redacted reasoning", `{"model":"m","input":[{"type":"reasoning","id":"rs_1","summary":[],"encrypted_content":"` + redactedPrefix + `abc"}]}`,
			func(r *protocol.Request) bool {
				return reflect.DeepEqual(r.Messages[0].Parts, []protocol.Part{{Type: protocol.PartRedactedThinking, Data: "abc"}})
			}, nil},
		{"system order", `{"model":"m","instructions":"first","input":[{"role":"system","content":"second"},{"role":"user","content":"hi"},{"role":"developer","content":[{"type":"input_text","text":"third"}]}]}`,
			func(r *protocol.Request) bool {
				return reflect.DeepEqual(r.System, []protocol.Part{text("first"), text("second"), text("third")}) && len(r.Messages) == 1
			}, nil},
		{"tool output parts and name", `{"model":"m","input":[{"type":"function_call_output","call_id":"c","name":"f","output":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"https://x/i.png"}]},{"role":"user","content":"next"}]}`,
			func(r *protocol.Request) bool {
				return len(r.Messages) == 2 && reflect.DeepEqual(r.Messages[0].Parts, []protocol.Part{{Type: protocol.PartToolResult, ID: "c", Name: "f",
					Content: []protocol.Part{text("a"), {Type: protocol.PartImage, URL: "https://x/i.png"}}}})
			}, nil},
		{"cache breakpoint", `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"a","prompt_cache_breakpoint":{"mode":"explicit","ttl":"12h"}}]}]}`,
			func(r *protocol.Request) bool {
				c := r.Messages[0].Parts[0].Cache
				return c != nil && c.TTL == "1h"
			}, nil},
		{"audio", `{"model":"m","input":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`,
			func(r *protocol.Request) bool {
				return reflect.DeepEqual(r.Messages[0].Parts, []protocol.Part{{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "AAAA"}})
			}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := API.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(req.Unknown, tt.unknown) {
				t.Errorf("Unknown = %q, want %q", req.Unknown, tt.unknown)
			}
			if tt.check != nil && !tt.check(req) {
				t.Errorf("decoded %+v", req)
			}
		})
	}
}

func TestDecodeBadRequest(t *testing.T) {
	tests := []struct {
		name, body, param string
	}{
		{"not an object", `[1]`, ""},
		{"no model", `{"input":"hi"}`, "model"},
		{"model number", `{"model":3,"input":"hi"}`, "model"},
		{"input number", `{"model":"m","input":3}`, "input"},
		{"no role", `{"model":"m","input":[{"content":"hi"}]}`, "input[0].role"},
		{"bad role", `{"model":"m","input":[{"role":"tool","content":"hi"}]}`, "input[0].role"},
		{"call without id", `{"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]}`, "input[0]"},
		{"output without id", `{"model":"m","input":[{"type":"function_call_output","output":"x"}]}`, "input[0].call_id"},
		{"output missing", `{"model":"m","input":[{"type":"function_call_output","call_id":"c"}]}`, "input[0].output"},
		{"image system", `{"model":"m","input":[{"role":"system","content":[{"type":"input_image","image_url":"https://x"}]}]}`, "input[0].content[0]"},
		{"bad data url", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"data:image/png,abc"}]}]}`, "input[0].content[0].image_url"},
		{"tool without name", `{"model":"m","input":"hi","tools":[{"type":"function"}]}`, "tools[0].name"},
		{"bad tool choice", `{"model":"m","input":"hi","tool_choice":"always"}`, "tool_choice"},
		{"bad format", `{"model":"m","input":"hi","text":{"format":{"type":"xml"}}}`, "text.format.type"},
		{"schema missing", `{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}`, "text.format.schema"},
		{"bad effort", `{"model":"m","input":"hi","reasoning":{"effort":"max"}}`, "reasoning.effort"},
		{"stream string", `{"model":"m","input":"hi","stream":"yes"}`, "stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := API.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
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

func FuzzDecodeRequest(f *testing.F) {
	for feature := range sdkRequests() {
		f.Add(readFixture(f, filepath.Join("testdata", "request_"+feature+".json")))
	}
	f.Add([]byte(`{"model":"m","input":[{"type":"reasoning","encrypted_content":"x"},{"role":"user","content":[{"type":"input_file","file_data":"data:;base64,"}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := API.DecodeRequest(protocol.OpGenerate, body)
		if err != nil {
			var bad *protocol.BadRequest
			if !errors.As(err, &bad) {
				t.Fatalf("error %v is not a *BadRequest", err)
			}
			return
		}
		// What the decoder accepts, the encoder answers with valid JSON.
		out, err := API.EncodeResponse(req, &protocol.Response{Parts: []protocol.Part{text("ok")}, Finish: protocol.FinishStop})
		if err != nil || !json.Valid(out) {
			t.Fatalf("EncodeResponse: %v %s", err, out)
		}
	})
}
