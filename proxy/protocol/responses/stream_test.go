package responses

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// streamCase is an answer as internal events and what the SDK must make
// of its Responses stream.
type streamCase struct {
	name    string
	events  []protocol.Event
	text    string
	calls   []protocol.Part
	summary string
	usage   *usage.Usage
	final   string // the closing event's type
	// types is the expected sequence of event types, when checked.
	types []string
}

func start() protocol.Event {
	return protocol.Event{Type: protocol.EventStart, ID: "msg_1", Model: "claude-x"}
}

func partStart(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventPartStart, Index: i, Part: p}
}
func delta(i int, p protocol.Part) protocol.Event {
	return protocol.Event{Type: protocol.EventDelta, Index: i, Part: p}
}
func partEnd(i int) protocol.Event { return protocol.Event{Type: protocol.EventPartEnd, Index: i} }
func finish(f protocol.Finish, u *usage.Usage) protocol.Event {
	return protocol.Event{Type: protocol.EventFinish, Finish: f, Usage: u}
}

func streamCases() []streamCase {
	u := &fullUsage
	textPart := protocol.Part{Type: protocol.PartText}
	return []streamCase{
		{
			name: "text",
			events: []protocol.Event{start(),
				partStart(0, textPart), delta(0, text("Hel")), delta(0, text("lo \"world\"\n")), partEnd(0),
				finish(protocol.FinishStop, u)},
			text: "Hello \"world\"\n", usage: u, final: "response.completed",
			types: []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
				"response.output_text.delta", "response.output_text.delta", "response.output_text.done", "response.content_part.done",
				"response.output_item.done", "response.completed"},
		},
		{
			name: "tools",
			events: []protocol.Event{start(),
				partStart(0, textPart), delta(0, text("Checking.")), partEnd(0),
				partStart(1, protocol.Part{Type: protocol.PartToolCall, ID: "toolu_1", Name: "get_weather"}),
				delta(1, protocol.Part{Arguments: `{"city":`}), delta(1, protocol.Part{Arguments: `"Paris"}`}), partEnd(1),
				partStart(2, protocol.Part{Type: protocol.PartToolCall, ID: "toolu_2", Name: "get_time"}), partEnd(2),
				finish(protocol.FinishToolCalls, u)},
			text: "Checking.", usage: u, final: "response.completed",
			calls: []protocol.Part{{ID: "toolu_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}, {ID: "toolu_2", Name: "get_time", Arguments: "{}"}},
			types: []string{"response.created", "response.in_progress",
				"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
				"response.content_part.done", "response.output_item.done",
				"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
				"response.function_call_arguments.done", "response.output_item.done",
				"response.output_item.added", "response.function_call_arguments.done", "response.output_item.done",
				"response.completed"},
		},
		{
			name: "reasoning",
			events: []protocol.Event{start(),
				partStart(0, protocol.Part{Type: protocol.PartThinking}), delta(0, protocol.Part{Text: "Count "}), delta(0, protocol.Part{Text: "the r."}),
				delta(0, protocol.Part{Signature: "sig-1"}), partEnd(0),
				partStart(1, textPart), delta(1, text("Three")), partEnd(1),
				partStart(2, textPart), delta(2, text(".")), partEnd(2),
				finish(protocol.FinishStop, u)},
			text: "Three.", summary: "Count the r.", usage: u, final: "response.completed",
			types: []string{"response.created", "response.in_progress",
				"response.output_item.added", "response.reasoning_summary_part.added", "response.reasoning_summary_text.delta",
				"response.reasoning_summary_text.delta", "response.reasoning_summary_text.done", "response.reasoning_summary_part.done",
				"response.output_item.done",
				"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
				"response.content_part.done", "response.content_part.added", "response.output_text.delta", "response.output_text.done",
				"response.content_part.done", "response.output_item.done", "response.completed"},
		},
		{
			// OpenAI chat's usage chunk comes after the finish.
			name: "usage after finish",
			events: []protocol.Event{start(),
				partStart(0, textPart), delta(0, text("Hi")), partEnd(0),
				finish(protocol.FinishStop, nil), {Type: protocol.EventUsage, Usage: u}},
			text: "Hi", usage: u, final: "response.completed",
		},
		{
			name: "length",
			events: []protocol.Event{start(),
				partStart(0, textPart), delta(0, text("Once upon")),
				finish(protocol.FinishLength, nil)},
			text: "Once upon", final: "response.incomplete",
		},
	}
}

// encodeStream runs the events through the stream encoder, event by event
// as the proxy does, then End.
func encodeStream(req *protocol.Request, events []protocol.Event) []byte {
	enc := API.NewStreamEncoder(req)
	var out []byte
	for _, ev := range events {
		out = enc.Encode(out, ev)
	}
	return enc.End(out)
}

// sdkStream feeds body to the openai-go SDK's streaming client as the
// answer of a POST /v1/responses and returns the events it reads.
func sdkStream(t *testing.T, body []byte) ([]responses.ResponseStreamEventUnion, error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/responses" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	client := openai.NewClient(option.WithBaseURL(srv.URL+"/v1/"), option.WithAPIKey("test"), option.WithMaxRetries(0))
	stream := client.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
		Model: "gpt-4.1", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")},
	})
	defer stream.Close()
	var events []responses.ResponseStreamEventUnion
	for stream.Next() {
		events = append(events, stream.Current())
	}
	return events, stream.Err()
}

