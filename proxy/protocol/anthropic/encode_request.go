package anthropic

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// EncodeRequest writes req as a Messages API request: OpGenerate to
// "/messages", OpCountTokens to "/messages/count_tokens".
func (messagesAPI) EncodeRequest(req *protocol.Request) (protocol.Call, error) {
	call := protocol.Call{Path: "/messages", Header: map[string]string{"anthropic-version": apiVersion}}
	switch req.Op {
	case protocol.OpGenerate:
	case protocol.OpCountTokens:
		call.Path = "/messages/count_tokens"
	default:
		return call, &protocol.Unsupported{Param: "embeddings", Provider: provider, Why: "Anthropic has no embeddings API"}
	}
	w, err := encodeRequest(req)
	if err != nil {
		return call, err
	}
	call.Body, err = json.Marshal(w)
	if err != nil {
		return call, fmt.Errorf("anthropic: encoding the request: %w", err)
	}
	return call, nil
}

func encodeRequest(req *protocol.Request) (*wireRequest, error) {
	if err := refuseUnsupported(req); err != nil {
		return nil, err
	}
	w := &wireRequest{Model: req.Model, Messages: []wireMessage{}}
	var err error
	if w.System, err = encodeSystem(req.System); err != nil {
		return nil, err
	}
	for i, m := range req.Messages {
		content, err := encodeParts(fmt.Sprintf("messages[%d]", i), m.Parts)
		if err != nil {
			return nil, err
		}
		w.Messages = append(w.Messages, wireMessage{Role: string(m.Role), Content: content})
	}
	for _, t := range req.Tools {
		w.Tools = append(w.Tools, wireTool{Name: t.Name, Description: t.Description, InputSchema: schemaOf(t.Parameters), Strict: t.Strict, CacheControl: encodeCache(t.Cache)})
	}
	w.ToolChoice = encodeToolChoice(req)
	if rf := req.ResponseFormat; rf != nil {
		name := rf.Name
		if name == "" {
			name = formatTool
		}
		w.Tools = []wireTool{{Name: name, Description: "Answer with the response, as this tool's input.", InputSchema: schemaOf(rf.Schema), Strict: rf.Strict}}
		w.ToolChoice = &wireToolChoice{Type: "tool", Name: name}
	}
	if req.Op == protocol.OpCountTokens {
		// count_tokens takes the prompt only: no cap, sampling or stream.
		w.Thinking, err = encodeThinking(req, 0)
		return w, err
	}
	w.MaxTokens = maxTokens(req)
	w.Stream = req.Stream
	w.StopSequences = req.Stop
	w.Temperature, w.TopP, w.TopK = req.Temperature, req.TopP, req.TopK
	if req.User != "" {
		w.Metadata = &wireMetadata{UserID: req.User}
	}
	if req.Seed != nil {
		req.Omit("seed")
	}
	if w.Thinking, err = encodeThinking(req, w.MaxTokens); err != nil {
		return nil, err
	}
	if w.Thinking != nil && w.Thinking.Type == "enabled" {
		// Anthropic refuses thinking with a temperature other than 1, with
		// top_k, and with top_p below 0.95: leave them to the model.
		if w.Temperature != nil {
			w.Temperature = nil
			req.Omit("temperature")
		}
		if w.TopP != nil {
			w.TopP = nil
			req.Omit("top_p")
		}
		if w.TopK != nil {
			w.TopK = nil
			req.Omit("top_k")
		}
	}
	return w, nil
}

