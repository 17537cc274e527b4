package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// NewStreamDecoder reads streamGenerateContent?alt=sse: every event is a
// GenerateContentResponse chunk.
func (Adapter) NewStreamDecoder(req *protocol.Request) protocol.StreamDecoder {
	return &streamDecoder{req: req}
}

// streamDecoder turns chunks into events. Gemini has no part boundaries
// in its streams: a text (or thought) part stays open while text of the
// same kind continues, and each functionCall arrives whole.
type streamDecoder struct {
	req      *protocol.Request
	started  bool
	finished bool
	next     int // index of the next part
	open     bool
	openType protocol.PartType
	calls    int
	usage    *usage.Usage // the latest chunk's usage
}

func (d *streamDecoder) Decode(dst []protocol.Event, ev sse.Event) ([]protocol.Event, error) {
	data := bytes.TrimSpace(ev.Data)
	if len(data) == 0 || string(data) == "[DONE]" {
		return dst, nil
	}
	var chunk wireResponse
	if err := json.Unmarshal(data, &chunk); err != nil {
		return dst, fmt.Errorf("gemini: reading a stream chunk: %w", err)
	}
	if chunk.Error != nil {
		return dst, &protocol.UpstreamError{Status: chunk.Error.Code, Message: chunk.Error.Message}
	}
	if !d.started {
		d.started = true
		dst = append(dst, protocol.Event{Type: protocol.EventStart, ID: chunk.ResponseID, Model: modelName(d.req, chunk.ModelVersion)})
	}
	if chunk.UsageMetadata != nil {
		u := readUsage(chunk.UsageMetadata)
		d.usage = &u
	}
	if d.finished {
		if chunk.UsageMetadata != nil {
			dst = append(dst, protocol.Event{Type: protocol.EventUsage, Usage: d.usage})
		}
		return dst, nil
	}
	if len(chunk.Candidates) == 0 {
		if chunk.PromptFeedback != nil && chunk.PromptFeedback.BlockReason != "" {
			dst = d.finish(dst, protocol.FinishContentFilter)
		}
		return dst, nil
	}
	cand := chunk.Candidates[0]
	if cand.Content != nil {
		for _, p := range cand.Content.Parts {
			dst = d.part(dst, p)
		}
	}
	if cand.FinishReason != "" {
		dst = d.finish(dst, finish(cand.FinishReason, d.calls > 0))
	}
	return dst, nil
}

// part appends the events of one chunk part.
func (d *streamDecoder) part(dst []protocol.Event, p wirePart) []protocol.Event {
	switch {
	case p.FunctionCall != nil:
		part, _ := answerPart(p, &d.calls)
		dst = d.close(dst)
		i := d.next
		d.next++
		args := part.Arguments
		part.Arguments = ""
		dst = append(dst,
			protocol.Event{Type: protocol.EventPartStart, Index: i, Part: part},
			protocol.Event{Type: protocol.EventDelta, Index: i, Part: protocol.Part{Type: protocol.PartToolCall, Arguments: args}},
			protocol.Event{Type: protocol.EventPartEnd, Index: i, Part: protocol.Part{Type: protocol.PartToolCall}})
	case p.Text != nil && p.Thought:
		dst = d.openPart(dst, protocol.PartThinking)
		if *p.Text != "" {
			dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: protocol.PartThinking, Text: *p.Text}})
		}
		if p.ThoughtSignature != "" {
			dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: protocol.PartThinking, Signature: p.ThoughtSignature}})
		}
	case p.Text != nil:
		// A text part's own signature has no place in a stream: see the
		// package doc.
		if *p.Text == "" {
			return dst
		}
		dst = d.openPart(dst, protocol.PartText)
		dst = append(dst, protocol.Event{Type: protocol.EventDelta, Index: d.next - 1, Part: protocol.Part{Type: protocol.PartText, Text: *p.Text}})
	case p.InlineData != nil:
		part, _ := answerPart(p, &d.calls)
		dst = d.close(dst)
		i := d.next
		d.next++
		dst = append(dst,
			protocol.Event{Type: protocol.EventPartStart, Index: i, Part: part},
			protocol.Event{Type: protocol.EventPartEnd, Index: i, Part: protocol.Part{Type: part.Type}})
	}
	return dst
}

// openPart makes sure a part of type t is open, closing one of another
// type first.
func (d *streamDecoder) openPart(dst []protocol.Event, t protocol.PartType) []protocol.Event {
	if d.open && d.openType == t {
		return dst
	}
	dst = d.close(dst)
	d.open, d.openType = true, t
	d.next++
	return append(dst, protocol.Event{Type: protocol.EventPartStart, Index: d.next - 1, Part: protocol.Part{Type: t}})
}

func (d *streamDecoder) close(dst []protocol.Event) []protocol.Event {
	if !d.open {
		return dst
	}
	d.open = false
	return append(dst, protocol.Event{Type: protocol.EventPartEnd, Index: d.next - 1, Part: protocol.Part{Type: d.openType}})
}

func (d *streamDecoder) finish(dst []protocol.Event, f protocol.Finish) []protocol.Event {
	dst = d.close(dst)
	d.finished = true
	return append(dst, protocol.Event{Type: protocol.EventFinish, Finish: f, Usage: d.usage})
}