// sdkAccumulated is what a caller assembles from the deltas of a stream:
// output text, function calls by output index, and reasoning summary.
type sdkAccumulated struct {
	text, summary string
	calls         []protocol.Part
}

func accumulate(t *testing.T, events []responses.ResponseStreamEventUnion) sdkAccumulated {
	t.Helper()
	var acc sdkAccumulated
	args := map[int64]*strings.Builder{}
	var order []int64
	callOf := map[int64]protocol.Part{}
	for _, ev := range events {
		switch ev.Type {
		case "response.output_text.delta":
			acc.text += ev.AsResponseOutputTextDelta().Delta
		case "response.reasoning_summary_text.delta":
			acc.summary += ev.AsResponseReasoningSummaryTextDelta().Delta
		case "response.output_item.added":
			e := ev.AsResponseOutputItemAdded()
			if e.Item.Type == "function_call" {
				fc := e.Item.AsFunctionCall()
				callOf[e.OutputIndex] = protocol.Part{ID: fc.CallID, Name: fc.Name}
				args[e.OutputIndex] = &strings.Builder{}
				order = append(order, e.OutputIndex)
			}
		case "response.function_call_arguments.delta":
			e := ev.AsResponseFunctionCallArgumentsDelta()
			if b := args[e.OutputIndex]; b != nil {
				b.WriteString(e.Delta)
			}
		case "response.function_call_arguments.done":
			e := ev.AsResponseFunctionCallArgumentsDone()
			if b := args[e.OutputIndex]; b != nil && b.Len() > 0 && b.String() != e.Arguments {
				t.Errorf("arguments done %q, deltas %q", e.Arguments, b.String())
			}
			p := callOf[e.OutputIndex]
			p.Arguments = e.Arguments
			callOf[e.OutputIndex] = p
		}
	}
	for _, i := range order {
		acc.calls = append(acc.calls, callOf[i])
	}
	return acc
}

func TestStreamThroughSDK(t *testing.T) {
	for _, sc := range streamCases() {
		t.Run(sc.name, func(t *testing.T) {
			req := &protocol.Request{Model: "gpt-4.1", Stream: true}
			body := encodeStream(req, sc.events)
			events, err := sdkStream(t, body)
			if err != nil {
				t.Fatalf("SDK stream error: %v\n%s", err, body)
			}
			var types []string
			for i, ev := range events {
				types = append(types, ev.Type)
				if ev.SequenceNumber != int64(i) {
					t.Errorf("event %d (%s) sequence_number %d", i, ev.Type, ev.SequenceNumber)
				}
			}
			if sc.types != nil && !slices.Equal(types, sc.types) {
				t.Errorf("event types\n%q\nwant\n%q", types, sc.types)
			}
			// Each SSE event's name is its data's type.
			for _, block := range strings.Split(strings.TrimSpace(string(body)), "\n\n") {
				name, data, _ := strings.Cut(block, "\n")
				var head struct{ Type string }
				if err := json.Unmarshal([]byte(strings.TrimPrefix(data, "data: ")), &head); err != nil || "event: "+head.Type != name {
					t.Errorf("event %q has data type %q (%v)", name, head.Type, err)
				}
			}

			acc := accumulate(t, events)
			if acc.text != sc.text || acc.summary != sc.summary {
				t.Errorf("accumulated text %q summary %q, want %q %q", acc.text, acc.summary, sc.text, sc.summary)
			}
			if !reflect.DeepEqual(acc.calls, sc.calls) {
				t.Errorf("accumulated calls %+v, want %+v", acc.calls, sc.calls)
			}

			last := events[len(events)-1]
			if last.Type != sc.final {
				t.Fatalf("last event %q, want %q", last.Type, sc.final)
			}
			resp := last.Response
			a := answer{text: sc.text, calls: sc.calls, summary: sc.summary, status: responses.ResponseStatusCompleted}
			if sc.final == "response.incomplete" {
				a.status, a.reason = responses.ResponseStatusIncomplete, "max_output_tokens"
			}
			if sc.usage != nil {
				checkSDKResponse(t, &resp, a, req)
			} else {
				if resp.OutputText() != sc.text || resp.Status != a.status || resp.IncompleteDetails.Reason != a.reason {
					t.Errorf("final response text %q status %q reason %q", resp.OutputText(), resp.Status, resp.IncompleteDetails.Reason)
				}
				if resp.JSON.Usage.Valid() {
					t.Errorf("usage %+v written although none was reported", resp.Usage)
				}
			}
			if resp.ID != "resp_msg_1" || resp.Model != "claude-x" {
				t.Errorf("final response id %q model %q", resp.ID, resp.Model)
			}
			if first := events[0].Response; first.ID != resp.ID || first.Status != "in_progress" || len(first.Output) != 0 {
				t.Errorf("response.created carries %+v", first)
			}
		})
	}
}

