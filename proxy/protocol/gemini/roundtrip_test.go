package gemini

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// TestRequestRoundTrip: Request → EncodeRequest → DecodeRequest gives back
// the Request, for the fields Gemini has.
func TestRequestRoundTrip(t *testing.T) {
	user := func(parts ...protocol.Part) protocol.Message {
		return protocol.Message{Role: protocol.RoleUser, Parts: parts}
	}
	model := func(parts ...protocol.Part) protocol.Message {
		return protocol.Message{Role: protocol.RoleAssistant, Parts: parts}
	}
	tests := map[string]protocol.Request{
		"text": {
			System:      []protocol.Part{text("Be brief.")},
			Messages:    []protocol.Message{user(text("Hi")), model(text("Hello!")), user(text("Bye"))},
			MaxTokens:   64,
			Temperature: ptr(0.2), TopP: ptr(0.8), TopK: ptr[int64](3), Seed: ptr[int64](7),
			PresencePenalty: ptr(0.5), FrequencyPenalty: ptr(-0.5), Stop: []string{"x"},
		},
		"tools": {
			Messages: []protocol.Message{
				user(text("Weather?")),
				model(protocol.Part{Type: protocol.PartToolCall, ID: "call_a", Name: "w", Arguments: `{"city":"Paris"}`, Signature: "c2ln"}),
				user(
					protocol.Part{Type: protocol.PartToolResult, ID: "call_a", Name: "w", Content: []protocol.Part{text("sunny")}},
					protocol.Part{Type: protocol.PartToolResult, ID: "call_b", Name: "w", Content: []protocol.Part{text(`{"temp":3}`)}},
					protocol.Part{Type: protocol.PartToolResult, ID: "call_c", Name: "w", IsError: true, Content: []protocol.Part{text("down")}},
				),
			},
			Tools:      []protocol.Tool{{Name: "w", Description: "weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}},
			ToolChoice: protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true},
		},
		"image": {
			Messages: []protocol.Message{user(
				protocol.Part{Type: protocol.PartImage, MediaType: "image/png", Data: "AAAA"},
				protocol.Part{Type: protocol.PartImage, MediaType: "image/jpeg", URL: "https://example.com/a.jpg"},
				protocol.Part{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBE"},
				protocol.Part{Type: protocol.PartAudio, MediaType: "audio/mp3", Data: "SUQz"},
				text("Describe."),
			)},
		},
		"structured": {
			Messages:       []protocol.Message{user(text("JSON please"))},
			ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}}}`)},
		},
		"reasoning": {
			Messages: []protocol.Message{
				user(text("Q")),
				model(protocol.Part{Type: protocol.PartThinking, Text: "thinking", Signature: "c2ln"}, text("A")),
				user(text("Q2")),
			},
			Reasoning: &protocol.Reasoning{BudgetTokens: 4000},
		},
		"reasoning off": {
			Messages:  []protocol.Message{user(text("Q"))},
			Reasoning: &protocol.Reasoning{Disabled: true},
		},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			in := want
			call, err := API.EncodeRequest(&in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := API.DecodeRequest(protocol.OpGenerate, call.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v\nbody %s", *got, want, call.Body)
			}
		})
	}
}

// TestResponseRoundTrip: Response → EncodeResponse → DecodeResponse gives
// back the Response.
func TestResponseRoundTrip(t *testing.T) {
	tests := map[string]protocol.Response{
		"text": {ID: "r1", Model: "m", Parts: []protocol.Part{text("Hello")}, Finish: protocol.FinishStop,
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 5, OutputTokens: 2}, Found: true}},
		"tools": {ID: "r2", Model: "m", Finish: protocol.FinishToolCalls, Parts: []protocol.Part{
			text("Calling."),
			{Type: protocol.PartToolCall, ID: "call_x", Name: "f", Arguments: `{"a":1}`, Signature: "c2ln"},
			{Type: protocol.PartToolCall, ID: "call_y", Name: "g", Arguments: `{}`},
		}},
		"image": {ID: "r3", Model: "m", Finish: protocol.FinishLength, Parts: []protocol.Part{{Type: protocol.PartImage, MediaType: "image/png", Data: "AAAA"}}},
		"reasoning": {ID: "r4", Model: "m", Finish: protocol.FinishStop,
			Parts: []protocol.Part{{Type: protocol.PartThinking, Text: "hmm", Signature: "c2ln"}, text("42")},
			Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 100, OutputTokens: 30, CachedInputTokens: 60}, ReasoningTokens: 20, Found: true}},
		"filtered": {ID: "r5", Model: "m", Finish: protocol.FinishContentFilter, Parts: []protocol.Part{text("Sorry")}},
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := API.EncodeResponse(generate, &want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := API.DecodeResponse(generate, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got  %+v\nwant %+v\nbody %s", *got, want, b)
			}
		})
	}
}
