package anthropic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// DecodeRequest reads a Messages API request body (POST /v1/messages, or
// /v1/messages/count_tokens for OpCountTokens, the same body without
// max_tokens).
func (messagesAPI) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, &protocol.BadRequest{Err: fmt.Errorf("the body is not a JSON object: %w", err)}
	}
	d := requestDecoder{req: &protocol.Request{Op: op}}
	for _, k := range protocol.SortedMembers(members) {
		v := members[k]
		if isNull(v) {
			continue
		}
		if err := d.member(k, v); err != nil {
			return nil, err
		}
	}
	d.finishReasoning()
	nameToolResults(d.req.Messages)
	return d.req, nil
}

// requestDecoder reads a request's top-level members into req.
type requestDecoder struct {
	req *protocol.Request
	// effort is output_config.effort, thinkingType thinking.type: they
	// combine into Reasoning once every member is read.
	effort       string
	thinkingType string
}

func (d *requestDecoder) member(name string, v json.RawMessage) error {
	r := d.req
	switch name {
	case "model":
		return decodeInto(name, v, &r.Model)
	case "max_tokens":
		return decodeInto(name, v, &r.MaxTokens)
	case "stream":
		return decodeInto(name, v, &r.Stream)
	case "temperature":
		return decodeInto(name, v, &r.Temperature)
	case "top_p":
		return decodeInto(name, v, &r.TopP)
	case "top_k":
		return decodeInto(name, v, &r.TopK)
	case "stop_sequences":
		return decodeInto(name, v, &r.Stop)
	case "metadata":
		var m wireMetadata
		if err := decodeInto(name, v, &m); err != nil {
			return err
		}
		r.User = m.UserID
		return nil
	case "system":
		parts, err := d.system(v)
		r.System = parts
		return err
	case "messages":
		return d.messages(v)
	case "tools":
		return d.tools(v)
	case "tool_choice":
		return d.toolChoice(v)
	case "thinking":
		return d.thinking(v)
	case "output_config":
		return d.outputConfig(v)
	case "service_tier", "inference_geo", "cache_control":
		// They choose capacity, region and automatic caching, not the
		// answer; other providers have no counterpart to pass them to.
		return nil
	}
	r.Unknown = append(r.Unknown, name)
	return nil
}

// decodeInto unmarshals member name's value into dst, naming the member
// in the error.
func decodeInto(name string, v json.RawMessage, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return &protocol.BadRequest{Param: name, Err: typeError(err)}
	}
	return nil
}

// typeError shortens encoding/json's type errors, which name Go types.
func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Errorf("%s: a JSON %s is not allowed here", te.Field, te.Value)
		}
		return fmt.Errorf("a JSON %s is not allowed here", te.Value)
	}
	return err
}

func isNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

// system reads the system prompt: a string, or text blocks.
func (d *requestDecoder) system(v json.RawMessage) ([]protocol.Part, error) {
	blocks, err := blocksOf("system", v)
	if err != nil {
		return nil, err
	}
	parts := make([]protocol.Part, 0, len(blocks))
	for i, b := range blocks {
		param := fmt.Sprintf("system[%d]", i)
		if b.Type != "text" {
			return nil, &protocol.BadRequest{Param: param, Err: fmt.Errorf("a system block must be text, not %q", b.Type)}
		}
		cache, err := cacheOf(param, b.CacheControl)
		if err != nil {
			return nil, err
		}
		parts = append(parts, protocol.Part{Type: protocol.PartText, Text: b.Text, Cache: cache})
	}
	return parts, nil
}

// blocksOf reads content that is a string (one text block) or an array
// of blocks.
func blocksOf(param string, v json.RawMessage) ([]wireBlock, error) {
	v = bytes.TrimSpace(v)
	if len(v) > 0 && v[0] == '"' {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &protocol.BadRequest{Param: param, Err: err}
		}
		return []wireBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []wireBlock
	if err := json.Unmarshal(v, &blocks); err != nil {
		return nil, &protocol.BadRequest{Param: param, Err: fmt.Errorf("must be a string or an array of content blocks: %w", typeError(err))}
	}
	return blocks, nil
}

func (d *requestDecoder) messages(v json.RawMessage) error {
	var msgs []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	}
	if err := decodeInto("messages", v, &msgs); err != nil {
		return err
	}
	d.req.Messages = make([]protocol.Message, 0, len(msgs))
	for i, m := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		role := protocol.Role(m.Role)
		if role != protocol.RoleUser && role != protocol.RoleAssistant {
			return &protocol.BadRequest{Param: param + ".role", Err: fmt.Errorf("must be user or assistant, not %q", m.Role)}
		}
		if len(m.Content) == 0 || isNull(m.Content) {
			return &protocol.BadRequest{Param: param + ".content", Err: errors.New("is required")}
		}
		blocks, err := blocksOf(param+".content", m.Content)
		if err != nil {
			return err
		}
		parts := make([]protocol.Part, 0, len(blocks))
		for j, b := range blocks {
			p, ok, err := d.part(fmt.Sprintf("%s.content[%d]", param, j), b, false)
			if err != nil {
				return err
			}
			if ok {
				parts = append(parts, p)
			}
		}
		d.req.Messages = append(d.req.Messages, protocol.Message{Role: role, Parts: parts})
	}
	return nil
}

