package cohere

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func ptr[T any](v T) *T { return &v }

// TestDecodeRequestFixtures decodes each caller request fixture and checks
// the internal form field by field.
func TestDecodeRequestFixtures(t *testing.T) {
	tests := []struct {
		file  string
		op    protocol.Op
		check func(t *testing.T, r *protocol.Request)
	}{
		{"request_text.json", protocol.OpGenerate, func(t *testing.T, r *protocol.Request) {
			want := []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Tell me about LLMs"}}}}
			equal(t, "messages", r.Messages, want)
			equal(t, "model", r.Model, "command-a-plus-05-2026")
			equal(t, "stream", r.Stream, false)
		}},
		{"request_tools.json", protocol.OpGenerate, func(t *testing.T, r *protocol.Request) {
			equal(t, "system", r.System, []protocol.Part{{Type: protocol.PartText, Text: "You are a sales assistant."}})
			if len(r.Messages) != 3 {
				t.Fatalf("messages: %d, want 3 (user, assistant, tool results)", len(r.Messages))
			}
			equal(t, "assistant", r.Messages[1], protocol.Message{Role: protocol.RoleAssistant, Parts: []protocol.Part{
				{Type: protocol.PartText, Text: "I will look up the sales report and the product catalog."},
				{Type: protocol.PartToolCall, ID: "query_daily_sales_report_hgxxmkby3wta", Name: "query_daily_sales_report", Arguments: `{"day": "2023-09-29"}`},
				{Type: protocol.PartToolCall, ID: "query_product_catalog_rpg0z5h8yyz2", Name: "query_product_catalog", Arguments: `{"category": "Electronics"}`},
			}})
			equal(t, "tool results", r.Messages[2], protocol.Message{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartToolResult, ID: "query_daily_sales_report_hgxxmkby3wta", Name: "query_daily_sales_report", Content: []protocol.Part{
					{Type: protocol.PartText, Text: `{"data":{"date":"2023-09-29","summary":"Total Sales Amount: 10000, Total Units Sold: 250"},"id":"sales:0"}`},
				}},
				{Type: protocol.PartToolResult, ID: "query_product_catalog_rpg0z5h8yyz2", Name: "query_product_catalog", Content: []protocol.Part{
					{Type: protocol.PartText, Text: `[{"product_id": "E1001", "name": "Smartphone", "price": 500, "stock_level": 20}]`},
				}},
			}})
			if len(r.Tools) != 2 || r.Tools[0].Name != "query_daily_sales_report" || !r.Tools[0].Strict || !json.Valid(r.Tools[1].Parameters) {
				t.Errorf("tools: %+v", r.Tools)
			}
			equal(t, "tool_choice", r.ToolChoice, protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true})
			equal(t, "temperature", r.Temperature, ptr(0.3))
		}},
		{"request_image.json", protocol.OpGenerate, func(t *testing.T, r *protocol.Request) {
			equal(t, "parts", r.Messages[0].Parts, []protocol.Part{
				{Type: protocol.PartText, Text: "Describe these images"},
				{Type: protocol.PartImage, URL: "https://cohere.com/favicon-32x32.png"},
				{Type: protocol.PartImage, MediaType: "image/png", Data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="},
			})
			equal(t, "max_tokens", r.MaxTokens, int64(300))
		}},
		{"request_structured.json", protocol.OpGenerate, func(t *testing.T, r *protocol.Request) {
			if r.ResponseFormat == nil {
				t.Fatal("no response format")
			}
			var schema map[string]any
			if err := json.Unmarshal(r.ResponseFormat.Schema, &schema); err != nil || schema["type"] != "object" {
				t.Errorf("schema %s: %v", r.ResponseFormat.Schema, err)
			}
		}},
		{"request_reasoning.json", protocol.OpGenerate, func(t *testing.T, r *protocol.Request) {
			equal(t, "reasoning", r.Reasoning, &protocol.Reasoning{BudgetTokens: 2000})
			equal(t, "assistant", r.Messages[1].Parts, []protocol.Part{
				{Type: protocol.PartThinking, Text: "Alice has 2 sisters, so there are 3 girls in the family including Alice."},
				{Type: protocol.PartText, Text: "Alice's brother has 3 sisters."},
			})
			equal(t, "stream", r.Stream, true)
			equal(t, "max_tokens", r.MaxTokens, int64(4000))
		}},
		{"request_embed.json", protocol.OpEmbed, func(t *testing.T, r *protocol.Request) {
			equal(t, "inputs", r.Inputs, []string{"hello", "goodbye"})
			equal(t, "input_type", r.InputType, "classification")
			equal(t, "model", r.Model, "embed-v4.0")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Chat.DecodeRequest(tt.op, readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.Op != tt.op || len(r.Unknown) != 0 {
				t.Errorf("op %d, unknown %v", r.Op, r.Unknown)
			}
			tt.check(t, r)
		})
	}
}

