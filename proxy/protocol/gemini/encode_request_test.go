package gemini

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
)

func TestEncodeRequest(t *testing.T) {
	tests := []struct {
		name    string
		req     protocol.Request
		path    string
		query   string
		body    string
		omitted []string
	}{
		{
			name: "text with settings",
			req: protocol.Request{
				Model:       "gemini-2.0-flash",
				System:      []protocol.Part{{Type: protocol.PartText, Text: "Be brief.", Cache: &protocol.CacheControl{}}},
				Messages:    []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hi"}}}},
				MaxTokens:   100,
				Temperature: ptr(0.5),
				TopK:        ptr[int64](20),
				Stop:        []string{"END"},
				User:        "u1",
			},
			path: "/models/gemini-2.0-flash:generateContent",
			body: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]},
				"generationConfig":{"temperature":0.5,"topK":20,"maxOutputTokens":100,"stopSequences":["END"]}}`,
			omitted: []string{"cache_control", "user"},
		},
		{
			name: "stream, tools and results",
			req: protocol.Request{
				Model:  "gemini-2.5-flash",
				Stream: true,
				Messages: []protocol.Message{
					{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Weather?"}}},
					{Role: protocol.RoleAssistant, Parts: []protocol.Part{
						{Type: protocol.PartThinking, Text: "look it up", Signature: "c2ln"},
						{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather", Arguments: `{"location":"Paris"}`, Signature: "Y2FsbA=="},
						{Type: protocol.PartToolCall, ID: "toolu_2", Name: "get_weather"},
					}},
					{Role: protocol.RoleUser, Parts: []protocol.Part{
						{Type: protocol.PartToolResult, ID: "toolu_1", Name: "get_weather", Content: []protocol.Part{{Type: protocol.PartText, Text: "sunny"}}},
						{Type: protocol.PartToolResult, ID: "toolu_2", Name: "get_weather", Content: []protocol.Part{{Type: protocol.PartText, Text: ` {"temp": 3} `}}},
						{Type: protocol.PartToolResult, ID: "toolu_3", Name: "get_weather", IsError: true, Content: []protocol.Part{{Type: protocol.PartText, Text: "timeout"}}},
					}},
				},
				Tools:      []protocol.Tool{{Name: "get_weather", Description: "Weather", Parameters: []byte(`{"type":"object","properties":{"location":{"type":"string"}}}`), Strict: true}},
				ToolChoice: protocol.ToolChoice{Mode: protocol.ToolNamed, Name: "get_weather", Set: true},
			},
			path:  "/models/gemini-2.5-flash:streamGenerateContent",
			query: "alt=sse",
			body: `{"contents":[
				{"role":"user","parts":[{"text":"Weather?"}]},
				{"role":"model","parts":[
					{"text":"look it up","thought":true,"thoughtSignature":"c2ln"},
					{"functionCall":{"id":"toolu_1","name":"get_weather","args":{"location":"Paris"}},"thoughtSignature":"Y2FsbA=="},
					{"functionCall":{"id":"toolu_2","name":"get_weather","args":{}}}]},
				{"role":"user","parts":[
					{"functionResponse":{"id":"toolu_1","name":"get_weather","response":{"result":"sunny"}}},
					{"functionResponse":{"id":"toolu_2","name":"get_weather","response":{"temp":3}}},
					{"functionResponse":{"id":"toolu_3","name":"get_weather","response":{"error":"timeout"}}}]}],
				"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parametersJsonSchema":{"type":"object","properties":{"location":{"type":"string"}}}}]}],
				"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}}`,
			omitted: []string{"strict"},
		},
		{
			name: "media, structured output and reasoning",
			req: protocol.Request{
				Model: "gemini-2.5-pro",
				Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
					{Type: protocol.PartImage, MediaType: "image/png", Data: "AAAA"},
					{Type: protocol.PartImage, URL: "https://example.com/cat.jpg"},
					{Type: protocol.PartImage, URL: "data:image/gif;base64,R0lG"},
					{Type: protocol.PartDocument, MediaType: "application/pdf", URL: "https://example.com/a.pdf"},
					{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "UklG"},
					{Type: protocol.PartRedactedThinking, Data: "xx"},
				}}},
				ResponseFormat: &protocol.ResponseFormat{Schema: []byte(`{"type":"object"}`), Name: "out"},
				Reasoning:      &protocol.Reasoning{Effort: "low"},
			},
			path: "/models/gemini-2.5-pro:generateContent",
			body: `{"contents":[{"role":"user","parts":[
				{"inlineData":{"mimeType":"image/png","data":"AAAA"}},
				{"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/cat.jpg"}},
				{"inlineData":{"mimeType":"image/gif","data":"R0lG"}},
				{"fileData":{"mimeType":"application/pdf","fileUri":"https://example.com/a.pdf"}},
				{"inlineData":{"mimeType":"audio/wav","data":"UklG"}}]}],
				"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":{"type":"object"},
				"thinkingConfig":{"includeThoughts":true,"thinkingBudget":2048}}}`,
			omitted: []string{"redacted_thinking"},
		},
		{
			name: "thinking off, tool choice none",
			req: protocol.Request{
				Model:      "models/x y",
				Messages:   []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hi"}}}},
				Reasoning:  &protocol.Reasoning{Disabled: true},
				ToolChoice: protocol.ToolChoice{Mode: protocol.ToolNone},
			},
			path: "/models/models%2Fx%20y:generateContent",
			body: `{"contents":[{"role":"user","parts":[{"text":"Hi"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}},"generationConfig":{"thinkingConfig":{"thinkingBudget":0}}}`,
		},
		{
			name: "count tokens",
			req: protocol.Request{
				Op:       protocol.OpCountTokens,
				Model:    "gemini-2.0-flash",
				Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hi"}}}},
			},
			path: "/models/gemini-2.0-flash:countTokens",
			body: `{"generateContentRequest":{"model":"models/gemini-2.0-flash","contents":[{"role":"user","parts":[{"text":"Hi"}]}]}}`,
		},
		{
			name: "embeddings",
			req:  protocol.Request{Op: protocol.OpEmbed, Model: "gemini-embedding-001", Inputs: []string{"a", "b"}, Dimensions: 768, InputType: "search_document"},
			path: "/models/gemini-embedding-001:batchEmbedContents",
			body: `{"requests":[
				{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"a"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768},
				{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"b"}]},"taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			call, err := API.EncodeRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			if call.Path != tt.path || call.Query != tt.query {
				t.Errorf("path = %q?%q, want %q?%q", call.Path, call.Query, tt.path, tt.query)
			}
			jsonEqual(t, "body", string(call.Body), tt.body)
			if !reflect.DeepEqual(req.Omitted(), tt.omitted) {
				t.Errorf("Omitted = %q, want %q", req.Omitted(), tt.omitted)
			}
		})
	}
}

func TestEncodeRequestRefusals(t *testing.T) {
	user := func(parts ...protocol.Part) []protocol.Message {
		return []protocol.Message{{Role: protocol.RoleUser, Parts: parts}}
	}
	tests := []struct {
		name     string
		req      protocol.Request
		bad      bool // *BadRequest, else *Unsupported
		contains string
	}{
		{"tool result without a name", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartToolResult, ID: "call_1"})}, true, "messages[0].content[0]"},
		{"arguments not an object", protocol.Request{Messages: []protocol.Message{{Role: protocol.RoleAssistant, Parts: []protocol.Part{{Type: protocol.PartToolCall, ID: "c", Name: "f", Arguments: "[1]"}}}}}, true, "messages[0].content[0] (tool call arguments)"},
		{"image in a tool result", protocol.Request{Messages: user(protocol.Part{Type: protocol.PartToolResult, ID: "c", Name: "f", Content: []protocol.Part{{Type: protocol.PartImage, Data: "AA"}}})}, false, "messages[0].content[0].content[0] (image)"},
		{"image in the system prompt", protocol.Request{System: []protocol.Part{{Type: protocol.PartImage, Data: "AA"}}}, false, "system[0] (image)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Model = "m"
			_, err := API.EncodeRequest(&req)
			var br *protocol.BadRequest
			var un *protocol.Unsupported
			switch {
			case tt.bad && errors.As(err, &br):
				if br.Param != tt.contains {
					t.Errorf("Param = %q, want %q", br.Param, tt.contains)
				}
			case !tt.bad && errors.As(err, &un):
				if un.Param != tt.contains || un.Provider != "gemini" {
					t.Errorf("Unsupported = %+v", un)
				}
			default:
				t.Fatalf("err = %v", err)
			}
		})
	}
}