// TestStreamAccumulator feeds the stream's events to the SDK's own
// ResponseAccumulator, which validates each event's fields strictly, and
// checks what it assembled before and after the closing response.
func TestStreamAccumulator(t *testing.T) {
	for _, sc := range streamCases() {
		t.Run(sc.name, func(t *testing.T) {
			body := encodeStream(&protocol.Request{Model: "gpt-4.1", Stream: true}, sc.events)
			events, err := sdkStream(t, body)
			if err != nil {
				t.Fatal(err)
			}
			var acc responses.ResponseAccumulator
			var beforeEnd responses.ResponseAccumulatorSnapshot
			for _, ev := range events {
				var server responses.ResponsesServerEventUnion
				if err := json.Unmarshal([]byte(ev.RawJSON()), &server); err != nil {
					t.Fatalf("%s: %v", ev.Type, err)
				}
				if strings.HasPrefix(ev.Type, "response.completed") || ev.Type == "response.incomplete" {
					beforeEnd = acc.Snapshot()
				}
				if err := acc.AddEvent(server); err != nil {
					t.Fatalf("accumulator refused %s: %v\n%s", ev.Type, err, ev.RawJSON())
				}
			}
			final := acc.Snapshot()
			if final.TerminalEvent != sc.final {
				t.Errorf("terminal event %q", final.TerminalEvent)
			}
			for name, snap := range map[string]responses.ResponseAccumulatorSnapshot{"deltas": beforeEnd, "final": final} {
				if got := snap.OutputText(); got != sc.text {
					t.Errorf("%s: OutputText %q, want %q", name, got, sc.text)
				}
				var calls []protocol.Part
				for _, o := range snap.Output {
					if o.Type == "function_call" {
						calls = append(calls, protocol.Part{ID: o.CallID, Name: o.Name, Arguments: o.Arguments})
					}
				}
				if !reflect.DeepEqual(calls, sc.calls) {
					t.Errorf("%s: calls %+v, want %+v", name, calls, sc.calls)
				}
			}
			resp, err := acc.ReconstructedResponse()
			if err != nil || resp.OutputText() != sc.text {
				t.Errorf("reconstructed response: %v, text %q", err, resp.OutputText())
			}
		})
	}
}

// TestStreamEnd checks that a stream still waiting for usage at the end
// writes its closing response then, once, and that events after it are
// dropped.
func TestStreamEnd(t *testing.T) {
	enc := API.NewStreamEncoder(&protocol.Request{Model: "m"})
	var out []byte
	for _, ev := range []protocol.Event{start(), partStart(0, protocol.Part{Type: protocol.PartText}), delta(0, text("a")), partEnd(0), finish(protocol.FinishStop, nil)} {
		out = enc.Encode(out, ev)
	}
	if strings.Contains(string(out), "response.completed") {
		t.Fatal("response.completed written before usage or End")
	}
	out = enc.End(out)
	if n := strings.Count(string(out), "event: response.completed\n"); n != 1 {
		t.Fatalf("%d response.completed events", n)
	}
	more := enc.Encode(nil, protocol.Event{Type: protocol.EventUsage, Usage: &fullUsage})
	more = enc.End(more)
	if len(more) != 0 {
		t.Errorf("written after the end: %s", more)
	}
}

func TestStreamError(t *testing.T) {
	body := append(encodeStream(&protocol.Request{Model: "m"}, []protocol.Event{start(), partStart(0, protocol.Part{Type: protocol.PartText}), delta(0, text("partial"))}),
		StreamError(529, "overloaded", "the provider is \"overloaded\"")...)
	events, err := sdkStream(t, body)
	if err != nil {
		t.Fatalf("SDK stream error: %v", err)
	}
	last := events[len(events)-1]
	if last.Type != "error" {
		t.Fatalf("last event %q", last.Type)
	}
	e := last.AsError()
	if e.Code != "overloaded" || e.Message != `the provider is "overloaded"` || !e.JSON.Param.Valid() && e.JSON.Param.Raw() != "null" {
		t.Errorf("error event %+v", e)
	}
	if got := string(StreamError(502, "", "x")); !strings.HasPrefix(got, "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\"") {
		t.Errorf("StreamError = %s", got)
	}
}

func BenchmarkStreamTextDelta(b *testing.B) {
	enc := API.NewStreamEncoder(&protocol.Request{Model: "m", Stream: true})
	buf := enc.Encode(nil, start())
	buf = enc.Encode(buf, partStart(0, protocol.Part{Type: protocol.PartText}))
	ev := delta(0, text("Hello, this is a typical streamed token."))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = enc.Encode(buf[:0], ev)
	}
}
