package anthropic

import (
	"encoding/json"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
)

// streamEncoder writes internal events as Anthropic's stream:
// message_start, per part content_block_start / content_block_delta… /
// content_block_stop with index = the block's position, then
// message_delta (stop_reason, usage) and message_stop.
//
// message_delta is written at EventFinish when the finish carries usage,
// else held until EventUsage or End: a provider such as OpenAI reports
// usage after its finish. Its usage repeats the input counts, which the
// SDKs' accumulators take over message_start's (zero when the provider
// reports input only at the end).
type streamEncoder struct {
	started bool
	// open is the part being written; nil between parts.
	open *openPart
	// blocks counts the content blocks written, the next block's index.
	blocks int64
	// finish is the finish seen, nil before EventFinish.
	finish *protocol.Event
	usage  *usage.Usage
	done   bool
}

// openPart is a part being written as content block index.
type openPart struct {
	part  int
	index int64
	typ   protocol.PartType
	// skip marks a part Anthropic has no block for (an image in an
	// answer), whose events are dropped.
	skip bool
}

func newStreamEncoder(*protocol.Request) *streamEncoder { return &streamEncoder{} }

// Encode appends the SSE events for ev.
func (e *streamEncoder) Encode(dst []byte, ev protocol.Event) []byte {
	if e.done {
		return dst
	}
	switch ev.Type {
	case protocol.EventStart:
		if ev.Usage != nil {
			e.usage = ev.Usage
		}
		return e.start(dst, ev.ID, ev.Model)
	case protocol.EventPartStart:
		if e.finish != nil {
			return dst
		}
		dst = e.closeOpen(e.start(dst, "", ""))
		return e.partStart(dst, ev)
	case protocol.EventDelta:
		if o := e.open; o != nil && o.part == ev.Index && !o.skip {
			return e.delta(dst, o, ev.Part)
		}
		return dst
	case protocol.EventPartEnd:
		if o := e.open; o != nil && o.part == ev.Index {
			return e.closeOpen(dst)
		}
		return dst
	case protocol.EventFinish:
		if e.finish != nil {
			return dst
		}
		dst = e.closeOpen(e.start(dst, "", ""))
		e.finish = &ev
		if ev.Usage == nil {
			return dst
		}
		e.usage = ev.Usage
		return e.end(dst)
	case protocol.EventUsage:
		if ev.Usage != nil {
			e.usage = ev.Usage
		}
		if e.finish == nil {
			return dst
		}
		return e.end(dst)
	}
	return dst
}

// End writes the held message_delta and message_stop, if not written.
func (e *streamEncoder) End(dst []byte) []byte {
	if e.done {
		return dst
	}
	dst = e.closeOpen(e.start(dst, "", ""))
	if e.finish == nil {
		e.finish = &protocol.Event{Type: protocol.EventFinish, Finish: protocol.FinishStop}
	}
	return e.end(dst)
}

// start writes message_start once, with the usage known so far.
func (e *streamEncoder) start(dst []byte, id, model string) []byte {
	if e.started {
		return dst
	}
	e.started = true
	var u usage.Usage
	if e.usage != nil {
		u = *e.usage
	}
	m := wireMessageResponse{ID: messageID(id), Type: "message", Role: "assistant", Model: model, Content: []wireBlock{}, Usage: wireUsageOf(u)}
	return appendJSONEvent(dst, "message_start", struct {
		Type    string               `json:"type"`
		Message *wireMessageResponse `json:"message"`
	}{"message_start", &m})
}

// startBlock is a content_block_start's block: text and thinking carry
// their (empty) content members, which the SDKs expect.
type startBlock struct {
	Type      string           `json:"type"`
	Text      *string          `json:"text,omitempty"`
	Thinking  *string          `json:"thinking,omitempty"`
	Signature *string          `json:"signature,omitempty"`
	Data      string           `json:"data,omitempty"`
	ID        string           `json:"id,omitempty"`
	Name      string           `json:"name,omitempty"`
	Input     *json.RawMessage `json:"input,omitempty"`
}