// TestDecodeRequestMembers checks the members that decode to nothing, to
// Unknown, and the parameters read one by one.
func TestDecodeRequestMembers(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		unknown []string
		check   func(t *testing.T, r *protocol.Request)
	}{
		{"sampling", `{"model":"m","messages":[],"p":0.9,"k":40,"seed":7,"frequency_penalty":0.1,"presence_penalty":0.2,"stop_sequences":["END"]}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "p", r.TopP, ptr(0.9))
			equal(t, "k", r.TopK, ptr(int64(40)))
			equal(t, "seed", r.Seed, ptr(int64(7)))
			equal(t, "frequency_penalty", r.FrequencyPenalty, ptr(0.1))
			equal(t, "presence_penalty", r.PresencePenalty, ptr(0.2))
			equal(t, "stop", r.Stop, []string{"END"})
		}},
		{"translatable members decode to nothing", `{"model":"m","messages":[],"citation_options":{"mode":"FAST"},"priority":1,"safety_mode":"CONTEXTUAL","logprobs":false,"documents":[]}`, nil, nil},
		{"untranslatable members are unknown", `{"model":"m","messages":[],"documents":["a doc"],"logprobs":true,"safety_mode":"STRICT","connectors":[]}`, []string{"connectors", "documents", "logprobs", "safety_mode"}, nil},
		{"thinking disabled", `{"model":"m","messages":[],"thinking":{"type":"disabled"}}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "reasoning", r.Reasoning, &protocol.Reasoning{Disabled: true})
		}},
		{"thinking budget without type", `{"model":"m","messages":[],"thinking":{"token_budget":500}}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "reasoning", r.Reasoning, &protocol.Reasoning{BudgetTokens: 500})
		}},
		{"tool_choice NONE", `{"model":"m","messages":[],"tool_choice":"NONE"}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "tool_choice", r.ToolChoice, protocol.ToolChoice{Mode: protocol.ToolNone, Set: true})
		}},
		{"json_object without schema", `{"model":"m","messages":[],"response_format":{"type":"json_object"}}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "response_format", r.ResponseFormat, &protocol.ResponseFormat{})
		}},
		{"system messages and folded tool results", `{"model":"m","messages":[
			{"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
			{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
			{"role":"tool","tool_call_id":"c1","content":[{"type":"text","text":"r1"}]},
			{"role":"tool","tool_call_id":"c9","content":"r2"},
			{"role":"user","content":"next"}]}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "system", r.System, []protocol.Part{{Type: protocol.PartText, Text: "a"}, {Type: protocol.PartText, Text: "b"}})
			equal(t, "messages", r.Messages, []protocol.Message{
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{{Type: protocol.PartToolCall, ID: "c1", Name: "f", Arguments: "{}"}}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{
					{Type: protocol.PartToolResult, ID: "c1", Name: "f", Content: []protocol.Part{{Type: protocol.PartText, Text: "r1"}}},
					{Type: protocol.PartToolResult, ID: "c9", Content: []protocol.Part{{Type: protocol.PartText, Text: "r2"}}},
				}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "next"}}},
			})
		}},
		{"embed options", `{"model":"e","texts":["a"],"output_dimension":256,"truncate":"END","priority":2}`, nil, func(t *testing.T, r *protocol.Request) {
			equal(t, "dimensions", r.Dimensions, int64(256))
			equal(t, "input_type", r.InputType, "")
		}},
		{"embed untranslatable", `{"model":"e","texts":["a"],"input_type":"search_query","embedding_types":["float","int8"],"images":["data:image/png;base64,AA=="],"truncate":"START","max_tokens":10}`, []string{"embedding_types", "images", "max_tokens", "truncate"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := protocol.OpGenerate
			if _, ok := jsonMember([]byte(tt.body), "texts"); ok {
				op = protocol.OpEmbed
			}
			r, err := Chat.DecodeRequest(op, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "unknown", r.Unknown, tt.unknown)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// TestDecodeRequestBad checks that malformed requests are refused as the
// caller's error, naming the parameter.
func TestDecodeRequestBad(t *testing.T) {
	tests := []struct {
		body, param string
	}{
		{`[]`, ""},
		{`null`, ""},
		{`{"model":"m","messages":"hi"}`, "messages"},
		{`{"model":"m","messages":[{"role":"bot","content":"x"}]}`, "messages[0].role"},
		{`{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"audio"}]}]}`, "messages[0].content[0].type"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text"},
		{`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]}`, "messages[0].content[0].image_url.url"},
		{`{"model":"m","messages":[{"role":"system","content":[{"type":"thinking","thinking":"x"}]}]}`, "messages[0].content[0].type"},
		{`{"model":"m","messages":[{"role":"tool","content":"x"}]}`, "messages[0].tool_call_id"},
		{`{"model":"m","messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]}`, "messages[0].tool_calls[0].id"},
		{`{"model":"m","messages":[{"role":"tool","tool_call_id":"c","content":[{"type":"document","document":{"data":"x"}}]}]}`, "messages[0].content[0].document.data"},
		{`{"model":"m","messages":[],"tools":[{"type":"function","function":{"description":"d"}}]}`, "tools[0].function.name"},
		{`{"model":"m","messages":[],"tool_choice":"ANY"}`, "tool_choice"},
		{`{"model":"m","messages":[],"thinking":{"type":"on"}}`, "thinking.type"},
		{`{"model":"m","messages":[],"response_format":{"type":"xml"}}`, "response_format.type"},
		{`{"model":"m","messages":[],"max_tokens":"many"}`, "max_tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			_, err := Chat.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
			var bad *protocol.BadRequest
			if !errors.As(err, &bad) {
				t.Fatalf("error %v, want *protocol.BadRequest", err)
			}
			if bad.Param != tt.param {
				t.Errorf("param %q, want %q (%v)", bad.Param, tt.param, err)
			}
		})
	}
}

func jsonMember(body []byte, name string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil, false
	}
	v, ok := m[name]
	return v, ok
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}