// refuseUnsupported refuses what Anthropic cannot do and leaving out
// would change the answer.
func refuseUnsupported(req *protocol.Request) error {
	switch {
	case req.N > 1:
		return &protocol.Unsupported{Param: "n", Provider: provider, Why: "Anthropic returns one answer per request; send n separate requests"}
	// A penalty of 0 is no penalty, which is all Anthropic offers.
	case req.FrequencyPenalty != nil && *req.FrequencyPenalty != 0:
		return &protocol.Unsupported{Param: "frequency_penalty", Provider: provider, Why: "Anthropic has no repetition penalties"}
	case req.PresencePenalty != nil && *req.PresencePenalty != 0:
		return &protocol.Unsupported{Param: "presence_penalty", Provider: provider, Why: "Anthropic has no repetition penalties"}
	case req.ResponseFormat != nil && len(req.Tools) > 0:
		return &protocol.Unsupported{Param: "response_format", Provider: provider, Why: "structured output is a forced tool call on Anthropic, which cannot be combined with other tools"}
	}
	return nil
}

// maxTokens is the required output cap: the caller's, else the model's
// largest from the catalog, else defaultMaxTokens.
func maxTokens(req *protocol.Request) int64 {
	switch {
	case req.MaxTokens > 0:
		return req.MaxTokens
	case req.DefaultMaxTokens > 0:
		return req.DefaultMaxTokens
	}
	return defaultMaxTokens
}

// minBudget is Anthropic's smallest thinking budget.
const minBudget = 1024

// encodeThinking writes Reasoning as thinking. The budget must be at
// least 1,024 and below max_tokens (maxTokens 0: count_tokens, no cap):
// it is lowered to fit, and a cap of 1,024 or less is refused.
func encodeThinking(req *protocol.Request, maxTokens int64) (*wireThinking, error) {
	r := req.Reasoning
	switch {
	case r == nil:
		return nil, nil
	case r.Disabled:
		return &wireThinking{Type: "disabled"}, nil
	}
	budget := r.BudgetTokens
	if budget == 0 {
		budget = protocol.EffortBudget(r.Effort)
	}
	budget = max(budget, minBudget)
	if maxTokens > 0 {
		if maxTokens <= minBudget {
			return nil, &protocol.Unsupported{Param: "max_tokens", Provider: provider, Why: fmt.Sprintf("Anthropic's thinking needs max_tokens above its minimum budget of %d tokens", minBudget)}
		}
		budget = min(budget, maxTokens-1)
	}
	return &wireThinking{Type: "enabled", BudgetTokens: budget}, nil
}

func encodeToolChoice(req *protocol.Request) *wireToolChoice {
	if len(req.Tools) == 0 {
		return nil
	}
	tc := req.ToolChoice
	var c wireToolChoice
	switch tc.Mode {
	case protocol.ToolNone:
		// none takes no disable_parallel_tool_use: no calls, none parallel.
		return &wireToolChoice{Type: "none"}
	case protocol.ToolRequired:
		c.Type = "any"
	case protocol.ToolNamed:
		c.Type, c.Name = "tool", tc.Name
	default:
		if !tc.Set && req.ParallelToolCalls == nil {
			return nil
		}
		c.Type = "auto"
	}
	if p := req.ParallelToolCalls; p != nil {
		disable := !*p
		c.DisableParallelToolUse = &disable
	}
	return &c
}

// schemaOf is a tool's input_schema, which Anthropic requires: an
// object schema with no properties when there are no parameters.
func schemaOf(s json.RawMessage) json.RawMessage {
	if len(s) == 0 {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return s
}

func encodeCache(c *protocol.CacheControl) *wireCache {
	if c == nil {
		return nil
	}
	return &wireCache{Type: "ephemeral", TTL: c.TTL}
}

// encodeSystem writes the system prompt as text blocks.
func encodeSystem(parts []protocol.Part) ([]wireBlock, error) {
	var blocks []wireBlock
	for i, p := range parts {
		if p.Type != protocol.PartText {
			return nil, &protocol.Unsupported{Param: fmt.Sprintf("system[%d] (%s)", i, p.Type), Provider: provider, Why: "Anthropic's system prompt takes text only; put it in a user message"}
		}
		if p.Text == "" && p.Cache == nil {
			continue
		}
		blocks = append(blocks, wireBlock{Type: "text", Text: p.Text, CacheControl: encodeCache(p.Cache)})
	}
	return blocks, nil
}

// encodeParts writes a message's parts as content blocks. Empty text
// parts are left out: Anthropic refuses empty text blocks.
func encodeParts(param string, parts []protocol.Part) ([]wireBlock, error) {
	blocks := make([]wireBlock, 0, len(parts))
	for j, p := range parts {
		if p.Type == protocol.PartText && p.Text == "" && p.Cache == nil {
			continue
		}
		b, err := encodePart(fmt.Sprintf("%s.content[%d]", param, j), p)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, b)
	}
	return blocks, nil
}