func (e *streamEncoder) partStart(dst []byte, ev protocol.Event) []byte {
	o := &openPart{part: ev.Index, typ: ev.Part.Type}
	e.open = o
	empty := ""
	var b startBlock
	switch ev.Part.Type {
	case protocol.PartText:
		b = startBlock{Type: "text", Text: &empty}
	case protocol.PartThinking:
		b = startBlock{Type: "thinking", Thinking: &empty, Signature: &empty}
	case protocol.PartRedactedThinking:
		b = startBlock{Type: "redacted_thinking", Data: ev.Part.Data}
	case protocol.PartToolCall:
		input := json.RawMessage("{}")
		b = startBlock{Type: "tool_use", ID: ev.Part.ID, Name: ev.Part.Name, Input: &input}
	default:
		o.skip = true
		return dst
	}
	o.index = e.blocks
	e.blocks++
	return appendJSONEvent(dst, "content_block_start", struct {
		Type         string     `json:"type"`
		Index        int64      `json:"index"`
		ContentBlock startBlock `json:"content_block"`
	}{"content_block_start", o.index, b})
}

func (e *streamEncoder) delta(dst []byte, o *openPart, p protocol.Part) []byte {
	switch o.typ {
	case protocol.PartText:
		if p.Text != "" {
			dst = appendDelta(dst, o.index, wireDelta{Type: "text_delta", Text: p.Text})
		}
	case protocol.PartThinking:
		if p.Text != "" {
			dst = appendDelta(dst, o.index, wireDelta{Type: "thinking_delta", Thinking: p.Text})
		}
		if p.Signature != "" {
			dst = appendDelta(dst, o.index, wireDelta{Type: "signature_delta", Signature: p.Signature})
		}
	case protocol.PartToolCall:
		if p.Arguments != "" {
			dst = appendDelta(dst, o.index, wireDelta{Type: "input_json_delta", PartialJSON: p.Arguments})
		}
	}
	return dst
}

func appendDelta(dst []byte, index int64, d wireDelta) []byte {
	return appendJSONEvent(dst, "content_block_delta", struct {
		Type  string    `json:"type"`
		Index int64     `json:"index"`
		Delta wireDelta `json:"delta"`
	}{"content_block_delta", index, d})
}

func (e *streamEncoder) closeOpen(dst []byte) []byte {
	o := e.open
	if o == nil {
		return dst
	}
	e.open = nil
	if o.skip {
		return dst
	}
	return appendJSONEvent(dst, "content_block_stop", struct {
		Type  string `json:"type"`
		Index int64  `json:"index"`
	}{"content_block_stop", o.index})
}

// end writes message_delta with the finish and the usage, then
// message_stop.
func (e *streamEncoder) end(dst []byte) []byte {
	e.done = true
	type messageDelta struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	}
	d := messageDelta{StopReason: stopReasonOf(e.finish.Finish, e.finish.StopSequence)}
	if e.finish.StopSequence != "" {
		d.StopSequence = &e.finish.StopSequence
	}
	u := &wireUsage{}
	if e.usage != nil {
		u = wireUsageOf(*e.usage)
	}
	dst = appendJSONEvent(dst, "message_delta", struct {
		Type  string       `json:"type"`
		Delta messageDelta `json:"delta"`
		Usage *wireUsage   `json:"usage"`
	}{"message_delta", d, u})
	return protocol.AppendEvent(dst, "message_stop", []byte(`{"type":"message_stop"}`))
}

// appendJSONEvent appends an event named name whose data is v as JSON.
// The values written here always marshal.
func appendJSONEvent(dst []byte, name string, v any) []byte {
	b, _ := json.Marshal(v)
	return protocol.AppendEvent(dst, name, b)
}
