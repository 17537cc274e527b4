package cohere

import (
	"encoding/json"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// TestRequestRoundTrip encodes requests for Cohere and decodes them as a
// Cohere caller's, which must give back the same request.
func TestRequestRoundTrip(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	tools := []protocol.Tool{{Name: "get_weather", Description: "Weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}
	tests := map[string]protocol.Request{
		"text": {Model: "m", System: []protocol.Part{text("Be brief.")}, Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Hi")}}},
			MaxTokens: 100, Temperature: ptr(0.2), TopP: ptr(0.9), TopK: ptr(int64(5)), Seed: ptr(int64(1)), FrequencyPenalty: ptr(0.1), PresencePenalty: ptr(0.3), Stop: []string{"x"}, Stream: true},
		"tools": {Model: "m", Tools: tools, ToolChoice: protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true}, Messages: []protocol.Message{
			{Role: protocol.RoleUser, Parts: []protocol.Part{text("Weather?")}},
			{Role: protocol.RoleAssistant, Parts: []protocol.Part{text("Checking."), {Type: protocol.PartToolCall, ID: "c1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {Type: protocol.PartToolCall, ID: "c2", Name: "get_weather", Arguments: `{"city":"Rome"}`}}},
			{Role: protocol.RoleUser, Parts: []protocol.Part{
				{Type: protocol.PartToolResult, ID: "c1", Name: "get_weather", Content: []protocol.Part{text("18C")}},
				{Type: protocol.PartToolResult, ID: "c2", Name: "get_weather", Content: []protocol.Part{text("22C"), text("sunny")}},
			}},
		}},
		"image": {Model: "m", Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
			text("Describe"), {Type: protocol.PartImage, URL: "https://example.com/a.png"}, {Type: protocol.PartImage, MediaType: "image/png", Data: "iVBORw0KGgo="},
		}}}},
		"structured": {Model: "m", ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`)},
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("JSON please")}}}},
		"reasoning": {Model: "m", Reasoning: &protocol.Reasoning{BudgetTokens: 3000}, Messages: []protocol.Message{
			{Role: protocol.RoleUser, Parts: []protocol.Part{text("Q")}},
			{Role: protocol.RoleAssistant, Parts: []protocol.Part{{Type: protocol.PartThinking, Text: "think"}, text("A")}},
			{Role: protocol.RoleUser, Parts: []protocol.Part{text("Q2")}},
		}},
		"embed": {Op: protocol.OpEmbed, Model: "embed-v4.0", Inputs: []string{"a", "b"}, InputType: "search_query", Dimensions: 512},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			req := want
			call, err := Chat.EncodeRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Chat.DecodeRequest(want.Op, call.Body)
			if err != nil {
				t.Fatalf("%v in %s", err, call.Body)
			}
			if want.Tools != nil {
				// Parameters come back as the JSON that was sent.
				for i := range got.Tools {
					equal(t, "parameters", string(got.Tools[i].Parameters), string(want.Tools[i].Parameters))
					got.Tools[i].Parameters = want.Tools[i].Parameters
				}
			}
			if want.ResponseFormat != nil {
				equal(t, "schema", string(got.ResponseFormat.Schema), string(want.ResponseFormat.Schema))
				got.ResponseFormat.Schema = want.ResponseFormat.Schema
			}
			equal(t, "request", *got, want)
		})
	}
}

// TestResponseRoundTrip encodes answers for a Cohere caller and decodes
// them as Cohere answers, which must give back the same answer.
func TestResponseRoundTrip(t *testing.T) {
	u := usage.Usage{Tokens: tokens.Tokens{InputTokens: 50, OutputTokens: 10, CachedInputTokens: 20}, Found: true}
	tests := map[string]protocol.Response{
		"text":      {ID: "a", Model: chatReq.Model, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hello"}}, Finish: protocol.FinishStop, Usage: u},
		"length":    {ID: "a", Model: chatReq.Model, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hel"}}, Finish: protocol.FinishLength, Usage: u},
		"tools":     {ID: "b", Model: chatReq.Model, Parts: []protocol.Part{{Type: protocol.PartText, Text: "Plan."}, {Type: protocol.PartToolCall, ID: "c1", Name: "f", Arguments: `{"x":1}`}, {Type: protocol.PartToolCall, ID: "c2", Name: "g", Arguments: `{}`}}, Finish: protocol.FinishToolCalls, Usage: u},
		"reasoning": {ID: "c", Model: chatReq.Model, Parts: []protocol.Part{{Type: protocol.PartThinking, Text: "think"}, {Type: protocol.PartText, Text: "answer"}}, Finish: protocol.FinishStop, Usage: u},
		"no usage":  {ID: "d", Model: chatReq.Model, Parts: []protocol.Part{{Type: protocol.PartText, Text: "x"}}, Finish: protocol.FinishError},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := Chat.EncodeResponse(chatReq, &want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Chat.DecodeResponse(chatReq, b)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "response", *got, want)
		})
	}
}

// TestStreamRoundTrip writes the events decoded from each provider stream
// fixture as a Cohere stream and decodes that again: the same events.
func TestStreamRoundTrip(t *testing.T) {
	for _, tt := range streamCases {
		t.Run(tt.feature, func(t *testing.T) {
			want, err := decodeStream(t, chatReq, readFixture(t, "stream_"+tt.feature+".sse"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeStream(t, chatReq, encodeStream(chatReq, want))
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "events", got, want)
		})
	}
}
