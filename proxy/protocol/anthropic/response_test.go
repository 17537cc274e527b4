package anthropic

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// structuredReq is a request for JSON output as the forced tool
// json_response.
var structuredReq = &protocol.Request{ResponseFormat: &protocol.ResponseFormat{Schema: json.RawMessage(`{"type":"object"}`)}}

func TestDecodeResponseFixtures(t *testing.T) {
	text := func(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }
	tests := []struct {
		file string
		req  *protocol.Request
		want protocol.Response
	}{{
		file: "answer_text.json",
		want: protocol.Response{ID: "msg_013Zva2CMHLNnXjNJJKqJ2EF", Model: "claude-sonnet-4-20250514", Parts: []protocol.Part{text("Hi! My name is Claude.")},
			Finish: protocol.FinishStop, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 2095, OutputTokens: 503}, Found: true}},
	}, {
		file: "answer_tools.json",
		want: protocol.Response{ID: "msg_01Aq9w938a90dw8q", Model: "claude-sonnet-4-20250514", Parts: []protocol.Part{
			text("I'll check the weather and the time in San Francisco."),
			{Type: protocol.PartToolCall, ID: "toolu_01A09q90qw90lq917835lq9", Name: "get_weather", Arguments: `{"location": "San Francisco, CA", "unit": "celsius"}`},
			{Type: protocol.PartToolCall, ID: "toolu_01B19r01rx01mr028946mr0", Name: "get_time", Arguments: `{"timezone": "America/Los_Angeles"}`},
		}, Finish: protocol.FinishToolCalls, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 512, OutputTokens: 117}, Found: true}},
	}, {
		file: "answer_image.json",
		want: protocol.Response{ID: "msg_01EcyWo6m4hyW8KHs2y2pei5", Model: "claude-sonnet-4-20250514", Parts: []protocol.Part{
			text("This image shows an ant, specifically a close-up view of an ant. The ant is shown in detail, with its distinct head, antennae, and legs clearly visible."),
		}, Finish: protocol.FinishStop, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 1551, OutputTokens: 71}, Found: true}},
	}, {
		file: "answer_structured.json",
		req:  structuredReq,
		want: protocol.Response{ID: "msg_01UqLv2BHZ8ZCv1NMRyH1XUX", Model: "claude-sonnet-4-20250514", Parts: []protocol.Part{
			text(`{"name": "John Smith", "email": "john@example.com", "plan": "Enterprise"}`),
		}, Finish: protocol.FinishStop, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 602, OutputTokens: 61}, Found: true}},
	}, {
		file: "answer_reasoning.json",
		want: protocol.Response{ID: "msg_01Rwz9nZUX4Bf2Az9aYPnRS1", Model: "claude-sonnet-4-20250514", Parts: []protocol.Part{
			{Type: protocol.PartThinking, Text: "Let me analyze this step by step. 27 * 453: 27 * 400 = 10800, 27 * 53 = 1431, so 12231.", Signature: "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL"},
			{Type: protocol.PartRedactedThinking, Data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB4URj/RH7lF6tEzVOnqW3EuKj4vEk8kqOl6nyQyRfWLkBm3"},
			text("27 * 453 = 12,231"),
		}, Finish: protocol.FinishStop, Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 2098, OutputTokens: 393, CachedInputTokens: 1800, CacheWriteTokens: 248, CacheWrite1hTokens: 200}, ReasoningTokens: 320, Found: true}},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			req := tt.req
			if req == nil {
				req = &protocol.Request{}
			}
			got, err := Messages.DecodeResponse(req, fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestDecodeResponseStopSequence(t *testing.T) {
	body := `{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"a"}],"stop_reason":"stop_sequence","stop_sequence":"END","usage":{"input_tokens":1,"output_tokens":1}}`
	got, err := Messages.DecodeResponse(&protocol.Request{}, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got.Finish != protocol.FinishStop || got.StopSequence != "END" {
		t.Errorf("finish %q stop sequence %q", got.Finish, got.StopSequence)
	}
}

func TestEncodeResponseReadsInSDK(t *testing.T) {
	resp := &protocol.Response{ID: "chatcmpl-1", Model: "gpt-4o", Parts: []protocol.Part{
		{Type: protocol.PartThinking, Text: "think", Signature: "sig"},
		{Type: protocol.PartRedactedThinking, Data: "enc"},
		{Type: protocol.PartText, Text: "Hello"},
		{Type: protocol.PartImage, URL: "https://example.com/out.png"},
		{Type: protocol.PartToolCall, ID: "call_1", Name: "f", Arguments: `{"a":1}`},
		{Type: protocol.PartToolCall, ID: "call_2", Name: "g"},
	}, Finish: protocol.FinishToolCalls,
		Usage: usage.Usage{Tokens: tokens.Tokens{InputTokens: 1000, OutputTokens: 50, CachedInputTokens: 600, CacheWriteTokens: 300, CacheWrite1hTokens: 100}, ReasoningTokens: 20, Found: true}}
	b, err := Messages.EncodeResponse(&protocol.Request{}, resp)
	if err != nil {
		t.Fatal(err)
	}
	var m anthropic.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != "chatcmpl-1" || string(m.Model) != "gpt-4o" || m.Role != "assistant" || m.StopReason != anthropic.StopReasonToolUse {
		t.Errorf("message %s", b)
	}
	if len(m.Content) != 5 {
		t.Fatalf("content %s", b)
	}
	c := m.Content
	if c[0].Type != "thinking" || c[0].Thinking != "think" || c[0].Signature != "sig" ||
		c[1].Type != "redacted_thinking" || c[1].Data != "enc" ||
		c[2].Type != "text" || c[2].Text != "Hello" ||
		c[3].Type != "tool_use" || c[3].ID != "call_1" || c[3].Name != "f" || string(c[3].Input) != `{"a":1}` ||
		c[4].Type != "tool_use" || c[4].ID != "call_2" || string(c[4].Input) != `{}` {
		t.Errorf("content %s", b)
	}
	u := m.Usage
	if u.InputTokens != 100 || u.CacheReadInputTokens != 600 || u.CacheCreationInputTokens != 300 || u.OutputTokens != 50 ||
		u.CacheCreation.Ephemeral5mInputTokens != 200 || u.CacheCreation.Ephemeral1hInputTokens != 100 || u.OutputTokensDetails.ThinkingTokens != 20 {
		t.Errorf("usage %+v", u)
	}
}

func TestEncodeResponseStopReasons(t *testing.T) {
	tests := []struct {
		finish protocol.Finish
		seq    string
		want   anthropic.StopReason
	}{
		{protocol.FinishStop, "", anthropic.StopReasonEndTurn},
		{protocol.FinishStop, "END", anthropic.StopReasonStopSequence},
		{protocol.FinishLength, "", anthropic.StopReasonMaxTokens},
		{protocol.FinishToolCalls, "", anthropic.StopReasonToolUse},
		{protocol.FinishContentFilter, "", anthropic.StopReasonRefusal},
		{protocol.FinishRefusal, "", anthropic.StopReasonRefusal},
		{protocol.FinishPause, "", anthropic.StopReasonPauseTurn},
	}
	for _, tt := range tests {
		b, err := Messages.EncodeResponse(&protocol.Request{}, &protocol.Response{ID: "msg_1", Finish: tt.finish, StopSequence: tt.seq})
		if err != nil {
			t.Fatal(err)
		}
		var m anthropic.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.StopReason != tt.want || m.StopSequence != tt.seq {
			t.Errorf("%s %q: stop_reason %q stop_sequence %q", tt.finish, tt.seq, m.StopReason, m.StopSequence)
		}
	}
}

func TestEncodeResponseMessageID(t *testing.T) {
	b, err := Messages.EncodeResponse(&protocol.Request{}, &protocol.Response{Finish: protocol.FinishStop})
	if err != nil {
		t.Fatal(err)
	}
	var m anthropic.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.ID) != len("msg_")+24 || m.ID[:4] != "msg_" {
		t.Errorf("id %q", m.ID)
	}
}

func TestCountTokens(t *testing.T) {
	req := &protocol.Request{Op: protocol.OpCountTokens}
	resp, err := Messages.DecodeResponse(req, []byte(`{"input_tokens": 2095}`))
	if err != nil || resp.InputTokens != 2095 {
		t.Fatalf("decoded %+v, %v", resp, err)
	}
	b, err := Messages.EncodeResponse(req, &protocol.Response{InputTokens: 14})
	if err != nil {
		t.Fatal(err)
	}
	var c anthropic.MessageTokensCount
	if err := json.Unmarshal(b, &c); err != nil || c.InputTokens != 14 {
		t.Errorf("encoded %s: %+v %v", b, c, err)
	}
}

func TestEncodeModels(t *testing.T) {
	tests := []struct {
		ids         []string
		first, last string
	}{
		{[]string{"claude-sonnet-4-20250514", "gpt-4o", "gemini-2.5-pro"}, "claude-sonnet-4-20250514", "gemini-2.5-pro"},
		{nil, "", ""},
	}
	for _, tt := range tests {
		b := Messages.EncodeModels(tt.ids)
		var page struct {
			Data    []anthropic.ModelInfo `json:"data"`
			HasMore bool                  `json:"has_more"`
			FirstID *string               `json:"first_id"`
			LastID  *string               `json:"last_id"`
		}
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != len(tt.ids) || page.HasMore {
			t.Fatalf("page %s", b)
		}
		for i, m := range page.Data {
			if m.ID != tt.ids[i] || m.DisplayName != tt.ids[i] || m.Type != "model" || !m.CreatedAt.Equal(time.Unix(0, 0)) {
				t.Errorf("model %d: %s", i, b)
			}
		}
		if tt.first == "" {
			if page.FirstID != nil || page.LastID != nil {
				t.Errorf("empty page ids %s", b)
			}
		} else if page.FirstID == nil || *page.FirstID != tt.first || *page.LastID != tt.last {
			t.Errorf("page ids %s", b)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		status int
		typ    string
	}{
		{400, "invalid_request_error"}, {401, "authentication_error"}, {402, "billing_error"}, {403, "permission_error"},
		{404, "not_found_error"}, {413, "request_too_large"}, {429, "rate_limit_error"}, {500, "api_error"},
		{502, "api_error"}, {503, "overloaded_error"}, {504, "timeout_error"}, {529, "overloaded_error"},
	}
	for _, tt := range tests {
		b := Errors.ErrorBody(tt.status, "some_code", "went wrong")
		var e wireError
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != "error" || e.Error.Type != tt.typ || e.Error.Message != "went wrong" {
			t.Errorf("%d: %s", tt.status, b)
		}
		if got := Messages.ErrorMessage(b); got != "went wrong" {
			t.Errorf("ErrorMessage = %q", got)
		}
		s := Errors.StreamError(tt.status, "some_code", "went wrong")
		evs := sseEvents(t, s)
		if len(evs) != 1 || evs[0].Name != "error" || string(evs[0].Data) != string(b) {
			t.Errorf("%d: stream error %q", tt.status, s)
		}
	}
	if got := Messages.ErrorMessage([]byte("not json")); got != "" {
		t.Errorf("ErrorMessage of junk = %q", got)
	}
}
