package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"google.golang.org/genai"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// readEvents splits an SSE stream into events, copying their data.
func readEvents(t testing.TB, stream []byte) []sse.Event {
	t.Helper()
	r := sse.NewReader(bytes.NewReader(stream))
	var out []sse.Event
	for {
		ev, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Data != nil {
			out = append(out, sse.Event{Name: ev.Name, Data: bytes.Clone(ev.Data)})
		}
	}
}

func decodeStream(t testing.TB, req *protocol.Request, stream []byte) []protocol.Event {
	t.Helper()
	d := API.NewStreamDecoder(req)
	var out []protocol.Event
	for _, ev := range readEvents(t, stream) {
		var err error
		if out, err = d.Decode(out, ev); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func uptr(u usage.Usage) *usage.Usage { return &u }

func start(id, model string) protocol.Event {
	return protocol.Event{Type: protocol.EventStart, ID: id, Model: model}
}

func partStart(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventPartStart, Index: i, Part: p}
}

func delta(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventDelta, Index: i, Part: p}
}

func partEnd(i int, t protocol.PartType) protocol.Event {
	return protocol.Event{Type: protocol.EventPartEnd, Index: i, Part: protocol.Part{Type: t}}
}

func text(s string) protocol.Part { return protocol.Part{Type: protocol.PartText, Text: s} }

var streamFixtures = []struct {
	file string
	want []protocol.Event
}{
	{"stream_text.sse", []protocol.Event{
		start("Xg2taOKwFtSuz7IPmfmV2AM", "gemini-2.0-flash"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		delta(0, text("The")),
		delta(0, text(" sky is blue because air molecules scatter")),
		delta(0, text(" blue light more than red light.")),
		partEnd(0, protocol.PartText),
		{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 8, OutputTokens: 16}, Found: true})},
	}},
	{"stream_tools.sse", []protocol.Event{
		start("eQ6taKq9Lbemz7IPz6TbuAs", "gemini-2.5-flash"),
		partStart(0, protocol.Part{Type: protocol.PartToolCall, ID: "call_0", Name: "get_weather", Signature: "Q2lVQnlFQThmZmFsc2U="}),
		delta(0, protocol.Part{Type: protocol.PartToolCall, Arguments: `{"location":"Paris","unit":"celsius"}`}),
		partEnd(0, protocol.PartToolCall),
		partStart(1, protocol.Part{Type: protocol.PartToolCall, ID: "call_1", Name: "get_weather"}),
		delta(1, protocol.Part{Type: protocol.PartToolCall, Arguments: `{"location":"London","unit":"celsius"}`}),
		partEnd(1, protocol.PartToolCall),
		{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 85, OutputTokens: 95}, ReasoningTokens: 59, Found: true})},
	}},
	{"stream_image.sse", []protocol.Event{
		start("mQ6taN7rAe7az7IP3qfZ4Qs", "gemini-2.0-flash"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		delta(0, text("The image shows a red fox")),
		delta(0, text(" sitting in a snowy field, looking toward the camera.")),
		partEnd(0, protocol.PartText),
		{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 264, OutputTokens: 17}, Found: true})},
	}},
	{"stream_structured.sse", []protocol.Event{
		start("tQ6taMeaGo2Yz7IP0ov0oAs", "gemini-2.0-flash"),
		partStart(0, protocol.Part{Type: protocol.PartText}),
		delta(0, text(`[{"recipeName": "Chocolate Chip Cookies", `)),
		delta(0, text(`"ingredients": ["flour", "butter", "sugar", "chocolate chips"]}]`)),
		partEnd(0, protocol.PartText),
		{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 12, OutputTokens: 28}, Found: true})},
	}},
	{"stream_reasoning.sse", []protocol.Event{
		start("0Q6taKbLNpTaz7IPkuWZ6Ac", "gemini-2.5-pro"),
		partStart(0, protocol.Part{Type: protocol.PartThinking}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Text: "**Counting the primes**\n\nI list the primes below 20: "}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Text: "2, 3, 5, 7, 11, 13, 17, 19. That is eight."}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Signature: "Q2lRQjBlMlBoMm1zaWduZWQ="}),
		partEnd(0, protocol.PartThinking),
		partStart(1, protocol.Part{Type: protocol.PartText}),
		delta(1, text("There are 8 prime numbers below 20.")),
		partEnd(1, protocol.PartText),
		{Type: protocol.EventFinish, Finish: protocol.FinishStop, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 2059, OutputTokens: 223, CachedInputTokens: 2048}, ReasoningTokens: 212, Found: true})},
	}},
}

