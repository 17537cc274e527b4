package anthropic

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

func partStart(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventPartStart, Index: i, Part: p}
}

func delta(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventDelta, Index: i, Part: p}
}

func partEnd(i int, t protocol.PartType) protocol.Event {
	return protocol.Event{Type: protocol.EventPartEnd, Index: i, Part: protocol.Part{Type: t}}
}

func textDelta(i int, s string) protocol.Event {
	return delta(i, protocol.Part{Type: protocol.PartText, Text: s})
}

func TestDecodeStreamFixtures(t *testing.T) {
	text := protocol.Part{Type: protocol.PartText}
	tool := protocol.PartToolCall
	tests := []struct {
		file string
		req  *protocol.Request
		want []protocol.Event
	}{{
		file: "stream_text.sse",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", Model: "claude-sonnet-4-20250514", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 25, OutputTokens: 1}, Found: true}},
			partStart(0, text), textDelta(0, "Hello"), textDelta(0, "!"), partEnd(0, protocol.PartText),
			{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 25, OutputTokens: 15}, Found: true}},
		},
	}, {
		file: "stream_tools.sse",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_014p7gG3wDgGV9EUtLvnow3U", Model: "claude-sonnet-4-20250514", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 472, OutputTokens: 2}, Found: true}},
			partStart(0, text), textDelta(0, "Okay, let's check the weather and the time for San Francisco, CA:"), partEnd(0, protocol.PartText),
			partStart(1, protocol.Part{Type: tool, ID: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", Name: "get_weather"}),
			delta(1, protocol.Part{Type: tool, Arguments: `{"location":`}), delta(1, protocol.Part{Type: tool, Arguments: ` "San Francisco, CA"}`}),
			partEnd(1, tool),
			partStart(2, protocol.Part{Type: tool, ID: "toolu_01V2y2gK45rBnl3OUuSo8Vq7", Name: "get_time"}),
			delta(2, protocol.Part{Type: tool, Arguments: `{"timezone": "America/Los_Angeles"}`}),
			partEnd(2, tool),
			{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 472, OutputTokens: 89}, Found: true}},
		},
	}, {
		file: "stream_image.sse",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_01EcyWo6m4hyW8KHs2y2pei5", Model: "claude-sonnet-4-20250514", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 1551, OutputTokens: 1}, Found: true}},
			partStart(0, text), textDelta(0, "This image shows an ant"), textDelta(0, ", seen close up."), partEnd(0, protocol.PartText),
			{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 1551, OutputTokens: 71}, Found: true}},
		},
	}, {
		file: "stream_structured.sse",
		req:  structuredReq,
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_01UqLv2BHZ8ZCv1NMRyH1XUX", Model: "claude-sonnet-4-20250514", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 602, OutputTokens: 8}, Found: true}},
			partStart(0, text), textDelta(0, `{"name": "John Smith", `), textDelta(0, `"email": "john@example.com", "plan": "Enterprise"}`), partEnd(0, protocol.PartText),
			{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 602, OutputTokens: 61}, Found: true}},
		},
	}, {
		file: "stream_reasoning.sse",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_01Rwz9nZUX4Bf2Az9aYPnRS1", Model: "claude-sonnet-4-20250514",
				Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 2098, OutputTokens: 1, CachedInputTokens: 1800, CacheWriteTokens: 248, CacheWrite1hTokens: 200}, Found: true}},
			partStart(0, protocol.Part{Type: protocol.PartThinking}),
			delta(0, protocol.Part{Type: protocol.PartThinking, Text: "Let me solve this step by step:\n\n1. First break down 27 * 453"}),
			delta(0, protocol.Part{Type: protocol.PartThinking, Text: "\n2. 453 = 400 + 50 + 3"}),
			delta(0, protocol.Part{Type: protocol.PartThinking, Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYd"}),
			partEnd(0, protocol.PartThinking),
			partStart(1, protocol.Part{Type: protocol.PartRedactedThinking, Data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIw"}),
			partEnd(1, protocol.PartRedactedThinking),
			partStart(2, text), textDelta(2, "27 * 453 = 12,231"), partEnd(2, protocol.PartText),
			{Type: protocol.EventFinish, Finish: protocol.FinishStop,
				Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 2098, OutputTokens: 393, CachedInputTokens: 1800, CacheWriteTokens: 248, CacheWrite1hTokens: 200}, ReasoningTokens: 320, Found: true}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			req := tt.req
			if req == nil {
				req = &protocol.Request{}
			}
			got := decodeStream(t, req, fixture(t, tt.file))
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("decoded\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestDecodeStreamEdges(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		want   []protocol.Event
	}{{
		name: "stop sequence, a later usage update, message_delta input counts",
		stream: "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"model\":\"m\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n" +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"stop_sequence\",\"stop_sequence\":\"END\"},\"usage\":{\"output_tokens\":5,\"input_tokens\":12,\"cache_read_input_tokens\":3}}\n\n" +
			"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{},\"usage\":{\"output_tokens\":6}}\n\n" +
			"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_1", Model: "m", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 1}, Found: true}},
			{Type: protocol.EventFinish, Finish: protocol.FinishStop, StopSequence: "END", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 15, CachedInputTokens: 3, OutputTokens: 5}, Found: true}},
			{Type: protocol.EventUsage, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 15, CachedInputTokens: 3, OutputTokens: 6}, Found: true}},
		},
	}, {
		name: "server tool blocks are skipped, a block left open is closed",
		stream: "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"model\":\"m\"}}\n\n" +
			"data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\",\"name\":\"web_search\",\"input\":{}}}\n\n" +
			"data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n" +
			"data: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
			"data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"Hi\"}}\n\n" +
			"data: {\"type\":\"message_stop\"}\n\n",
		want: []protocol.Event{
			{Type: protocol.EventStart, ID: "msg_2", Model: "m"},
			partStart(0, protocol.Part{Type: protocol.PartText}), textDelta(0, "Hi"), partEnd(0, protocol.PartText),
			{Type: protocol.EventFinish},
		},
	}, {
		name: "max_tokens and pings",
		stream: "event: ping\ndata: {\"type\": \"ping\"}\n\n" +
			"data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":7}}\n\n",
		want: []protocol.Event{
			{Type: protocol.EventStart},
			{Type: protocol.EventFinish, Finish: protocol.FinishLength, Usage: &usage.Usage{Tokens: tokens.Tokens{OutputTokens: 7}, Found: true}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeStream(t, &protocol.Request{}, []byte(tt.stream))
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", " ")
				w, _ := json.MarshalIndent(tt.want, "", " ")
				t.Errorf("decoded\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestDecodeStreamError(t *testing.T) {
	tests := []struct {
		data   string
		status int
		msg    string
	}{
		{`{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`, 529, "Overloaded"},
		{`{"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}`, 500, "Internal server error"},
		{`{"type": "error"}`, 0, "the provider's stream failed"},
	}
	for _, tt := range tests {
		d := Messages.NewStreamDecoder(&protocol.Request{})
		_, err := d.Decode(nil, sse.Event{Name: "error", Data: []byte(tt.data)})
		var ue *protocol.UpstreamError
		if !errors.As(err, &ue) || ue.Status != tt.status || ue.Message != tt.msg {
			t.Errorf("%s: error %#v", tt.data, err)
		}
	}
	d := Messages.NewStreamDecoder(&protocol.Request{})
	if _, err := d.Decode(nil, sse.Event{Name: "message_start", Data: []byte(`{"type":`)}); err == nil {
		t.Error("a broken event decoded without error")
	}
}

// accumulate parses an encoded stream as the Anthropic SDK does and
// accumulates it into a Message.
func accumulate(t *testing.T, stream []byte) (anthropic.Message, []string) {
	t.Helper()
	var m anthropic.Message
	var types []string
	for _, ev := range sseEvents(t, stream) {
		var u anthropic.MessageStreamEventUnion
		if err := json.Unmarshal(ev.Data, &u); err != nil {
			t.Fatalf("%s: %v", ev.Data, err)
		}
		if u.Type != ev.Name {
			t.Errorf("event %q carries type %q", ev.Name, u.Type)
		}
		types = append(types, u.Type)
		if err := m.Accumulate(u); err != nil {
			t.Fatalf("accumulating %s: %v", ev.Data, err)
		}
	}
	return m, types
}

func TestEncodeStreamReadsInSDK(t *testing.T) {
	tool := protocol.PartToolCall
	events := []protocol.Event{
		{Type: protocol.EventStart, ID: "msg_9", Model: "claude-x", Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 900, CachedInputTokens: 500, CacheWriteTokens: 100}, Found: true}},
		partStart(0, protocol.Part{Type: protocol.PartThinking}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Text: "Let me "}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Text: "think.", Signature: "sig/+=="}),
		partEnd(0, protocol.PartThinking),
		partStart(1, protocol.Part{Type: protocol.PartImage}), partEnd(1, protocol.PartImage),
		partStart(2, protocol.Part{Type: protocol.PartText}), textDelta(2, "Hello <b>&"), textDelta(2, " world"), partEnd(2, protocol.PartText),
		partStart(3, protocol.Part{Type: tool, ID: "call_1", Name: "f"}),
		delta(3, protocol.Part{Type: tool, Arguments: `{"a":`}), delta(3, protocol.Part{Type: tool, Arguments: `1}`}),
		partEnd(3, tool),
		partStart(4, protocol.Part{Type: protocol.PartRedactedThinking, Data: "enc"}), partEnd(4, protocol.PartRedactedThinking),
		{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls, Usage: &usage.Usage{Tokens: tokens.Tokens{InputTokens: 900, CachedInputTokens: 500, CacheWriteTokens: 100, OutputTokens: 42}, ReasoningTokens: 10, Found: true}},
	}
	m, types := accumulate(t, encodeStream(&protocol.Request{}, events))
	wantTypes := []string{"message_start",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_stop",
		"message_delta", "message_stop"}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Errorf("events %q\nwant %q", types, wantTypes)
	}
	if m.ID != "msg_9" || string(m.Model) != "claude-x" || m.StopReason != anthropic.StopReasonToolUse || len(m.Content) != 4 {
		t.Fatalf("message %+v", m)
	}
	c := m.Content
	if c[0].Type != "thinking" || c[0].Thinking != "Let me think." || c[0].Signature != "sig/+==" ||
		c[1].Type != "text" || c[1].Text != "Hello <b>& world" ||
		c[2].Type != "tool_use" || c[2].ID != "call_1" || c[2].Name != "f" || string(c[2].Input) != `{"a":1}` ||
		c[3].Type != "redacted_thinking" || c[3].Data != "enc" {
		t.Errorf("content %+v", c)
	}
	u := m.Usage
	if u.InputTokens != 300 || u.CacheReadInputTokens != 500 || u.CacheCreationInputTokens != 100 || u.OutputTokens != 42 {
		t.Errorf("usage %+v", u)
	}
}

