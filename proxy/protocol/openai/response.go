package openai

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// DecodeResponse reads a provider's chat.completion (an embeddings list
// for OpEmbed). Only choice 0 is read: several choices (n > 1) reach a
// caller only when the request passes through untranslated.
func (chatAdapter) DecodeResponse(req *protocol.Request, body []byte) (*protocol.Response, error) {
	if req != nil && req.Op == protocol.OpEmbed {
		return Embeddings.DecodeResponse(req, body)
	}
	var a wireAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, fmt.Errorf("openai: reading the answer: %w", err)
	}
	if !isNull(a.Error) {
		return nil, upstreamError(a.Error)
	}
	resp := &protocol.Response{ID: a.ID, Model: a.Model, Created: a.Created}
	if a.Usage != nil {
		resp.Usage = a.Usage.internal()
	}
	choice := firstChoice(a.Choices)
	if choice == nil {
		return nil, errors.New("openai: the answer has no choices")
	}
	parts, err := answerParts(&choice.Message)
	if err != nil {
		return nil, err
	}
	resp.Parts = parts
	resp.Finish = finishOf(choice.FinishReason)
	return resp, nil
}

// firstChoice is the choice with index 0, nil when there is none.
func firstChoice(choices []wireChoice) *wireChoice {
	for i := range choices {
		if choices[i].Index == 0 {
			return &choices[i]
		}
	}
	return nil
}

