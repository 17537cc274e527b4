package cohere

import (
	"encoding/json"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// DecodeResponse reads a complete Cohere answer to req: a chat answer's
// content, tool plan (as text before the calls) and tool calls, or an
// embed answer's float vectors. Citations are not translated.
func (chat) DecodeResponse(req *protocol.Request, body []byte) (*protocol.Response, error) {
	if req != nil && req.Op == protocol.OpEmbed {
		var e embedResponse
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("cohere: reading the embed answer: %w", err)
		}
		return &protocol.Response{ID: e.ID, Model: req.Model, Embeddings: e.Embeddings.Float, Usage: readUsage(e.Meta)}, nil
	}
	var r chatResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("cohere: reading the chat answer: %w", err)
	}
	resp := &protocol.Response{
		ID:     r.ID,
		Finish: readFinish(r.FinishReason),
		Usage:  readUsage(r.Usage),
	}
	if req != nil {
		resp.Model = req.Model
	}
	for _, c := range r.Message.Content {
		switch {
		case c.Type == "thinking" && c.Thinking != nil:
			resp.Parts = append(resp.Parts, protocol.Part{Type: protocol.PartThinking, Text: *c.Thinking})
		case c.Type == "text" && c.Text != nil:
			resp.Parts = append(resp.Parts, protocol.Part{Type: protocol.PartText, Text: *c.Text})
		}
	}
	if r.Message.ToolPlan != "" {
		resp.Parts = append(resp.Parts, protocol.Part{Type: protocol.PartText, Text: r.Message.ToolPlan})
	}
	for _, c := range r.Message.ToolCalls {
		resp.Parts = append(resp.Parts, protocol.Part{Type: protocol.PartToolCall, ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	return resp, nil
}

// EncodeResponse writes resp as Cohere's chat answer, or embed answer for
// an OpEmbed request. Text before the answer's first tool call is its
// tool_plan, as Cohere's own answers put it.
func (chat) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	if req != nil && req.Op == protocol.OpEmbed {
		vectors := resp.Embeddings
		if vectors == nil {
			vectors = [][]float64{}
		}
		return json.Marshal(embedResponse{
			ID:           resp.ID,
			ResponseType: "embeddings_by_type",
			Embeddings:   embedByType{Float: vectors},
			Texts:        req.Inputs,
			Meta:         writeUsage(&resp.Usage),
		})
	}
	out := chatResponse{
		ID:           resp.ID,
		FinishReason: writeFinish(resp.Finish, resp.StopSequence),
		Message:      responseMessage{Role: "assistant"},
		Usage:        writeUsage(&resp.Usage),
	}
	firstCall := firstToolCall(resp.Parts)
	for i, p := range resp.Parts {
		switch p.Type {
		case protocol.PartText:
			if i < firstCall {
				out.Message.ToolPlan += p.Text
			} else {
				out.Message.Content = append(out.Message.Content, textItem(p.Text))
			}
		case protocol.PartThinking:
			out.Message.Content = append(out.Message.Content, content{Type: "thinking", Thinking: &p.Text})
		case protocol.PartToolCall:
			out.Message.ToolCalls = append(out.Message.ToolCalls, wireToolCall(p))
		}
	}
	return json.Marshal(out)
}