func TestStreamDecoderFixtures(t *testing.T) {
	for _, tt := range streamFixtures {
		t.Run(tt.file, func(t *testing.T) {
			got := decodeStream(t, generate, readFixture(t, tt.file))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("events:\n%s\nwant:\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

func dump(evs []protocol.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		j, _ := json.Marshal(ev)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestStreamDecoderCases(t *testing.T) {
	t.Run("error event", func(t *testing.T) {
		d := API.NewStreamDecoder(generate)
		_, err := d.Decode(nil, sse.Event{Data: []byte(`{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}`)})
		var ue *protocol.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 503 || ue.Message != "The model is overloaded." {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("blocked prompt", func(t *testing.T) {
		got := decodeStream(t, generate, []byte("data: {\"promptFeedback\":{\"blockReason\":\"PROHIBITED_CONTENT\"},\"usageMetadata\":{\"promptTokenCount\":4}}\n\n"))
		want := []protocol.Event{start("", "gemini-2.0-flash"), {Type: protocol.EventFinish, Finish: protocol.FinishContentFilter, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 4}, Found: true})}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%s", dump(got))
		}
	})
	t.Run("text then call in one chunk, usage after finish", func(t *testing.T) {
		stream := "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Let me look.\"},{\"functionCall\":{\"id\":\"fc_9\",\"name\":\"f\"}}]},\"finishReason\":\"STOP\"}]}\n\n" +
			"data: {\"usageMetadata\":{\"promptTokenCount\":4,\"candidatesTokenCount\":6}}\n\n"
		got := decodeStream(t, generate, []byte(stream))
		want := []protocol.Event{
			start("", "gemini-2.0-flash"),
			partStart(0, protocol.Part{Type: protocol.PartText}), delta(0, text("Let me look.")), partEnd(0, protocol.PartText),
			partStart(1, protocol.Part{Type: protocol.PartToolCall, ID: "fc_9", Name: "f"}),
			delta(1, protocol.Part{Type: protocol.PartToolCall, Arguments: "{}"}), partEnd(1, protocol.PartToolCall),
			{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls},
			{Type: protocol.EventUsage, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 4, OutputTokens: 6}, Found: true})},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("events:\n%s\nwant:\n%s", dump(got), dump(want))
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		if _, err := API.NewStreamDecoder(generate).Decode(nil, sse.Event{Data: []byte("{oops")}); err == nil {
			t.Error("no error")
		}
	})
}

func encodeStream(req *protocol.Request, evs []protocol.Event) []byte {
	enc := API.NewStreamEncoder(req)
	var out []byte
	for _, ev := range evs {
		out = enc.Encode(out, ev)
	}
	return enc.End(out)
}

func TestStreamEncoderSDK(t *testing.T) {
	evs := []protocol.Event{
		start("msg_1", "claude-sonnet-4-5"),
		partStart(0, protocol.Part{Type: protocol.PartThinking}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Text: "Hmm."}),
		delta(0, protocol.Part{Type: protocol.PartThinking, Signature: "c2ln"}),
		partEnd(0, protocol.PartThinking),
		partStart(1, protocol.Part{Type: protocol.PartText}),
		delta(1, text("Hello")),
		delta(1, text(", world")),
		partEnd(1, protocol.PartText),
		partStart(2, protocol.Part{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather"}),
		delta(2, protocol.Part{Type: protocol.PartToolCall, Arguments: `{"loc`}),
		delta(2, protocol.Part{Type: protocol.PartToolCall, Arguments: `ation":"Paris"}`}),
		partEnd(2, protocol.PartToolCall),
		{Type: protocol.EventFinish, Finish: protocol.FinishToolCalls},
		{Type: protocol.EventUsage, Usage: uptr(usage.Usage{Tokens: tokens.Tokens{InputTokens: 10, OutputTokens: 7}, ReasoningTokens: 2, Found: true})},
	}
	var text strings.Builder
	var calls []*genai.FunctionCall
	var last *genai.GenerateContentResponse
	var thought string
	for _, ev := range readEvents(t, encodeStream(generate, evs)) {
		r := sdkResponse(t, ev.Data)
		if r.ResponseID != "msg_1" || r.ModelVersion != "claude-sonnet-4-5" {
			t.Errorf("chunk %s: id %q, model %q", ev.Data, r.ResponseID, r.ModelVersion)
		}
		text.WriteString(r.Text())
		calls = append(calls, r.FunctionCalls()...)
		if len(r.Candidates) > 0 && r.Candidates[0].Content != nil {
			for _, p := range r.Candidates[0].Content.Parts {
				if p.Thought {
					thought += p.Text + string(p.ThoughtSignature)
				}
			}
		}
		last = r
	}
	if text.String() != "Hello, world" || thought != "Hmm.sig" {
		t.Errorf("text %q, thought %q", text.String(), thought)
	}
	if len(calls) != 1 || calls[0].ID != "toolu_1" || calls[0].Name != "get_weather" || calls[0].Args["location"] != "Paris" {
		t.Errorf("calls = %+v", calls)
	}
	if last.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Errorf("last chunk = %+v", last.Candidates[0])
	}
	if u := last.UsageMetadata; u == nil || u.PromptTokenCount != 10 || u.CandidatesTokenCount != 5 || u.ThoughtsTokenCount != 2 || u.TotalTokenCount != 17 {
		t.Errorf("usage = %+v", last.UsageMetadata)
	}
}

func TestStreamEncoderHeldFinish(t *testing.T) {
	enc := API.NewStreamEncoder(generate)
	out := enc.Encode(nil, start("r", ""))
	out = enc.Encode(out, protocol.Event{Type: protocol.EventFinish, Finish: protocol.FinishLength})
	if len(out) != 0 {
		t.Fatalf("finish without usage written at once: %q", out)
	}
	out = enc.End(out)
	evs := readEvents(t, out)
	if len(evs) != 1 {
		t.Fatalf("End wrote %q", out)
	}
	r := sdkResponse(t, evs[0].Data)
	if r.Candidates[0].FinishReason != genai.FinishReasonMaxTokens || r.UsageMetadata != nil || r.ModelVersion != "gemini-2.0-flash" {
		t.Errorf("chunk = %s", evs[0].Data)
	}
}

// TestStreamRoundTrip checks that what the encoder writes, the decoder
// reads back as the same events.
func TestStreamRoundTrip(t *testing.T) {
	for _, tt := range streamFixtures {
		t.Run(tt.file, func(t *testing.T) {
			again := decodeStream(t, generate, encodeStream(generate, tt.want))
			if !reflect.DeepEqual(again, tt.want) {
				t.Errorf("round trip:\n%s\nwant:\n%s", dump(again), dump(tt.want))
			}
		})
	}
}
