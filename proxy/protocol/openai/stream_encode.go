package openai

import (
	"strconv"
	"time"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// streamEncoder writes internal events as chat.completion.chunk events
// with one choice. Text, thinking (as DeepSeek's reasoning_content) and
// tool call fragments become deltas; tool_calls indexes count tool calls
// only. Usage goes in the usage chunk End writes, when the caller asked
// for it.
type streamEncoder struct {
	req *protocol.Request
	// head opens every chunk: id, object, created and model.
	head []byte
	// parts remembers each open part's type and, for a tool call, its
	// tool_calls index.
	parts map[int]partState
	tools int
	usage *usage.Usage
	// scratch is where a chunk's delta is built, reused for every chunk.
	scratch []byte
}

type partState struct {
	typ  protocol.PartType
	tool int
}

func newStreamEncoder(req *protocol.Request) *streamEncoder {
	if req == nil {
		req = &protocol.Request{}
	}
	return &streamEncoder{req: req, parts: make(map[int]partState)}
}

func (e *streamEncoder) start(id, model string) {
	if model == "" {
		model = e.req.Model
	}
	h := append([]byte(nil), `{"id":`...)
	h = protocol.AppendJSONString(h, answerID(id))
	h = append(h, `,"object":"chat.completion.chunk","created":`...)
	h = strconv.AppendInt(h, time.Now().Unix(), 10)
	h = append(h, `,"model":`...)
	e.head = protocol.AppendJSONString(h, model)
}

// Encode appends the chunk for ev, or nothing for an event without a
// counterpart (a part opening other than a tool call, a part's end, a
// signature).
func (e *streamEncoder) Encode(dst []byte, ev protocol.Event) []byte {
	if e.head == nil {
		e.start(ev.ID, ev.Model)
	}
	switch ev.Type {
	case protocol.EventStart:
		if ev.Usage != nil {
			e.usage = ev.Usage
		}
		return e.chunk(dst, []byte(`{"role":"assistant","content":""}`), "")
	case protocol.EventPartStart:
		st := partState{typ: ev.Part.Type}
		if ev.Part.Type != protocol.PartToolCall {
			e.parts[ev.Index] = st
			return dst
		}
		st.tool = e.tools
		e.tools++
		e.parts[ev.Index] = st
		d := append(e.toolDelta(st.tool), `,"id":`...)
		d = protocol.AppendJSONString(d, ev.Part.ID)
		d = append(d, `,"type":"function","function":{"name":`...)
		d = protocol.AppendJSONString(d, ev.Part.Name)
		d = append(d, `,"arguments":""}}]}`...)
		e.scratch = d
		return e.chunk(dst, d, "")
	case protocol.EventDelta:
		return e.delta(dst, ev)
	case protocol.EventPartEnd:
		delete(e.parts, ev.Index)
	case protocol.EventFinish:
		if ev.Usage != nil {
			e.usage = ev.Usage
		}
		return e.chunk(dst, []byte(`{}`), finishReason(ev.Finish))
	case protocol.EventUsage:
		if ev.Usage != nil {
			e.usage = ev.Usage
		}
	}
	return dst
}

func (e *streamEncoder) delta(dst []byte, ev protocol.Event) []byte {
	st, ok := e.parts[ev.Index]
	if !ok {
		st.typ = ev.Part.Type
	}
	d := e.scratch[:0]
	switch st.typ {
	case protocol.PartText:
		if ev.Part.Text == "" {
			return dst
		}
		d = protocol.AppendJSONString(append(d, `{"content":`...), ev.Part.Text)
		d = append(d, '}')
	case protocol.PartThinking:
		if ev.Part.Text == "" {
			return dst
		}
		d = protocol.AppendJSONString(append(d, `{"reasoning_content":`...), ev.Part.Text)
		d = append(d, '}')
	case protocol.PartToolCall:
		if !ok || ev.Part.Arguments == "" {
			return dst
		}
		d = append(e.toolDelta(st.tool), `,"function":{"arguments":`...)
		d = protocol.AppendJSONString(d, ev.Part.Arguments)
		d = append(d, `}}]}`...)
	default:
		return dst
	}
	e.scratch = d
	return e.chunk(dst, d, "")
}

// toolDelta opens a tool_calls delta for call k, up to its index, in
// e.scratch.
func (e *streamEncoder) toolDelta(k int) []byte {
	d := append(e.scratch[:0], `{"tool_calls":[{"index":`...)
	return strconv.AppendInt(d, int64(k), 10)
}

// chunk appends one chunk event with delta and, when not "", the
// finish_reason.
func (e *streamEncoder) chunk(dst, delta []byte, finish string) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, e.head...)
	dst = append(dst, `,"choices":[{"index":0,"delta":`...)
	dst = append(dst, delta...)
	dst = append(dst, `,"finish_reason":`...)
	if finish == "" {
		dst = append(dst, "null"...)
	} else {
		dst = protocol.AppendJSONString(dst, finish)
	}
	return append(dst, "}]}\n\n"...)
}

// End appends the usage chunk (when the caller asked for it and the
// provider reported usage) and "data: [DONE]".
func (e *streamEncoder) End(dst []byte) []byte {
	if e.req.IncludeStreamUsage && e.usage != nil {
		if e.head == nil {
			e.start("", "")
		}
		u, _ := marshal(wireUsageOf(e.usage))
		dst = append(dst, "data: "...)
		dst = append(dst, e.head...)
		dst = append(dst, `,"choices":[],"usage":`...)
		dst = append(dst, u...)
		dst = append(dst, "}\n\n"...)
	}
	return append(dst, "data: [DONE]\n\n"...)
}
