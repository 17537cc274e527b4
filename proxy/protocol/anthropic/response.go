package anthropic

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// DecodeResponse reads Anthropic's answer to req: a Message, or for
// OpCountTokens {"input_tokens": N}.
func (messagesAPI) DecodeResponse(req *protocol.Request, body []byte) (*protocol.Response, error) {
	if req != nil && req.Op == protocol.OpCountTokens {
		var c wireCount
		if err := json.Unmarshal(body, &c); err != nil {
			return nil, fmt.Errorf("anthropic: reading the token count: %w", err)
		}
		return &protocol.Response{InputTokens: c.InputTokens}, nil
	}
	var m wireMessageResponse
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("anthropic: reading the answer: %w", err)
	}
	tool := structuredTool(req)
	resp := &protocol.Response{ID: m.ID, Model: m.Model, Parts: make([]protocol.Part, 0, len(m.Content))}
	for _, b := range m.Content {
		if p, ok := answerPart(b, tool); ok {
			resp.Parts = append(resp.Parts, p)
		}
	}
	if m.StopReason != nil {
		resp.Finish = finishOf(*m.StopReason, tool != "")
	}
	if m.StopSequence != nil {
		resp.StopSequence = *m.StopSequence
	}
	if m.Usage != nil {
		resp.Usage = usageOf(m.Usage)
	}
	return resp, nil
}

// answerPart reads one block of an answer. The forced tool of a
// structured-output request (tool, "" for none) becomes text: its input
// is the answer. Blocks of server tools have no internal form and are
// left out.
func answerPart(b wireBlock, tool string) (protocol.Part, bool) {
	switch b.Type {
	case "text":
		return protocol.Part{Type: protocol.PartText, Text: b.Text}, true
	case "thinking":
		return protocol.Part{Type: protocol.PartThinking, Text: b.Thinking, Signature: b.Signature}, true
	case "redacted_thinking":
		return protocol.Part{Type: protocol.PartRedactedThinking, Data: b.Data}, true
	case "tool_use":
		args := ""
		if len(b.Input) > 0 && !isNull(b.Input) {
			args = string(b.Input)
		}
		// A structured-output request sends the forced tool alone, so
		// any tool_use in its answer is that tool.
		if tool != "" {
			return protocol.Part{Type: protocol.PartText, Text: args}, true
		}
		return protocol.Part{Type: protocol.PartToolCall, ID: b.ID, Name: b.Name, Arguments: args}, true
	}
	return protocol.Part{}, false
}

// EncodeResponse writes resp as a Message, or for OpCountTokens as
// {"input_tokens": N}.
func (messagesAPI) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	if req != nil && req.Op == protocol.OpCountTokens {
		return json.Marshal(wireCount{InputTokens: resp.InputTokens})
	}
	m := wireMessageResponse{
		ID:      messageID(resp.ID),
		Type:    "message",
		Role:    "assistant",
		Model:   resp.Model,
		Content: make([]wireBlock, 0, len(resp.Parts)),
		Usage:   wireUsageOf(resp.Usage),
	}
	for _, p := range resp.Parts {
		if b, ok := answerBlock(p); ok {
			m.Content = append(m.Content, b)
		}
	}
	reason := stopReasonOf(resp.Finish, resp.StopSequence)
	m.StopReason = &reason
	if resp.StopSequence != "" {
		m.StopSequence = &resp.StopSequence
	}
	b, err := json.Marshal(&m)
	if err != nil {
		return nil, fmt.Errorf("anthropic: encoding the answer: %w", err)
	}
	return b, nil
}

// answerBlock writes one part of an answer; parts Anthropic has no block
// for in an answer (images, audio) are left out.
func answerBlock(p protocol.Part) (wireBlock, bool) {
	switch p.Type {
	case protocol.PartText:
		return wireBlock{Type: "text", Text: p.Text}, true
	case protocol.PartThinking:
		return wireBlock{Type: "thinking", Thinking: p.Text, Signature: p.Signature}, true
	case protocol.PartRedactedThinking:
		return wireBlock{Type: "redacted_thinking", Data: p.Data}, true
	case protocol.PartToolCall:
		input := json.RawMessage("{}")
		if p.Arguments != "" && json.Valid([]byte(p.Arguments)) {
			input = json.RawMessage(p.Arguments)
		}
		return wireBlock{Type: "tool_use", ID: p.ID, Name: p.Name, Input: input}, true
	}
	return wireBlock{}, false
}

// messageID is the answer's id, or a new msg_ id when the provider gave
// none.
func messageID(id string) string {
	if id != "" {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "msg_" + hex.EncodeToString(b[:])
}

// modelEntry is one model of Anthropic's GET /v1/models list.
type modelEntry struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"`
}

type modelList struct {
	Data    []modelEntry `json:"data"`
	HasMore bool         `json:"has_more"`
	FirstID *string      `json:"first_id"`
	LastID  *string      `json:"last_id"`
}

// modelsCreated is the created_at of every listed model: the gateway
// does not know when a provider released its models, and the field is
// required.
var modelsCreated = time.Unix(0, 0).UTC().Format(time.RFC3339)

// EncodeModels is Anthropic's model list of ids, one page, the id as the
// display name.
func (messagesAPI) EncodeModels(ids []string) []byte {
	l := modelList{Data: make([]modelEntry, 0, len(ids))}
	for _, id := range ids {
		l.Data = append(l.Data, modelEntry{Type: "model", ID: id, DisplayName: id, CreatedAt: modelsCreated})
	}
	if len(ids) > 0 {
		l.FirstID, l.LastID = &ids[0], &ids[len(ids)-1]
	}
	b, _ := json.Marshal(&l)
	return b
}