// answerParts reads an answer's message: reasoning first, then text, then
// tool calls.
func answerParts(m *wireMessage) ([]protocol.Part, error) {
	var parts []protocol.Part
	if thinking := reasoningText(m); thinking != "" {
		parts = append(parts, protocol.Part{Type: protocol.PartThinking, Text: thinking})
	}
	pieces, err := contentPieces(m.Content)
	if err != nil {
		return nil, err
	}
	parts = append(parts, pieces...)
	if m.Refusal != "" {
		parts = append(parts, protocol.Part{Type: protocol.PartText, Text: m.Refusal})
	}
	for i, c := range m.ToolCalls {
		id := c.ID
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		parts = append(parts, protocol.Part{Type: protocol.PartToolCall, ID: id, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	return parts, nil
}

// reasoningText is DeepSeek's reasoning_content or OpenRouter's reasoning.
func reasoningText(m *wireMessage) string {
	if m.ReasoningContent != "" {
		return m.ReasoningContent
	}
	return m.Reasoning
}

// contentPieces reads an answer's content: a string, or (Mistral) an
// array of text and thinking chunks. Empty text is left out.
func contentPieces(v json.RawMessage) ([]protocol.Part, error) {
	s, parts, err := contentParts("content", v)
	if err != nil {
		return nil, fmt.Errorf("openai: reading the answer: %w", err)
	}
	if s != nil {
		if *s == "" {
			return nil, nil
		}
		return []protocol.Part{{Type: protocol.PartText, Text: *s}}, nil
	}
	var out []protocol.Part
	for _, p := range parts {
		switch p.Type {
		case "text":
			if p.Text != "" {
				out = append(out, protocol.Part{Type: protocol.PartText, Text: p.Text})
			}
		case "thinking":
			if t := thinkingText(p.Thinking); t != "" {
				out = append(out, protocol.Part{Type: protocol.PartThinking, Text: t})
			}
		}
	}
	return out, nil
}

// thinkingText reads Mistral's thinking member: a string or text parts.
func thinkingText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var parts []wirePart
	if json.Unmarshal(v, &parts) != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// internal is the usage in the gateway's terms: prompt_tokens already
// counts cached input.
func (u *wireUsage) internal() usage.Usage {
	out := usage.Usage{Tokens: tokens.Tokens{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}, Found: true}
	if d := u.PromptTokensDetails; d != nil {
		out.CachedInputTokens = d.CachedTokens
		out.CacheWriteTokens = d.CacheWriteTokens
	}
	if out.CachedInputTokens == 0 {
		out.CachedInputTokens = u.PromptCacheHitTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}

// wireUsageOf is u as OpenAI reports it.
func wireUsageOf(u *usage.Usage) *wireUsage {
	return &wireUsage{
		PromptTokens:            u.InputTokens,
		CompletionTokens:        u.OutputTokens,
		TotalTokens:             u.InputTokens + u.OutputTokens,
		PromptTokensDetails:     &wirePromptDetails{CachedTokens: u.CachedInputTokens, CacheWriteTokens: u.CacheWriteTokens},
		CompletionTokensDetails: &wireCompletionDetail{ReasoningTokens: u.ReasoningTokens},
	}
}

// finishOf reads a finish_reason.
func finishOf(reason string) protocol.Finish {
	switch reason {
	case "":
		return ""
	case "length":
		return protocol.FinishLength
	case "tool_calls", "function_call":
		return protocol.FinishToolCalls
	case "content_filter":
		return protocol.FinishContentFilter
	case "error", "insufficient_system_resource": // OpenRouter, DeepSeek
		return protocol.FinishError
	}
	return protocol.FinishStop
}

// finishReason writes f as a finish_reason, which has no refusal, pause
// or error: a refusal is the nearest thing, content_filter; the others
// end as stop.
func finishReason(f protocol.Finish) string {
	switch f {
	case protocol.FinishLength:
		return "length"
	case protocol.FinishToolCalls:
		return "tool_calls"
	case protocol.FinishContentFilter, protocol.FinishRefusal:
		return "content_filter"
	}
	return "stop"
}

// outCompletion is a chat.completion as written to a caller.
type outCompletion struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []outChoice `json:"choices"`
	Usage   *wireUsage  `json:"usage,omitempty"`
}

type outChoice struct {
	Index        int              `json:"index"`
	Message      outAnswerMessage `json:"message"`
	FinishReason string           `json:"finish_reason"`
	Logprobs     *struct{}        `json:"logprobs"`
}

type outAnswerMessage struct {
	Role      string         `json:"role"`
	Content   *string        `json:"content"`
	Refusal   *string        `json:"refusal"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
	// ReasoningContent carries thinking as DeepSeek does; the OpenAI SDKs
	// keep it as an extra field.
	ReasoningContent string `json:"reasoning_content,omitempty"`
}

// EncodeResponse writes resp as a chat.completion with one choice (an
// embeddings list for OpEmbed).
func (chatAdapter) EncodeResponse(req *protocol.Request, resp *protocol.Response) ([]byte, error) {
	if req != nil && req.Op == protocol.OpEmbed {
		return Embeddings.EncodeResponse(req, resp)
	}
	msg := outAnswerMessage{Role: "assistant"}
	var text, thinking strings.Builder
	hasText := false
	for _, p := range resp.Parts {
		switch p.Type {
		case protocol.PartText:
			text.WriteString(p.Text)
			hasText = true
		case protocol.PartThinking:
			thinking.WriteString(p.Text)
		case protocol.PartToolCall:
			args := p.Arguments
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, wireToolCall{ID: p.ID, Type: "function", Function: wireFunctionCall{Name: p.Name, Arguments: args}})
		}
	}
	if hasText || msg.ToolCalls == nil {
		s := text.String()
		msg.Content = &s
	}
	msg.ReasoningContent = thinking.String()
	out := outCompletion{
		ID:      answerID(resp.ID),
		Object:  "chat.completion",
		Created: createdAt(resp.Created),
		Model:   answerModel(req, resp.Model),
		Choices: []outChoice{{Message: msg, FinishReason: finishReason(resp.Finish)}},
	}
	if resp.Usage.Found {
		out.Usage = wireUsageOf(&resp.Usage)
	}
	return marshal(&out)
}

// answerID is the provider's answer id, or a new one when it gave none.
func answerID(id string) string {
	if id != "" {
		return id
	}
	return "chatcmpl-" + rand.Text()
}

func createdAt(t int64) int64 {
	if t != 0 {
		return t
	}
	return time.Now().Unix()
}

// answerModel is the model the provider named, else the one asked for.
func answerModel(req *protocol.Request, model string) string {
	if model == "" && req != nil {
		return req.Model
	}
	return model
}
