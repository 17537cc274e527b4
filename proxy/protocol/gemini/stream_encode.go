package gemini

import (
	"encoding/json"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// NewStreamEncoder writes a streamed answer as streamGenerateContent's SSE
// chunks: one chunk per text delta, one per function call when its part
// ends (Gemini streams calls whole), and a last chunk with finishReason
// and usageMetadata.
func (Adapter) NewStreamEncoder(req *protocol.Request) protocol.StreamEncoder {
	return &streamEncoder{req: req}
}

type streamEncoder struct {
	req       *protocol.Request
	id, model string
	cur       protocol.PartType
	call      protocol.Part // the tool call being collected
	args      []byte
	// held is the finish chunk waiting for usage that comes after it.
	held *wireResponse
}

func (e *streamEncoder) Encode(dst []byte, ev protocol.Event) []byte {
	switch ev.Type {
	case protocol.EventStart:
		e.id, e.model = ev.ID, modelName(e.req, ev.Model)
	case protocol.EventPartStart:
		e.cur = ev.Part.Type
		switch ev.Part.Type {
		case protocol.PartToolCall:
			e.call, e.args = ev.Part, e.args[:0]
		case protocol.PartImage, protocol.PartDocument, protocol.PartAudio:
			if wp, ok, _ := wireAnswerPart(ev.Part); ok {
				dst = e.partChunk(dst, wp)
			}
		}
	case protocol.EventDelta:
		dst = e.delta(dst, ev.Part)
	case protocol.EventPartEnd:
		if e.cur == protocol.PartToolCall {
			args, err := argsObject(string(e.args))
			if err != nil {
				// The arguments streamed were not an object: there is no
				// way to report it in the stream, so the call has none.
				args = json.RawMessage("{}")
			}
			dst = e.partChunk(dst, wirePart{
				FunctionCall:     &wireCall{ID: e.call.ID, Name: e.call.Name, Args: args},
				ThoughtSignature: e.call.Signature,
			})
		}
	case protocol.EventFinish:
		chunk := e.chunk(nil)
		chunk.Candidates = []wireCandidate{{FinishReason: finishReason(ev.Finish)}}
		if ev.Usage == nil {
			e.held = chunk
			return dst
		}
		chunk.UsageMetadata = writeUsage(*ev.Usage)
		dst = appendChunk(dst, chunk)
	case protocol.EventUsage:
		if ev.Usage == nil {
			return dst
		}
		chunk := e.held
		e.held = nil
		if chunk == nil {
			chunk = e.chunk(nil)
		}
		chunk.UsageMetadata = writeUsage(*ev.Usage)
		dst = appendChunk(dst, chunk)
	}
	return dst
}

func (e *streamEncoder) delta(dst []byte, p protocol.Part) []byte {
	switch e.cur {
	case protocol.PartToolCall:
		e.args = append(e.args, p.Arguments...)
	case protocol.PartText:
		if p.Text != "" {
			dst = e.partChunk(dst, textPart(p.Text))
		}
	case protocol.PartThinking:
		if p.Text != "" || p.Signature != "" {
			wp := textPart(p.Text)
			wp.Thought, wp.ThoughtSignature = true, p.Signature
			dst = e.partChunk(dst, wp)
		}
	}
	return dst
}

// End writes a finish chunk still waiting for usage, without it.
func (e *streamEncoder) End(dst []byte) []byte {
	if e.held != nil {
		dst = appendChunk(dst, e.held)
		e.held = nil
	}
	return dst
}

func (e *streamEncoder) chunk(parts []wirePart) *wireResponse {
	c := &wireResponse{ModelVersion: e.model, ResponseID: e.id}
	if parts != nil {
		c.Candidates = []wireCandidate{{Content: &wireContent{Role: "model", Parts: parts}}}
	}
	return c
}

func (e *streamEncoder) partChunk(dst []byte, p wirePart) []byte {
	return appendChunk(dst, e.chunk([]wirePart{p}))
}

func appendChunk(dst []byte, c *wireResponse) []byte {
	b, err := json.Marshal(c)
	if err != nil {
		return dst
	}
	return protocol.AppendEvent(dst, "", b)
}