// TestEncodeStreamUsageAfterFinish checks a provider that reports usage
// only after its finish (OpenAI): message_start says 0 input tokens, and
// message_delta, held until the usage arrives, carries the real counts,
// which the SDK's accumulator takes.
func TestEncodeStreamUsageAfterFinish(t *testing.T) {
	final := &usage.Usage{Tokens: tokens.Tokens{InputTokens: 120, CachedInputTokens: 20, OutputTokens: 7}, Found: true}
	tests := []struct {
		name   string
		events []protocol.Event
		// heldAt is the event index at which nothing may have been
		// written after the finish yet.
		heldAt int
	}{{
		name: "usage event",
		events: []protocol.Event{
			{Type: protocol.EventStart, ID: "chatcmpl-1", Model: "gpt-4o"},
			partStart(0, protocol.Part{Type: protocol.PartText}), textDelta(0, "Hi"), partEnd(0, protocol.PartText),
			{Type: protocol.EventFinish, Finish: protocol.FinishStop},
			{Type: protocol.EventUsage, Usage: final},
		},
		heldAt: 4,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Messages.NewStreamEncoder(&protocol.Request{})
			var out []byte
			for i, ev := range tt.events {
				before := len(out)
				out = e.Encode(out, ev)
				if i == tt.heldAt && len(out) != before {
					t.Errorf("finish without usage wrote %q", out[before:])
				}
			}
			out = e.End(out)
			m, types := accumulate(t, out)
			if types[len(types)-2] != "message_delta" || types[len(types)-1] != "message_stop" {
				t.Errorf("events %q", types)
			}
			if m.Usage.InputTokens != 100 || m.Usage.CacheReadInputTokens != 20 || m.Usage.OutputTokens != 7 || m.StopReason != anthropic.StopReasonEndTurn || m.Content[0].Text != "Hi" {
				t.Errorf("message %+v", m)
			}
		})
	}
	// A stream whose usage never comes ends at End all the same.
	out := encodeStream(&protocol.Request{}, []protocol.Event{{Type: protocol.EventStart}, {Type: protocol.EventFinish, Finish: protocol.FinishLength}})
	m, types := accumulate(t, out)
	if !reflect.DeepEqual(types, []string{"message_start", "message_delta", "message_stop"}) || m.StopReason != anthropic.StopReasonMaxTokens {
		t.Errorf("events %q, message %+v", types, m)
	}
}
