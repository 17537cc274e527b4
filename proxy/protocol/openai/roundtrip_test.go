package openai

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// TestRequestRoundTrip: Request → EncodeRequest → DecodeRequest gives the
// same Request, for what Chat Completions can say.
func TestRequestRoundTrip(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	tests := []struct {
		feature string
		req     protocol.Request
	}{
		{"text", protocol.Request{
			Model: "m", Stream: true, IncludeStreamUsage: true,
			System:    []protocol.Part{text("Be brief.")},
			Messages:  []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Hi")}}},
			MaxTokens: 50, Temperature: ptr(0.3), TopP: ptr(0.8), Seed: ptr(int64(7)),
			FrequencyPenalty: ptr(0.5), PresencePenalty: ptr(-0.5), Stop: []string{"END", "STOP"}, User: "u1",
		}},
		{"tools", protocol.Request{
			Model: "m",
			Messages: []protocol.Message{
				{Role: protocol.RoleUser, Parts: []protocol.Part{text("Weather?")}},
				{Role: protocol.RoleAssistant, Parts: []protocol.Part{text("Looking."), {Type: protocol.PartToolCall, ID: "call_1", Name: "weather", Arguments: `{"city":"Oslo"}`}}},
				{Role: protocol.RoleUser, Parts: []protocol.Part{
					{Type: protocol.PartToolResult, ID: "call_1", Name: "weather", Content: []protocol.Part{text("-3C")}},
					text("And tomorrow?"),
				}},
			},
			Tools:             []protocol.Tool{{Name: "weather", Description: "Weather now.", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`), Strict: true}},
			ToolChoice:        protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true},
			ParallelToolCalls: ptr(false),
		}},
		{"image", protocol.Request{
			Model: "m",
			Messages: []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{
				text("Compare"),
				{Type: protocol.PartImage, URL: "https://example.com/a.png"},
				{Type: protocol.PartImage, MediaType: "image/jpeg", Data: "/9j/4AAQ"},
				{Type: protocol.PartDocument, MediaType: "application/pdf", Data: "JVBERi0="},
				{Type: protocol.PartAudio, MediaType: "audio/wav", Data: "UklGRg=="},
			}}},
		}},
		{"structured", protocol.Request{
			Model:          "m",
			Messages:       []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("JSON please")}}},
			ResponseFormat: &protocol.ResponseFormat{Name: "answer", Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"integer"}}}`), Strict: true},
		}},
		{"reasoning", protocol.Request{
			Model:     "m",
			Messages:  []protocol.Message{{Role: protocol.RoleUser, Parts: []protocol.Part{text("Think")}}},
			Reasoning: &protocol.Reasoning{Effort: "low"},
			MaxTokens: 2000,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.feature, func(t *testing.T) {
			in := tt.req
			call, err := Chat.EncodeRequest(&in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Chat.DecodeRequest(protocol.OpGenerate, call.Body)
			if err != nil {
				t.Fatal(err)
			}
			got.Tools = compactTools(t, got.Tools)
			want := tt.req
			want.Tools = compactTools(t, want.Tools)
			if got.ResponseFormat != nil {
				got.ResponseFormat.Schema = compact(t, got.ResponseFormat.Schema)
				want.ResponseFormat.Schema = compact(t, want.ResponseFormat.Schema)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("body %s\ngot  %+v\nwant %+v", call.Body, *got, want)
			}
		})
	}
}

func compact(t *testing.T, v json.RawMessage) json.RawMessage {
	var x any
	if err := json.Unmarshal(v, &x); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(x)
	return b
}

func compactTools(t *testing.T, tools []protocol.Tool) []protocol.Tool {
	out := append([]protocol.Tool(nil), tools...)
	for i := range out {
		out[i].Parameters = compact(t, out[i].Parameters)
	}
	return out
}

// TestResponseRoundTrip: Response → EncodeResponse → DecodeResponse gives
// the same Response.
func TestResponseRoundTrip(t *testing.T) {
	u := usage.Usage{Tokens: tokens.Tokens{InputTokens: 100, OutputTokens: 40, CachedInputTokens: 60, CacheWriteTokens: 20}, ReasoningTokens: 10, Found: true}
	tests := []struct {
		feature string
		resp    protocol.Response
	}{
		{"text", protocol.Response{Parts: []protocol.Part{{Type: protocol.PartText, Text: "Hello"}}, Finish: protocol.FinishStop, Usage: u}},
		{"tools", protocol.Response{Parts: []protocol.Part{
			{Type: protocol.PartText, Text: "Calling."},
			{Type: protocol.PartToolCall, ID: "call_a", Name: "f", Arguments: `{"x":1}`},
			{Type: protocol.PartToolCall, ID: "call_b", Name: "g", Arguments: `{}`},
		}, Finish: protocol.FinishToolCalls, Usage: u}},
		{"structured", protocol.Response{Parts: []protocol.Part{{Type: protocol.PartText, Text: `{"a":1}`}}, Finish: protocol.FinishLength}},
		{"reasoning", protocol.Response{Parts: []protocol.Part{{Type: protocol.PartThinking, Text: "hmm"}, {Type: protocol.PartText, Text: "42"}}, Finish: protocol.FinishContentFilter, Usage: u}},
	}
	for _, tt := range tests {
		t.Run(tt.feature, func(t *testing.T) {
			want := tt.resp
			want.ID, want.Model, want.Created = "chatcmpl-1", "gpt-x", 1700000000
			b, err := Chat.EncodeResponse(&protocol.Request{}, &want)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Chat.DecodeResponse(&protocol.Request{}, b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("%s\ngot  %+v\nwant %+v", b, *got, want)
			}
		})
	}
}

// TestStreamRoundTrip: the events decoded from each stream fixture,
// encoded for a caller and decoded again, are the same events.
func TestStreamRoundTrip(t *testing.T) {
	for _, tt := range streamFixtures {
		t.Run(tt.file, func(t *testing.T) {
			stream := encodeStream(&protocol.Request{Stream: true, IncludeStreamUsage: true}, tt.want)
			got, err := decodeStream(t, stream)
			if err != nil {
				t.Fatal(err)
			}
			// The encoder writes usage that came with the finish in the
			// usage chunk, where it decodes as EventUsage.
			want := append([]protocol.Event(nil), tt.want...)
			for i, ev := range want {
				if ev.Type == protocol.EventFinish && ev.Usage != nil {
					want[i].Usage = nil
					want = append(want, protocol.Event{Type: protocol.EventUsage, Usage: ev.Usage})
				}
			}
			if !reflect.DeepEqual(got, want) {
				gj, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("%s\ngot\n%s", stream, gj)
			}
		})
	}
}