// part reads one content block. A block with no counterpart in the
// internal form is listed in Unknown and ok is false. inResult is true
// inside a tool result, where only text, images and documents belong.
func (d *requestDecoder) part(param string, b wireBlock, inResult bool) (p protocol.Part, ok bool, err error) {
	p.Cache, err = cacheOf(param, b.CacheControl)
	if err != nil {
		return p, false, err
	}
	switch {
	case b.Type == "text":
		p.Type, p.Text = protocol.PartText, b.Text
	case b.Type == "image":
		p.Type = protocol.PartImage
		if !d.source(param, b.Source, &p) {
			return p, false, nil
		}
	case b.Type == "document":
		p.Type = protocol.PartDocument
		if citationsOn(b.Citations) {
			d.unknown(param, "document citations")
			return p, false, nil
		}
		if !d.source(param, b.Source, &p) {
			return p, false, nil
		}
	case b.Type == "tool_use" && !inResult:
		if b.ID == "" {
			return p, false, &protocol.BadRequest{Param: param + ".id", Err: errors.New("a tool_use block needs an id")}
		}
		p.Type, p.ID, p.Name = protocol.PartToolCall, b.ID, b.Name
		if len(b.Input) > 0 && !isNull(b.Input) {
			p.Arguments = string(b.Input)
		}
	case b.Type == "tool_result" && !inResult:
		if b.ToolUseID == "" {
			return p, false, &protocol.BadRequest{Param: param + ".tool_use_id", Err: errors.New("a tool_result block needs a tool_use_id")}
		}
		p.Type, p.ID, p.IsError = protocol.PartToolResult, b.ToolUseID, b.IsError
		if len(b.Content) > 0 && !isNull(b.Content) {
			blocks, err := blocksOf(param+".content", b.Content)
			if err != nil {
				return p, false, err
			}
			for k, rb := range blocks {
				rp, ok, err := d.part(fmt.Sprintf("%s.content[%d]", param, k), rb, true)
				if err != nil {
					return p, false, err
				}
				if ok {
					p.Content = append(p.Content, rp)
				}
			}
		}
	case b.Type == "thinking" && !inResult:
		p.Type, p.Text, p.Signature = protocol.PartThinking, b.Thinking, b.Signature
	case b.Type == "redacted_thinking" && !inResult:
		p.Type, p.Data = protocol.PartRedactedThinking, b.Data
	default:
		d.unknown(param, b.Type)
		return p, false, nil
	}
	return p, true, nil
}

// unknown lists content that cannot be translated, with what it is.
func (d *requestDecoder) unknown(param, what string) {
	d.req.Unknown = append(d.req.Unknown, fmt.Sprintf("%s (%s)", param, what))
}

// source reads an image's or document's source into p; false when it is
// a kind of source only Anthropic has (a file, custom content), which it
// lists in Unknown.
func (d *requestDecoder) source(param string, s *wireSource, p *protocol.Part) bool {
	if s == nil {
		d.unknown(param, p.Type.String()+" without a source")
		return false
	}
	switch {
	case s.Type == "base64":
		p.MediaType, p.Data = s.MediaType, s.Data
	case s.Type == "url":
		p.URL = s.URL
		if p.Type == protocol.PartDocument {
			// Anthropic reads URL documents as PDFs.
			p.MediaType = "application/pdf"
		}
	case s.Type == "text" && p.Type == protocol.PartDocument:
		p.MediaType = "text/plain"
		p.Data = base64.StdEncoding.EncodeToString([]byte(s.Data))
	default:
		d.unknown(param, p.Type.String()+" source "+s.Type)
		return false
	}
	return true
}

// citationsOn reports whether a document's citations setting enables
// them.
func citationsOn(v json.RawMessage) bool {
	var c struct {
		Enabled bool `json:"enabled"`
	}
	return len(v) > 0 && json.Unmarshal(v, &c) == nil && c.Enabled
}

// cacheOf reads a cache_control mark.
func cacheOf(param string, c *wireCache) (*protocol.CacheControl, error) {
	if c == nil {
		return nil, nil
	}
	if c.Type != "ephemeral" {
		return nil, &protocol.BadRequest{Param: param + ".cache_control.type", Err: fmt.Errorf("must be ephemeral, not %q", c.Type)}
	}
	switch c.TTL {
	case "", "5m":
		return &protocol.CacheControl{}, nil
	case "1h":
		return &protocol.CacheControl{TTL: "1h"}, nil
	}
	return nil, &protocol.BadRequest{Param: param + ".cache_control.ttl", Err: fmt.Errorf("must be 5m or 1h, not %q", c.TTL)}
}

