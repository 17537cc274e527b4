package gemini

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeFixture(t *testing.T, name string) *protocol.Request {
	t.Helper()
	req, err := API.DecodeRequest(protocol.OpGenerate, readFixture(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func ptr[T any](v T) *T { return &v }

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, what string, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func TestDecodeRequestText(t *testing.T) {
	req := decodeFixture(t, "request_text.json")
	if len(req.Unknown) != 0 {
		t.Errorf("Unknown = %v", req.Unknown)
	}
	want := &protocol.Request{
		System:           []protocol.Part{{Type: protocol.PartText, Text: "You are a concise teacher."}},
		Messages:         []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Explain how AI works in a few words"}}}},
		Temperature:      ptr(0.7),
		TopP:             ptr(0.9),
		TopK:             ptr[int64](40),
		MaxTokens:        256,
		Stop:             []string{"\n\n\n"},
		Seed:             ptr[int64](42),
		PresencePenalty:  ptr(0.1),
		FrequencyPenalty: ptr(0.2),
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("got  %+v\nwant %+v", req, want)
	}
}

func TestDecodeRequestTools(t *testing.T) {
	req := decodeFixture(t, "request_tools.json")
	if len(req.Unknown) != 0 {
		t.Errorf("Unknown = %v", req.Unknown)
	}
	if req.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "get_weather", Set: true}) {
		t.Errorf("ToolChoice = %+v", req.ToolChoice)
	}
	if len(req.Tools) != 2 || req.Tools[0].Name != "get_weather" || req.Tools[1].Name != "get_time" {
		t.Fatalf("Tools = %+v", req.Tools)
	}
	jsonEqual(t, "get_weather parameters", string(req.Tools[0].Parameters),
		`{"type":"object","properties":{"location":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}`)
	jsonEqual(t, "get_time parameters", string(req.Tools[1].Parameters),
		`{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}`)

	if len(req.Messages) != 3 {
		t.Fatalf("%d messages", len(req.Messages))
	}
	calls := req.Messages[1]
	if calls.Role != protocol.RoleAssistant || len(calls.Parts) != 2 {
		t.Fatalf("model turn = %+v", calls)
	}
	wantCalls := []protocol.Part{
		{Type: protocol.PartToolCall, ID: "call_paris", Name: "get_weather", Arguments: `{"location":"Paris","unit":"celsius"}`, Signature: "Q2lVQnlFQThmZmFsc2U="},
		{Type: protocol.PartToolCall, ID: "call_1", Name: "get_weather", Arguments: `{"location":"London","unit":"celsius"}`},
	}
	if !reflect.DeepEqual(calls.Parts, wantCalls) {
		t.Errorf("calls = %+v\nwant %+v", calls.Parts, wantCalls)
	}
	results := req.Messages[2]
	wantResults := []protocol.Part{
		{Type: protocol.PartToolResult, ID: "call_paris", Name: "get_weather", Content: []protocol.Part{{Type: protocol.PartText, Text: "18 degrees, sunny"}}},
		// The result without an id answers the call without one, and its
		// structured response is kept as JSON text.
		{Type: protocol.PartToolResult, ID: "call_1", Name: "get_weather", Content: []protocol.Part{{Type: protocol.PartText, Text: `{"temperature":14,"sky":"rain"}`}}},
	}
	if results.Role != protocol.RoleUser || !reflect.DeepEqual(results.Parts, wantResults) {
		t.Errorf("results = %+v\nwant %+v", results.Parts, wantResults)
	}
}

func TestDecodeRequestImage(t *testing.T) {
	req := decodeFixture(t, "request_image.json")
	parts := req.Messages[0].Parts
	want := []protocol.Part{
		{Type: protocol.PartImage, MediaType: "image/png", Data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
		{Type: protocol.PartImage, MediaType: "image/jpeg", URL: "https://upload.wikimedia.org/wikipedia/commons/3/3f/Fox.jpg"},
		{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBERi0xLjQK"},
		{Type: protocol.PartText, Text: "Compare the two pictures and summarise the document."},
	}
	if !reflect.DeepEqual(parts, want) {
		t.Errorf("parts = %+v\nwant %+v", parts, want)
	}
}

func TestDecodeRequestStructured(t *testing.T) {
	req := decodeFixture(t, "request_structured.json")
	if req.ResponseFormat == nil {
		t.Fatal("no ResponseFormat")
	}
	jsonEqual(t, "schema", string(req.ResponseFormat.Schema),
		`{"type":"array","items":{"type":"object","properties":{"recipeName":{"type":"string"},"ingredients":{"type":"array","items":{"type":"string"}}},"required":["recipeName","ingredients"]}}`)
}

func TestDecodeRequestReasoning(t *testing.T) {
	req := decodeFixture(t, "request_reasoning.json")
	if !reflect.DeepEqual(req.Reasoning, &protocol.Reasoning{BudgetTokens: 2048}) {
		t.Errorf("Reasoning = %+v", req.Reasoning)
	}
	want := []protocol.Part{
		{Type: protocol.PartThinking, Text: "Primes below 10: 2, 3, 5, 7.", Signature: "Q2lRQjBlMlBoMm1zaWduZWQ="},
		{Type: protocol.PartText, Text: "There are 4."},
	}
	if !reflect.DeepEqual(req.Messages[1].Parts, want) {
		t.Errorf("model turn = %+v", req.Messages[1].Parts)
	}
}

func TestDecodeRequestCases(t *testing.T) {
	tests := []struct {
		name  string
		op    protocol.Op
		body  string
		check func(t *testing.T, req *protocol.Request)
	}{
		{"snake_case members", protocol.OpGenerate,
			`{"system_instruction":{"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"inline_data":{"mime_type":"image/png","data":"AAAA"}},{"function_response":{"name":"f","response":{"my_key":1}}}]}],"generation_config":{"max_output_tokens":5,"response_mime_type":"application/json","response_json_schema":{"type":"object","properties":{"snake_name":{"type":"string"}}}}}`,
			func(t *testing.T, req *protocol.Request) {
				if len(req.System) != 1 || req.System[0].Text != "be brief" || req.MaxTokens != 5 {
					t.Errorf("req = %+v", req)
				}
				if p := req.Messages[0].Parts[0]; p.Type != protocol.PartImage || p.MediaType != "image/png" {
					t.Errorf("part = %+v", p)
				}
				if got := req.Messages[0].Parts[1].Content[0].Text; got != `{"my_key":1}` {
					t.Errorf("function response renamed: %s", got)
				}
				if !strings.Contains(string(req.ResponseFormat.Schema), "snake_name") {
					t.Errorf("schema renamed: %s", req.ResponseFormat.Schema)
				}
			}},
		{"untranslatable members are listed", protocol.OpGenerate,
			`{"contents":[{"parts":[{"text":"hi"},{"inlineData":{"mimeType":"video/mp4","data":"AA=="}}]}],"safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],"cachedContent":"cachedContents/abc","tools":[{"googleSearch":{}}],"generationConfig":{"responseModalities":["AUDIO"]}}`,
			func(t *testing.T, req *protocol.Request) {
				want := []string{"cachedContent", "safetySettings", "contents[0].parts[1].inlineData (video/mp4)", "tools[0].googleSearch", "generationConfig.responseModalities"}
				if !reflect.DeepEqual(req.Unknown, want) {
					t.Errorf("Unknown = %q, want %q", req.Unknown, want)
				}
			}},
		{"tool choice modes", protocol.OpGenerate,
			`{"contents":[],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`,
			func(t *testing.T, req *protocol.Request) {
				if req.ToolChoice != (protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}) {
					t.Errorf("ToolChoice = %+v", req.ToolChoice)
				}
			}},
		{"ANY with every tool allowed is required", protocol.OpGenerate,
			`{"contents":[],"tools":[{"functionDeclarations":[{"name":"a"},{"name":"b"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["b","a"]}}}`,
			func(t *testing.T, req *protocol.Request) {
				if req.ToolChoice.Mode != protocol.ToolRequired || len(req.Unknown) != 0 {
					t.Errorf("ToolChoice = %+v, Unknown = %v", req.ToolChoice, req.Unknown)
				}
			}},
		{"thinking off, level and dynamic", protocol.OpGenerate,
			`{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}}`,
			func(t *testing.T, req *protocol.Request) {
				if !reflect.DeepEqual(req.Reasoning, &protocol.Reasoning{Disabled: true}) {
					t.Errorf("Reasoning = %+v", req.Reasoning)
				}
			}},
		{"thinking level", protocol.OpGenerate,
			`{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingLevel":"HIGH"},"candidateCount":2}}`,
			func(t *testing.T, req *protocol.Request) {
				if !reflect.DeepEqual(req.Reasoning, &protocol.Reasoning{Effort: "high"}) || req.N != 2 {
					t.Errorf("Reasoning = %+v, N = %d", req.Reasoning, req.N)
				}
			}},
		{"dynamic thinking", protocol.OpGenerate,
			`{"contents":[],"generationConfig":{"thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true}}}`,
			func(t *testing.T, req *protocol.Request) {
				if !reflect.DeepEqual(req.Reasoning, &protocol.Reasoning{Effort: "medium"}) {
					t.Errorf("Reasoning = %+v", req.Reasoning)
				}
			}},
		{"error results", protocol.OpGenerate,
			`{"contents":[{"role":"user","parts":[{"functionResponse":{"id":"x","name":"f","response":{"error":"no such city"}}}]}]}`,
			func(t *testing.T, req *protocol.Request) {
				p := req.Messages[0].Parts[0]
				if !p.IsError || p.Content[0].Text != "no such city" {
					t.Errorf("result = %+v", p)
				}
			}},
		{"count tokens of a whole request", protocol.OpCountTokens,
			`{"generateContentRequest":{"model":"models/gemini-2.0-flash","contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"s"}]}}}`,
			func(t *testing.T, req *protocol.Request) {
				if req.Op != protocol.OpCountTokens || len(req.Messages) != 1 || len(req.System) != 1 || len(req.Unknown) != 0 {
					t.Errorf("req = %+v", req)
				}
			}},
		{"count tokens of contents", protocol.OpCountTokens,
			`{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`,
			func(t *testing.T, req *protocol.Request) {
				if len(req.Messages) != 1 || req.Messages[0].Parts[0].Text != "hi" {
					t.Errorf("req = %+v", req)
				}
			}},
		{"batch embeddings", protocol.OpEmbed,
			`{"requests":[{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":256},{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]}}]}`,
			func(t *testing.T, req *protocol.Request) {
				if !reflect.DeepEqual(req.Inputs, []string{"a", "b"}) || req.InputType != "search_query" || req.Dimensions != 256 {
					t.Errorf("req = %+v", req)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := API.DecodeRequest(tt.op, []byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, req)
		})
	}
}

func TestDecodeRequestBad(t *testing.T) {
	tests := []struct{ name, body, param string }{
		{"not JSON", `{"contents":`, ""},
		{"contents not a list", `{"contents":{}}`, "contents"},
		{"temperature a string", `{"contents":[],"generationConfig":{"temperature":"hot"}}`, "generationConfig.temperature"},
		{"args not an object", `{"contents":[{"role":"model","parts":[{"functionCall":{"name":"f","args":[1]}}]}]}`, "contents[0].parts[0].functionCall.args"},
		{"empty part", `{"contents":[{"parts":[{}]}]}`, "contents[0].parts[0]"},
		{"unknown role", `{"contents":[{"role":"system","parts":[{"text":"x"}]}]}`, "contents[0].role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := API.DecodeRequest(protocol.OpGenerate, []byte(tt.body))
			var br *protocol.BadRequest
			if !errors.As(err, &br) {
				t.Fatalf("err = %v, want *BadRequest", err)
			}
			if br.Param != tt.param {
				t.Errorf("Param = %q, want %q", br.Param, tt.param)
			}
		})
	}
}

func TestCamelCase(t *testing.T) {
	for in, want := range map[string]string{"mime_type": "mimeType", "parameters_json_schema": "parametersJsonSchema", "text": "text", "_x": "_x"} {
		if got := camelCase(in); got != want {
			t.Errorf("camelCase(%q) = %q, want %q", in, got, want)
		}
	}
}
