package cohere

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
)

// NewStreamDecoder reads a v2 chat stream of an answer to req.
func (chat) NewStreamDecoder(req *protocol.Request) protocol.StreamDecoder {
	d := &streamDecoder{}
	if req != nil {
		d.model = req.Model
	}
	return d
}

// streamDecoder turns Cohere's stream events into internal events. Cohere
// numbers content blocks and tool calls apart; the internal form numbers
// all parts in order, so the decoder keeps its own count and which part
// is open. The tool plan, streamed as tool-plan-delta events without a
// start or end, is a text part opened at its first fragment.
type streamDecoder struct {
	model    string
	started  bool
	finished bool
	next     int // index of the next part
	open     bool
	openType protocol.PartType
}

// Decode appends the internal events of one Cohere stream event.
func (d *streamDecoder) Decode(dst []protocol.Event, ev sse.Event) ([]protocol.Event, error) {
	if len(ev.Data) == 0 || d.finished {
		return dst, nil
	}
	var e streamEvent
	if err := json.Unmarshal(ev.Data, &e); err != nil {
		return dst, fmt.Errorf("cohere: reading a stream event: %w", err)
	}
	if e.Type == "" {
		e.Type = ev.Name
	}
	var msg streamMessage
	if e.Delta != nil && e.Delta.Message != nil {
		msg = *e.Delta.Message
	}
	if e.Type == "message-start" {
		if !d.started {
			d.started = true
			dst = append(dst, protocol.Event{Type: protocol.EventStart, ID: e.ID, Model: d.model})
		}
		return dst, nil
	}
	if !d.started {
		d.started = true
		dst = append(dst, protocol.Event{Type: protocol.EventStart, ID: e.ID, Model: d.model})
	}
	switch e.Type {
	case "content-start":
		dst = d.close(dst)
		if c := msg.Content; c != nil {
			kind := protocol.PartText
			if c.Type == "thinking" {
				kind = protocol.PartThinking
			}
			dst = d.openPart(dst, protocol.Part{Type: kind})
			dst = d.text(dst, c)
		}
	case "content-delta":
		if c := msg.Content; c != nil {
			dst = d.text(dst, c)
		}
	case "tool-plan-delta":
		if msg.ToolPlan != nil {
			dst = d.text(dst, &content{Type: "text", Text: msg.ToolPlan})
		}
	case "tool-call-start":
		dst = d.close(dst)
		if c := msg.ToolCalls; c != nil {
			var name string
			var args *string
			if c.Function != nil {
				name, args = c.Function.Name, c.Function.Arguments
			}
			dst = d.openPart(dst, protocol.Part{Type: protocol.PartToolCall, ID: c.ID, Name: name})
			if args != nil && *args != "" {
				dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: *args}})
			}
		}
	case "tool-call-delta":
		if c := msg.ToolCalls; c != nil && c.Function != nil && c.Function.Arguments != nil && d.open && d.openType == protocol.PartToolCall && *c.Function.Arguments != "" {
			dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: *c.Function.Arguments}})
		}
	case "content-end", "tool-call-end":
		dst = d.close(dst)
	case "message-end":
		dst = d.close(dst)
		d.finished = true
		var delta streamDelta
		if e.Delta != nil {
			delta = *e.Delta
		}
		if delta.Error != "" {
			return dst, &protocol.UpstreamError{Message: delta.Error}
		}
		fin := protocol.Event{Type: protocol.EventFinish, Finish: readFinish(delta.FinishReason)}
		if u := readUsage(delta.Usage); u.Found {
			fin.Usage = &u
		}
		dst = append(dst, fin)
	}
	// citation-start, citation-end and debug events have no counterpart.
	return dst, nil
}

// text adds the text or thinking of a content item to the open part,
// opening a part of the item's kind when none of that kind is open.
func (d *streamDecoder) text(dst []protocol.Event, c *content) []protocol.Event {
	emit := func(kind protocol.PartType, s string) {
		if d.open && d.openType != kind {
			dst = d.close(dst)
		}
		if !d.open {
			dst = d.openPart(dst, protocol.Part{Type: kind})
		}
		if s != "" {
			dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: kind, Text: s}})
		}
	}
	if c.Thinking != nil && *c.Thinking != "" {
		emit(protocol.PartThinking, *c.Thinking)
	}
	if c.Text != nil && *c.Text != "" {
		emit(protocol.PartText, *c.Text)
	}
	return dst
}

// openPart opens the next part.
func (d *streamDecoder) openPart(dst []protocol.Event, p protocol.Part) []protocol.Event {
	d.open, d.openType = true, p.Type
	d.next++
	return append(dst, protocol.Event{Type: protocol.EventPartStart, Index: d.next - 1, Part: p})
}

// close closes the open part, if any.
func (d *streamDecoder) close(dst []protocol.Event) []protocol.Event {
	if !d.open {
		return dst
	}
	d.open = false
	return append(dst, protocol.Event{Type: protocol.EventPartEnd, Index: d.next - 1, Part: protocol.Part{Type: d.openType}})
}
