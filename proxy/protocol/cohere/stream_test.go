package cohere

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// streamCases are the provider stream fixtures folded into answers.
var streamCases = []answerCase{
	{"text", []protocol.Part{{Type: protocol.PartText, Text: "LLMs stand for Large Language Models, which are a type of neural network model specialized in processing and generating human language."}},
		protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 71, OutputTokens: 26}, Found: true}},
	{"tools", []protocol.Part{
		{Type: protocol.PartText, Text: "I will use the query_daily_sales_report tool to find the sales summary for 29th September 2023. I will also use the query_product_catalog tool to find the details of the products in the Electronics category."},
		{Type: protocol.PartToolCall, ID: "query_daily_sales_report_j3f0adww9pmr", Name: "query_daily_sales_report", Arguments: `{"day": "2023-09-29"}`},
		{Type: protocol.PartToolCall, ID: "query_product_catalog_c66nf11r6s8g", Name: "query_product_catalog", Arguments: `{"category": "Electronics"}`},
	}, protocol.FinishToolCalls, usage.Usage{Tokens: tokens.Tokens{InputTokens: 1589, OutputTokens: 135}, Found: true}},
	{"image", []protocol.Part{{Type: protocol.PartText, Text: "The image you've provided appears to be a simple, abstract composition"}},
		protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 499, OutputTokens: 105}, Found: true}},
	{"structured", []protocol.Part{{Type: protocol.PartText, Text: `{"title": "The Great Gatsby", "author": "F. Scott Fitzgerald", "publication_year": 1925}`}},
		protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 812, OutputTokens: 26}, Found: true}},
	{"reasoning", []protocol.Part{
		{Type: protocol.PartThinking, Text: "Alice has 2 sisters, so there are 3 girls in the family."},
		{Type: protocol.PartText, Text: "Alice's brother has 3 sisters."},
	}, protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 1520, OutputTokens: 41, CachedInputTokens: 1024}, Found: true}},
	{"citations", []protocol.Part{{Type: protocol.PartText, Text: "Both Nsync"}},
		protocol.FinishStop, usage.Usage{Tokens: tokens.Tokens{InputTokens: 1661, OutputTokens: 19}, Found: true}},
}

func TestStreamDecoderFixtures(t *testing.T) {
	for _, tt := range streamCases {
		t.Run(tt.feature, func(t *testing.T) {
			events, err := decodeStream(t, chatReq, readFixture(t, "stream_"+tt.feature+".sse"))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, accumulate(t, events))
		})
	}
}

func TestStreamDecoderError(t *testing.T) {
	stream := "event: message-start\ndata: {\"type\":\"message-start\",\"id\":\"x\"}\n\n" +
		"event: content-start\ndata: {\"type\":\"content-start\",\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}}\n\n" +
		string(Errors.StreamError(500, "upstream_error", "the model failed"))
	events, err := decodeStream(t, chatReq, []byte(stream))
	var up *protocol.UpstreamError
	if !errors.As(err, &up) || up.Message != "the model failed" {
		t.Fatalf("error %v, want the upstream's message", err)
	}
	// The open part is closed before the error.
	if last := events[len(events)-1]; last.Type != protocol.EventPartEnd {
		t.Errorf("last event %+v", last)
	}
}