func encodePart(param string, p protocol.Part) (wireBlock, error) {
	b := wireBlock{CacheControl: encodeCache(p.Cache)}
	switch p.Type {
	case protocol.PartText:
		b.Type, b.Text = "text", p.Text
	case protocol.PartImage:
		b.Type = "image"
		b.Source = imageSource(p)
	case protocol.PartDocument:
		b.Type = "document"
		src, err := documentSource(param, p)
		if err != nil {
			return b, err
		}
		b.Source = src
	case protocol.PartAudio:
		return b, &protocol.Unsupported{Param: param + " (audio)", Provider: provider, Why: "Anthropic's models take no audio input; transcribe it first"}
	case protocol.PartToolCall:
		b.Type, b.ID, b.Name = "tool_use", p.ID, p.Name
		b.Input = json.RawMessage("{}")
		if p.Arguments != "" {
			if !json.Valid([]byte(p.Arguments)) {
				return b, &protocol.BadRequest{Param: param + ".arguments", Err: errors.New("a tool call's arguments must be JSON")}
			}
			b.Input = json.RawMessage(p.Arguments)
		}
	case protocol.PartToolResult:
		b.Type, b.ToolUseID, b.IsError = "tool_result", p.ID, p.IsError
		if len(p.Content) > 0 {
			content, err := encodeParts(param+".content", p.Content)
			if err != nil {
				return b, err
			}
			if b.Content, err = json.Marshal(content); err != nil {
				return b, fmt.Errorf("%s: %w", param, err)
			}
		}
	case protocol.PartThinking:
		// Sent back verbatim: Anthropic checks the signature.
		b.Type, b.Thinking, b.Signature = "thinking", p.Text, p.Signature
	case protocol.PartRedactedThinking:
		b.Type, b.Data = "redacted_thinking", p.Data
	default:
		return b, &protocol.Unsupported{Param: fmt.Sprintf("%s (%s)", param, p.Type), Provider: provider}
	}
	return b, nil
}

func imageSource(p protocol.Part) *wireSource {
	if p.Data == "" && p.URL != "" {
		return &wireSource{Type: "url", URL: p.URL}
	}
	return &wireSource{Type: "base64", MediaType: p.MediaType, Data: p.Data}
}

// documentSource writes a document: a PDF inline or by URL, or plain
// text, which Anthropic takes as text rather than base64.
func documentSource(param string, p protocol.Part) (*wireSource, error) {
	switch {
	case p.Data == "" && p.URL != "":
		return &wireSource{Type: "url", URL: p.URL}, nil
	case p.MediaType == "application/pdf":
		return &wireSource{Type: "base64", MediaType: p.MediaType, Data: p.Data}, nil
	case p.MediaType == "text/plain":
		text, err := base64.StdEncoding.DecodeString(p.Data)
		if err != nil {
			return nil, &protocol.BadRequest{Param: param, Err: fmt.Errorf("a text document's data is not base64: %w", err)}
		}
		return &wireSource{Type: "text", MediaType: "text/plain", Data: string(text)}, nil
	}
	return nil, &protocol.Unsupported{Param: fmt.Sprintf("%s (document %s)", param, p.MediaType), Provider: provider, Why: "Anthropic takes PDF and plain-text documents only"}
}