func (d *requestDecoder) tools(v json.RawMessage) error {
	var tools []wireTool
	if err := decodeInto("tools", v, &tools); err != nil {
		return err
	}
	for i, t := range tools {
		param := fmt.Sprintf("tools[%d]", i)
		if t.Type != "" && t.Type != "custom" {
			d.unknown(param, t.Type)
			continue
		}
		if t.Name == "" {
			return &protocol.BadRequest{Param: param + ".name", Err: errors.New("is required")}
		}
		cache, err := cacheOf(param, t.CacheControl)
		if err != nil {
			return err
		}
		tool := protocol.Tool{Name: t.Name, Description: t.Description, Strict: t.Strict, Cache: cache}
		if len(t.InputSchema) > 0 && !isNull(t.InputSchema) {
			tool.Parameters = t.InputSchema
		}
		d.req.Tools = append(d.req.Tools, tool)
	}
	return nil
}

func (d *requestDecoder) toolChoice(v json.RawMessage) error {
	var c wireToolChoice
	if err := decodeInto("tool_choice", v, &c); err != nil {
		return err
	}
	tc := protocol.ToolChoice{Set: true}
	switch c.Type {
	case "auto":
		tc.Mode = protocol.ToolAuto
	case "any":
		tc.Mode = protocol.ToolRequired
	case "none":
		tc.Mode = protocol.ToolNone
	case "tool":
		if c.Name == "" {
			return &protocol.BadRequest{Param: "tool_choice.name", Err: errors.New("is required with type tool")}
		}
		tc.Mode, tc.Name = protocol.ToolNamed, c.Name
	default:
		return &protocol.BadRequest{Param: "tool_choice.type", Err: fmt.Errorf("must be auto, any, tool or none, not %q", c.Type)}
	}
	d.req.ToolChoice = tc
	if c.DisableParallelToolUse != nil {
		parallel := !*c.DisableParallelToolUse
		d.req.ParallelToolCalls = &parallel
	}
	return nil
}

func (d *requestDecoder) thinking(v json.RawMessage) error {
	var t wireThinking
	if err := decodeInto("thinking", v, &t); err != nil {
		return err
	}
	switch t.Type {
	case "enabled":
		if t.BudgetTokens <= 0 {
			return &protocol.BadRequest{Param: "thinking.budget_tokens", Err: errors.New("must be a positive number of tokens")}
		}
		d.req.Reasoning = &protocol.Reasoning{BudgetTokens: t.BudgetTokens}
	case "disabled":
		d.req.Reasoning = &protocol.Reasoning{Disabled: true}
	case "adaptive":
	default:
		return &protocol.BadRequest{Param: "thinking.type", Err: fmt.Errorf("must be enabled, disabled or adaptive, not %q", t.Type)}
	}
	d.thinkingType = t.Type
	return nil
}

func (d *requestDecoder) outputConfig(v json.RawMessage) error {
	var c wireOutputConfig
	if err := decodeInto("output_config", v, &c); err != nil {
		return err
	}
	switch c.Effort {
	case "", "low", "medium", "high":
		d.effort = c.Effort
	case "xhigh", "max":
		d.effort = "high"
	default:
		return &protocol.BadRequest{Param: "output_config.effort", Err: fmt.Errorf("unknown effort %q", c.Effort)}
	}
	if c.Format != nil {
		if c.Format.Type != "json_schema" || len(c.Format.Schema) == 0 || isNull(c.Format.Schema) {
			return &protocol.BadRequest{Param: "output_config.format", Err: errors.New("must be {type: json_schema, schema}")}
		}
		d.req.ResponseFormat = &protocol.ResponseFormat{Schema: c.Format.Schema}
	}
	return nil
}

// finishReasoning combines thinking and output_config.effort: an effort
// applies to adaptive thinking or stands alone; a budget wins over it.
func (d *requestDecoder) finishReasoning() {
	switch {
	case d.thinkingType == "adaptive":
		effort := d.effort
		if effort == "" {
			effort = "medium"
		}
		d.req.Reasoning = &protocol.Reasoning{Effort: effort}
	case d.thinkingType == "" && d.effort != "":
		d.req.Reasoning = &protocol.Reasoning{Effort: d.effort}
	}
}

// nameToolResults fills each tool result's Name from the earlier tool
// call with its ID: Anthropic's tool_result does not carry it, and some
// providers (Gemini) need it.
func nameToolResults(msgs []protocol.Message) {
	var names map[string]string
	for _, m := range msgs {
		for i := range m.Parts {
			p := &m.Parts[i]
			switch p.Type {
			case protocol.PartToolCall:
				if names == nil {
					names = make(map[string]string)
				}
				names[p.ID] = p.Name
			case protocol.PartToolResult:
				if p.Name == "" {
					p.Name = names[p.ID]
				}
			}
		}
	}
}
