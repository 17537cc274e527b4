package cohere

import (
	"encoding/json"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// NewStreamEncoder writes a streamed answer as Cohere's v2 chat stream.
func (chat) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return &streamEncoder{}
}

// wireKind is what an internal part is written as in a Cohere stream.
type wireKind uint8

const (
	kindNone     wireKind = iota // not written (redacted thinking)
	kindContent                  // content-start / -delta / -end
	kindToolCall                 // tool-call-start / -delta / -end
)

// streamEncoder writes internal events as Cohere stream events. Cohere
// numbers content blocks and tool calls apart, so the encoder keeps a
// count of each and the wire index of the open part. The finish is held
// until usage is known (message-end carries both), and written at End
// without usage if none came.
type streamEncoder struct {
	contents, calls int // next content and tool call index
	kind            wireKind
	thinking        bool // the open content part is thinking
	index           int  // wire index of the open part
	pending         *streamEvent
}

var assistantRole = &streamDelta{Message: &streamMessage{Role: "assistant"}}

// Encode appends the Cohere stream events for ev.
func (s *streamEncoder) Encode(dst []byte, ev protocol.Event) []byte {
	switch ev.Type {
	case protocol.EventStart:
		return s.write(dst, streamEvent{Type: "message-start", ID: ev.ID, Delta: assistantRole})
	case protocol.EventPartStart:
		return s.start(dst, ev.Part)
	case protocol.EventDelta:
		return s.delta(dst, ev.Part)
	case protocol.EventPartEnd:
		kind := s.kind
		s.kind = kindNone
		switch kind {
		case kindContent:
			return s.write(dst, streamEvent{Type: "content-end", Index: &s.index})
		case kindToolCall:
			return s.write(dst, streamEvent{Type: "tool-call-end", Index: &s.index})
		}
	case protocol.EventFinish:
		s.pending = &streamEvent{Type: "message-end", Delta: &streamDelta{FinishReason: writeFinish(ev.Finish, ev.StopSequence)}}
		if ev.Usage != nil {
			return s.flush(dst, ev)
		}
	case protocol.EventUsage:
		return s.flush(dst, ev)
	}
	return dst
}

// End writes a finish still held for usage.
func (s *streamEncoder) End(dst []byte) []byte {
	return s.flush(dst, protocol.Event{})
}

// flush writes the held message-end with ev's usage.
func (s *streamEncoder) flush(dst []byte, ev protocol.Event) []byte {
	if s.pending == nil {
		return dst
	}
	e := s.pending
	s.pending = nil
	e.Delta.Usage = writeUsage(ev.Usage)
	return s.write(dst, *e)
}

// start opens a part: a content block for text and thinking, a tool call.
func (s *streamEncoder) start(dst []byte, p protocol.Part) []byte {
	switch p.Type {
	case protocol.PartText, protocol.PartThinking:
		s.kind, s.index, s.thinking = kindContent, s.contents, p.Type == protocol.PartThinking
		s.contents++
		empty := ""
		c := &content{Type: "text", Text: &empty}
		if s.thinking {
			c = &content{Type: "thinking", Thinking: &empty}
		}
		return s.write(dst, streamEvent{Type: "content-start", Index: &s.index, Delta: &streamDelta{Message: &streamMessage{Content: c}}})
	case protocol.PartToolCall:
		s.kind, s.index = kindToolCall, s.calls
		s.calls++
		empty := ""
		call := &streamToolCall{ID: p.ID, Type: "function", Function: &streamToolFunction{Name: p.Name, Arguments: &empty}}
		return s.write(dst, streamEvent{Type: "tool-call-start", Index: &s.index, Delta: &streamDelta{Message: &streamMessage{ToolCalls: call}}})
	}
	s.kind = kindNone
	return dst
}

// delta adds text, thinking or argument JSON to the open part.
func (s *streamEncoder) delta(dst []byte, p protocol.Part) []byte {
	switch s.kind {
	case kindContent:
		if p.Text == "" {
			return dst
		}
		c := &content{Text: &p.Text}
		if s.thinking {
			c = &content{Thinking: &p.Text}
		}
		return s.write(dst, streamEvent{Type: "content-delta", Index: &s.index, Delta: &streamDelta{Message: &streamMessage{Content: c}}})
	case kindToolCall:
		if p.Arguments == "" {
			return dst
		}
		call := &streamToolCall{Function: &streamToolFunction{Arguments: &p.Arguments}}
		return s.write(dst, streamEvent{Type: "tool-call-delta", Index: &s.index, Delta: &streamDelta{Message: &streamMessage{ToolCalls: call}}})
	}
	return dst
}

// write appends e as an SSE event named by its type.
func (s *streamEncoder) write(dst []byte, e streamEvent) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		return dst
	}
	return protocol.AppendEvent(dst, e.Type, b)
}