// TestStreamEncoder checks what a Cohere caller reads: the reference's
// event sequence, content and tool calls numbered apart, and message-end
// carrying usage that came after the finish.
func TestStreamEncoder(t *testing.T) {
	u := usage.Usage{Tokens: tokens.Tokens{InputTokens: 9, OutputTokens: 5}, Found: true}
	events := []protocol.Event{
		{Type: protocol.EventStart, ID: "chatcmpl-1", Model: "gpt"},
		{Type: protocol.EventPartStart, Index: 0, Part: protocol.Part{Type: protocol.PartThinking}},
		{Type: protocol.EventDelta, Index: 0, Part: protocol.Part{Type: protocol.PartThinking, Text: "hmm"}},
		{Type: protocol.EventDelta, Index: 0, Part: protocol.Part{Type: protocol.PartThinking, Signature: "sig"}},
		{Type: protocol.EventPartEnd, Index: 0},
		{Type: protocol.EventPartStart, Index: 1, Part: protocol.Part{Type: protocol.PartRedactedThinking, Data: "x"}},
		{Type: protocol.EventPartEnd, Index: 1},
		{Type: protocol.EventPartStart, Index: 2, Part: protocol.Part{Type: protocol.PartText}},
		{Type: protocol.EventDelta, Index: 2, Part: protocol.Part{Type: protocol.PartText, Text: "Hi"}},
		{Type: protocol.EventPartEnd, Index: 2},
		{Type: protocol.EventPartStart, Index: 3, Part: protocol.Part{Type: protocol.PartToolCall, ID: "call_a", Name: "f"}},
		{Type: protocol.EventDelta, Index: 3, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: `{"a":`}},
		{Type: protocol.EventDelta, Index: 3, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: `1}`}},
		{Type: protocol.EventPartEnd, Index: 3},
		{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls},
		{Type: protocol.EventUsage, Usage: &u},
	}
	out := encodeStream(chatReq, events)
	var types []string
	var got []refStreamEvent
	for _, ev := range readEvents(t, out) {
		var e refStreamEvent
		if err := json.Unmarshal(ev.Data, &e); err != nil {
			t.Fatal(err)
		}
		if ev.Name != e.Type {
			t.Errorf("event name %q, type %q", ev.Name, e.Type)
		}
		types = append(types, e.Type)
		got = append(got, e)
	}
	equal(t, "events", types, []string{"message-start", "content-start", "content-delta", "content-end", "content-start", "content-delta", "content-end",
		"tool-call-start", "tool-call-delta", "tool-call-delta", "tool-call-end", "message-end"})
	equal(t, "id", got[0].ID, "chatcmpl-1")
	equal(t, "role", got[0].Delta.Message.Role, "assistant")
	equal(t, "thinking block", got[1].Delta.Message.Content.Type, "thinking")
	equal(t, "thinking", *got[2].Delta.Message.Content.Thinking, "hmm")
	equal(t, "text index", *got[4].Index, 1)
	equal(t, "text", *got[5].Delta.Message.Content.Text, "Hi")
	equal(t, "tool call index", *got[7].Index, 0)
	equal(t, "tool call", got[7].Delta.Message.ToolCalls.ID+" "+got[7].Delta.Message.ToolCalls.Function.Name, "call_a f")
	equal(t, "arguments", got[8].Delta.Message.ToolCalls.Function.Arguments+got[9].Delta.Message.ToolCalls.Function.Arguments, `{"a":1}`)
	end := got[len(got)-1]
	equal(t, "finish", end.Delta.FinishReason, "TOOL_CALL")
	if end.Delta.Usage == nil || end.Delta.Usage.Tokens.InputTokens != 9 || end.Delta.Usage.Tokens.OutputTokens != 5 {
		t.Errorf("usage: %+v", end.Delta.Usage)
	}

	// With no usage at all, message-end is written at End.
	out = encodeStream(chatReq, []protocol.Event{{Type: protocol.EventStart, ID: "x"}, {Type: protocol.EventFinish, Finish: protocol.FinishStop}})
	if !strings.HasSuffix(string(out), "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"COMPLETE\"}}\n\n") {
		t.Errorf("stream without usage: %s", out)
	}
}

func TestStreamDecoderSkips(t *testing.T) {
	d := Chat.NewStreamDecoder(chatReq)
	events, err := d.Decode(nil, sse.Event{Data: nil})
	if err != nil || len(events) != 0 {
		t.Errorf("keep-alive: %v %v", events, err)
	}
	if _, err := d.Decode(nil, sse.Event{Data: []byte("{")}); err == nil {
		t.Error("a malformed event is an error")
	}
	// Events without message-start still open the answer; debug is skipped.
	events, _ = d.Decode(nil, sse.Event{Name: "debug", Data: []byte(`{"type":"debug","prompt":"x"}`)})
	equal(t, "events", len(events), 1)
	equal(t, "start", events[0].Type, protocol.EventStart)
}
