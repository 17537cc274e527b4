package anthropic

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// wireEvent is one event of a Messages API stream, any type.
type wireEvent struct {
	Type         string               `json:"type"`
	Message      *wireMessageResponse `json:"message,omitempty"`
	Index        int64                `json:"index"`
	ContentBlock *wireBlock           `json:"content_block,omitempty"`
	Delta        *wireDelta           `json:"delta,omitempty"`
	Usage        *wireUsage           `json:"usage,omitempty"`
	Error        *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// wireDelta is a content_block_delta's delta (text_delta, input_json_delta,
// thinking_delta, signature_delta) or a message_delta's.
type wireDelta struct {
	Type         string  `json:"type,omitempty"`
	Text         string  `json:"text,omitempty"`
	PartialJSON  string  `json:"partial_json,omitempty"`
	Thinking     string  `json:"thinking,omitempty"`
	Signature    string  `json:"signature,omitempty"`
	StopReason   *string `json:"stop_reason,omitempty"`
	StopSequence *string `json:"stop_sequence,omitempty"`
}

// streamDecoder reads Anthropic's stream events. Content blocks are
// renumbered as parts 0, 1, 2… in the order they open, blocks with no
// internal form (server tools) are skipped, and a block still open when
// the next one starts or the message ends is closed first.
type streamDecoder struct {
	// tool is the forced structured-output tool, "" for none: its
	// input_json_delta becomes text.
	tool     string
	started  bool
	finished bool
	// stopped is set by message_stop, the stream's last event.
	stopped bool
	usage   usage.Usage
	// open is the block being streamed; nil between blocks.
	open     *openBlock
	nextPart int
}

// openBlock is a content block being streamed.
type openBlock struct {
	wire int64 // Anthropic's index
	part int   // the part's index
	typ  protocol.PartType
	// skip marks a block with no internal form, whose events are dropped.
	skip bool
}

func newStreamDecoder(req *protocol.Request) *streamDecoder {
	return &streamDecoder{tool: structuredTool(req)}
}

// Decode appends the internal events of one SSE event. It dispatches on
// the data's type member, which Anthropic repeats in the event name.
func (d *streamDecoder) Decode(dst []protocol.Event, ev sse.Event) ([]protocol.Event, error) {
	if len(ev.Data) == 0 {
		return dst, nil
	}
	var flat wireEvent
	var flatDelta wireDelta
	w := &flat
	if !json.Valid(ev.Data) || !scanFlatEvent(ev.Data, w, &flatDelta) {
		w = new(wireEvent)
		if err := json.Unmarshal(ev.Data, w); err != nil {
			return dst, fmt.Errorf("anthropic: reading a %q stream event: %w", ev.Name, err)
		}
	}
	switch w.Type {
	case "message_start":
		if d.started {
			return dst, nil
		}
		d.started = true
		start := protocol.Event{Type: protocol.EventStart}
		if m := w.Message; m != nil {
			start.ID, start.Model = m.ID, m.Model
			if m.Usage != nil {
				d.usage = usageOf(m.Usage)
				start.Usage = d.usageNow()
			}
		}
		return append(dst, start), nil
	case "content_block_start":
		if d.finished {
			return dst, nil
		}
		dst = d.closeOpen(d.start(dst))
		return d.blockStart(dst, w.Index, w.ContentBlock), nil
	case "content_block_delta":
		if d.open == nil || d.open.wire != w.Index || d.open.skip || w.Delta == nil {
			return dst, nil
		}
		return d.delta(dst, w.Delta), nil
	case "content_block_stop":
		if d.open == nil || d.open.wire != w.Index {
			return dst, nil
		}
		return d.closeOpen(dst), nil
	case "message_delta":
		dst = d.closeOpen(d.start(dst))
		if w.Usage != nil {
			mergeUsage(&d.usage, w.Usage)
		}
		if d.finished {
			if w.Usage == nil {
				return dst, nil
			}
			return append(dst, protocol.Event{Type: protocol.EventUsage, Usage: d.usageNow()}), nil
		}
		d.finished = true
		fin := protocol.Event{Type: protocol.EventFinish, Usage: d.usageNow()}
		if dl := w.Delta; dl != nil {
			if dl.StopReason != nil {
				fin.Finish = finishOf(*dl.StopReason, d.tool != "")
			}
			if dl.StopSequence != nil {
				fin.StopSequence = *dl.StopSequence
			}
		}
		return append(dst, fin), nil
	case "message_stop":
		d.stopped = true
		if d.finished {
			return dst, nil
		}
		dst = d.closeOpen(d.start(dst))
		d.finished = true
		return append(dst, protocol.Event{Type: protocol.EventFinish, Usage: d.usageNow()}), nil
	case "error":
		e := &protocol.UpstreamError{Message: "the provider's stream failed"}
		if w.Error != nil {
			e.Status = errorStatus(w.Error.Type)
			if w.Error.Message != "" {
				e.Message = w.Error.Message
			}
		}
		return dst, e
	}
	// ping, and event types added after this was written.
	return dst, nil
}

// Ended reports whether message_stop, the stream's last event, was read.
func (d *streamDecoder) Ended() bool { return d.stopped }

// start opens the answer when content arrives without message_start.
func (d *streamDecoder) start(dst []protocol.Event) []protocol.Event {
	if d.started {
		return dst
	}
	d.started = true
	return append(dst, protocol.Event{Type: protocol.EventStart})
}

// usageNow is a copy of the usage so far, nil when none was reported.
func (d *streamDecoder) usageNow() *usage.Usage {
	if !d.usage.Found {
		return nil
	}
	u := d.usage
	return &u
}

func (d *streamDecoder) closeOpen(dst []protocol.Event) []protocol.Event {
	o := d.open
	if o == nil {
		return dst
	}
	d.open = nil
	if o.skip {
		return dst
	}
	return append(dst, protocol.Event{Type: protocol.EventPartEnd, Index: o.part, Part: protocol.Part{Type: o.typ}})
}

// blockStart opens a part for content block index. The content block
// carries the start of its content (empty text, a tool call's id and
// name, a redacted thinking block's whole data).
func (d *streamDecoder) blockStart(dst []protocol.Event, index int64, cb *wireBlock) []protocol.Event {
	o := &openBlock{wire: index, part: d.nextPart}
	d.open = o
	if cb == nil {
		o.skip = true
		return dst
	}
	p, ok := answerPart(*cb, d.tool)
	if !ok {
		o.skip = true
		return dst
	}
	d.nextPart++
	o.typ = p.Type
	start := protocol.Event{Type: protocol.EventPartStart, Index: o.part, Part: protocol.Part{Type: p.Type, ID: p.ID, Name: p.Name, Data: p.Data}}
	dst = append(dst, start)
	// What the block already holds arrives as a delta, as it would have.
	first := protocol.Part{Type: p.Type, Text: p.Text, Signature: p.Signature}
	if p.Type == protocol.PartToolCall && p.Arguments != "{}" {
		first.Arguments = p.Arguments
	}
	if p.Type == protocol.PartText && cb.Type == "tool_use" && first.Text == "{}" {
		first.Text = ""
	}
	if first.Text != "" || first.Arguments != "" || first.Signature != "" {
		dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: o.part, Part: first})
	}
	return dst
}

// delta reads a content_block_delta of the open block.
func (d *streamDecoder) delta(dst []protocol.Event, dl *wireDelta) []protocol.Event {
	o := d.open
	p := protocol.Part{Type: o.typ}
	switch {
	case dl.Type == "text_delta" && o.typ == protocol.PartText:
		p.Text = dl.Text
	case dl.Type == "input_json_delta" && o.typ == protocol.PartToolCall:
		p.Arguments = dl.PartialJSON
	case dl.Type == "input_json_delta" && o.typ == protocol.PartText:
		// The forced structured-output tool's input is the answer's text.
		p.Text = dl.PartialJSON
	case dl.Type == "thinking_delta" && o.typ == protocol.PartThinking:
		p.Text = dl.Thinking
	case dl.Type == "signature_delta" && o.typ == protocol.PartThinking:
		p.Signature = dl.Signature
	default:
		// citations_delta, and deltas that do not fit the block.
		return dst
	}
	if p.Text == "" && p.Arguments == "" && p.Signature == "" {
		return dst
	}
	return append(dst, protocol.Event{Type: protocol.EventDelta, Index: o.part, Part: p})
}
