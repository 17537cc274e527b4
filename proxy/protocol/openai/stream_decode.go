package openai

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// streamDecoder reads chat.completion.chunk events into internal events.
// Chat chunks have no part boundaries, so it opens a part when the kind
// of delta changes (reasoning, text, a new tool call index) and closes
// the open one before the next and before the finish.
type streamDecoder struct {
	started, finished bool
	// open is the index of the open part, -1 when none.
	open     int
	openType protocol.PartType
	next     int
	// openTool is the wire index of the open tool call.
	openTool int
	openID   string
	// toolParts maps a wire tool call index to its part, for fragments
	// that come back to a call after another one began.
	toolParts map[int]int
	// pending is usage that came before the finish.
	pending *usage.Usage
}

func newStreamDecoder() *streamDecoder {
	return &streamDecoder{open: -1}
}

var doneData = []byte("[DONE]")

// Decode reads one SSE event. "[DONE]" ends the stream: one that never
// said why it finished ends as stop.
func (d *streamDecoder) Decode(dst []protocol.Event, ev sse.Event) ([]protocol.Event, error) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 {
		return dst, nil
	}
	if bytes.Equal(data, doneData) {
		if d.started && !d.finished {
			dst = d.finish(dst, protocol.FinishStop, nil)
		}
		return dst, nil
	}
	var c wireAnswer
	if err := json.Unmarshal(data, &c); err != nil {
		return dst, fmt.Errorf("openai: reading a stream chunk: %w", err)
	}
	if !isNull(c.Error) {
		return dst, upstreamError(c.Error)
	}
	var u *usage.Usage
	if w := c.Usage; w != nil || (c.XGroq != nil && c.XGroq.Usage != nil) {
		if w == nil {
			w = c.XGroq.Usage
		}
		x := w.internal()
		u = &x
	}
	if !d.started {
		if len(c.Choices) == 0 && u == nil {
			// Azure opens with a chunk of content filter results only.
			return dst, nil
		}
		d.started = true
		dst = append(dst, protocol.Event{Type: protocol.EventStart, ID: c.ID, Model: c.Model})
	}
	if choice := firstChoice(c.Choices); choice != nil && !d.finished {
		var err error
		if dst, err = d.delta(dst, &choice.Delta); err != nil {
			return dst, err
		}
		if choice.FinishReason != "" {
			if u == nil {
				u = d.pending
			}
			return d.finish(dst, finishOf(choice.FinishReason), u), nil
		}
	}
	if u != nil {
		if d.finished {
			dst = append(dst, protocol.Event{Type: protocol.EventUsage, Usage: u})
		} else {
			d.pending = u
		}
	}
	return dst, nil
}

// delta reads one choice delta: reasoning, then content, then tool calls.
func (d *streamDecoder) delta(dst []protocol.Event, m *wireMessage) ([]protocol.Event, error) {
	if t := reasoningText(m); t != "" {
		dst = d.text(dst, protocol.PartThinking, t)
	}
	pieces, err := contentPieces(m.Content)
	if err != nil {
		return dst, err
	}
	for _, p := range pieces {
		dst = d.text(dst, p.Type, p.Text)
	}
	if m.Refusal != "" {
		dst = d.text(dst, protocol.PartText, m.Refusal)
	}
	for i := range m.ToolCalls {
		dst = d.toolCall(dst, &m.ToolCalls[i])
	}
	return dst, nil
}

// text adds a text or thinking fragment, opening a part of its kind.
func (d *streamDecoder) text(dst []protocol.Event, t protocol.PartType, s string) []protocol.Event {
	if d.open < 0 || d.openType != t {
		dst = d.openPart(dst, protocol.Part{Type: t})
	}
	return append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.open, Part: protocol.Part{Type: t, Text: s}})
}

// toolCall adds a tool call fragment. Its index says which call it
// belongs to; a fragment without one continues the open call unless it
// brings a new id.
func (d *streamDecoder) toolCall(dst []protocol.Event, c *wireToolCall) []protocol.Event {
	isOpen := d.open >= 0 && d.openType == protocol.PartToolCall
	wi := len(d.toolParts)
	switch {
	case c.Index != nil:
		wi = *c.Index
	case isOpen && (c.ID == "" || c.ID == d.openID):
		wi = d.openTool
	}
	index := d.open
	if !isOpen || wi != d.openTool {
		if earlier, seen := d.toolParts[wi]; seen {
			// A provider went back to a call it had left: its fragment
			// still belongs to that part.
			index = earlier
		} else {
			id := c.ID
			if id == "" {
				id = fmt.Sprintf("call_%d", wi)
			}
			dst = d.openPart(dst, protocol.Part{Type: protocol.PartToolCall, ID: id, Name: c.Function.Name})
			if d.toolParts == nil {
				d.toolParts = make(map[int]int)
			}
			d.toolParts[wi] = d.open
			d.openTool, d.openID = wi, id
			index = d.open
		}
	}
	if c.Function.Arguments == "" {
		return dst
	}
	return append(dst, protocol.Event{Type: protocol.EventDelta, Index: index, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: c.Function.Arguments}})
}

// openPart closes the open part and opens p as the next one.
func (d *streamDecoder) openPart(dst []protocol.Event, p protocol.Part) []protocol.Event {
	dst = d.closePart(dst)
	d.open, d.openType = d.next, p.Type
	d.next++
	return append(dst, protocol.Event{Type: protocol.EventPartStart, Index: d.open, Part: p})
}

func (d *streamDecoder) closePart(dst []protocol.Event) []protocol.Event {
	if d.open < 0 {
		return dst
	}
	dst = append(dst, protocol.Event{Type: protocol.EventPartEnd, Index: d.open, Part: protocol.Part{Type: d.openType}})
	d.open = -1
	return dst
}

func (d *streamDecoder) finish(dst []protocol.Event, f protocol.Finish, u *usage.Usage) []protocol.Event {
	dst = d.closePart(dst)
	d.finished = true
	d.pending = nil
	return append(dst, protocol.Event{Type: protocol.EventFinish, Finish: f, Usage: u})
}
