package responses

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// DecodeRequest reads a Responses request body.
func (api) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	if op != protocol.OpGenerate {
		return nil, fmt.Errorf("responses: operation %d is not a Responses request", op)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, &protocol.BadRequest{Err: fmt.Errorf("body is not a JSON object: %w", err)}
	}
	d := decoder{req: &protocol.Request{Op: op}, callNames: map[string]string{}}
	for _, k := range protocol.SortedMembers(members) {
		v := members[k]
		if isNull(v) {
			continue
		}
		if err := d.member(k, v); err != nil {
			return nil, err
		}
	}
	if d.req.Model == "" {
		return nil, &protocol.BadRequest{Param: "model", Err: errors.New("is required")}
	}
	// instructions come before any system message of the input.
	d.req.System = append(d.instructions, d.req.System...)
	return d.req, nil
}

// decoder holds what reading one request needs across its members.
type decoder struct {
	req          *protocol.Request
	instructions []protocol.Part
	// callNames maps a function call's call_id to its name, for the
	// function_call_output items that answer it.
	callNames map[string]string
}

func (d *decoder) unknown(name string) { d.req.Unknown = append(d.req.Unknown, name) }

// member reads one top-level member.
func (d *decoder) member(k string, v json.RawMessage) error {
	r := d.req
	switch k {
	case "model":
		return decodeInto(k, v, &r.Model)
	case "input":
		return d.input(v)
	case "instructions":
		var s string
		if err := decodeInto(k, v, &s); err != nil {
			return err
		}
		if s != "" {
			d.instructions = []protocol.Part{{Type: protocol.PartText, Text: s}}
		}
	case "tools":
		return d.tools(v)
	case "tool_choice":
		return d.toolChoice(v)
	case "parallel_tool_calls":
		r.ParallelToolCalls = new(bool)
		return decodeInto(k, v, r.ParallelToolCalls)
	case "max_output_tokens":
		return decodeInto(k, v, &r.MaxTokens)
	case "temperature":
		r.Temperature = new(float64)
		return decodeInto(k, v, r.Temperature)
	case "top_p":
		r.TopP = new(float64)
		return decodeInto(k, v, r.TopP)
	case "text":
		return d.text(v)
	case "reasoning":
		return d.reasoning(v)
	case "stream":
		return decodeInto(k, v, &r.Stream)
	case "user":
		return decodeInto(k, v, &r.User)
	case "background":
		var b bool
		if err := decodeInto(k, v, &b); err != nil {
			return err
		}
		if b {
			d.unknown(k)
		}
	case "store", "metadata", "include", "truncation", "service_tier", "prompt_cache_key",
		"prompt_cache_retention", "safety_identifier", "stream_options":
		// Known, and without meaning in translation.
	default:
		// previous_response_id and conversation need state the gateway
		// does not keep; the rest it does not know.
		d.unknown(k)
	}
	return nil
}

// input reads the input: one user text, or a list of items.
func (d *decoder) input(v json.RawMessage) error {
	if v[0] == '"' {
		var s string
		if err := decodeInto("input", v, &s); err != nil {
			return err
		}
		d.req.Messages = append(d.req.Messages, protocol.Message{
			Role: protocol.RoleUser, Parts: []protocol.Part{{Type: protocol.PartText, Text: s}},
		})
		return nil
	}
	var items []json.RawMessage
	if err := decodeInto("input", v, &items); err != nil {
		return err
	}
	for i, raw := range items {
		if err := d.item(fmt.Sprintf("input[%d]", i), raw); err != nil {
			return err
		}
	}
	return nil
}

// inputItem is the union of the input items the adapter reads.
type inputItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// function_call and function_call_output
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
	// reasoning
	Summary          []summaryText `json:"summary"`
	EncryptedContent string        `json:"encrypted_content"`
}

type summaryText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// item reads one input item into the messages.
func (d *decoder) item(param string, raw json.RawMessage) error {
	var it inputItem
	if err := decodeInto(param, raw, &it); err != nil {
		return err
	}
	switch it.Type {
	case "message", "":
		if it.Role == "" {
			return &protocol.BadRequest{Param: param + ".role", Err: errors.New("is required")}
		}
		return d.message(param, &it)
	case "function_call":
		if it.CallID == "" || it.Name == "" {
			return &protocol.BadRequest{Param: param, Err: errors.New("a function_call needs call_id and name")}
		}
		d.callNames[it.CallID] = it.Name
		d.appendAssistant(protocol.Part{Type: protocol.PartToolCall, ID: it.CallID, Name: it.Name, Arguments: it.Arguments})
	case "function_call_output":
		if it.CallID == "" {
			return &protocol.BadRequest{Param: param + ".call_id", Err: errors.New("is required")}
		}
		content, err := d.toolOutput(param+".output", it.Output)
		if err != nil {
			return err
		}
		name := it.Name
		if name == "" {
			name = d.callNames[it.CallID]
		}
		d.appendToolResult(protocol.Part{Type: protocol.PartToolResult, ID: it.CallID, Name: name, Content: content})
	case "reasoning":
		d.reasoningItem(&it)
	default:
		d.unknown(fmt.Sprintf("%s (%s)", param, it.Type))
	}
	return nil
}

// message reads a message item of any role.
func (d *decoder) message(param string, it *inputItem) error {
	var role protocol.Role
	switch it.Role {
	case "user":
		role = protocol.RoleUser
	case "assistant":
		role = protocol.RoleAssistant
	case "system", "developer":
		parts, err := d.content(param+".content", it.Content)
		if err != nil {
			return err
		}
		for i, p := range parts {
			if p.Type != protocol.PartText {
				return &protocol.BadRequest{Param: fmt.Sprintf("%s.content[%d]", param, i), Err: fmt.Errorf("a %s message takes only text", it.Role)}
			}
		}
		d.req.System = append(d.req.System, parts...)
		return nil
	default:
		return &protocol.BadRequest{Param: param + ".role", Err: fmt.Errorf("unknown role %q", it.Role)}
	}
	parts, err := d.content(param+".content", it.Content)
	if err != nil {
		return err
	}
	if role == protocol.RoleAssistant {
		for _, p := range parts {
			d.appendAssistant(p)
		}
		return nil
	}
	d.req.Messages = append(d.req.Messages, protocol.Message{Role: role, Parts: parts})
	return nil
}

// reasoningItem reads a reasoning item into a thinking part of the
// assistant's turn.
func (d *decoder) reasoningItem(it *inputItem) {
	if data, ok := strings.CutPrefix(it.EncryptedContent, redactedPrefix); ok {
		d.appendAssistant(protocol.Part{Type: protocol.PartRedactedThinking, Data: data})
		return
	}
	texts := make([]string, 0, len(it.Summary))
	for _, s := range it.Summary {
		if s.Text != "" {
			texts = append(texts, s.Text)
		}
	}
	if len(texts) == 0 && it.EncryptedContent == "" {
		return
	}
	d.appendAssistant(protocol.Part{Type: protocol.PartThinking, Text: strings.Join(texts, "\n\n"), Signature: it.EncryptedContent})
}

// appendAssistant adds p to the assistant turn in progress, or opens one.
func (d *decoder) appendAssistant(p protocol.Part) {
	msgs := d.req.Messages
	if n := len(msgs); n > 0 && msgs[n-1].Role == protocol.RoleAssistant {
		msgs[n-1].Parts = append(msgs[n-1].Parts, p)
		return
	}
	d.req.Messages = append(msgs, protocol.Message{Role: protocol.RoleAssistant, Parts: []protocol.Part{p}})
}

// appendToolResult adds p to the user message of tool results in progress,
// or opens one.
func (d *decoder) appendToolResult(p protocol.Part) {
	msgs := d.req.Messages
	if n := len(msgs); n > 0 && msgs[n-1].Role == protocol.RoleUser && onlyToolResults(msgs[n-1].Parts) {
		msgs[n-1].Parts = append(msgs[n-1].Parts, p)
		return
	}
	d.req.Messages = append(msgs, protocol.Message{Role: protocol.RoleUser, Parts: []protocol.Part{p}})
}

func onlyToolResults(parts []protocol.Part) bool {
	for _, p := range parts {
		if p.Type != protocol.PartToolResult {
			return false
		}
	}
	return len(parts) > 0
}

// toolOutput reads a function_call_output's output: a string or parts.
func (d *decoder) toolOutput(param string, v json.RawMessage) ([]protocol.Part, error) {
	if len(v) == 0 || isNull(v) {
		return nil, &protocol.BadRequest{Param: param, Err: errors.New("is required")}
	}
	return d.content(param, v)
}

// contentPart is the union of the content parts the adapter reads.
type contentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL string `json:"image_url"`
	FileID   string `json:"file_id"`
	FileData string `json:"file_data"`
	FileURL  string `json:"file_url"`
	Audio    *struct {
		Data   string `json:"data"`
		Format string `json:"format"`
	} `json:"input_audio"`
	Breakpoint *struct {
		TTL string `json:"ttl"`
	} `json:"prompt_cache_breakpoint"`
}

// content reads message content: a string or a list of parts.
func (d *decoder) content(param string, v json.RawMessage) ([]protocol.Part, error) {
	if len(v) == 0 || isNull(v) {
		return nil, &protocol.BadRequest{Param: param, Err: errors.New("is required")}
	}
	if v[0] == '"' {
		var s string
		if err := decodeInto(param, v, &s); err != nil {
			return nil, err
		}
		return []protocol.Part{{Type: protocol.PartText, Text: s}}, nil
	}
	var raw []contentPart
	if err := decodeInto(param, v, &raw); err != nil {
		return nil, err
	}
	parts := make([]protocol.Part, 0, len(raw))
	for i := range raw {
		cp := &raw[i]
		p, ok, err := d.contentPart(fmt.Sprintf("%s[%d]", param, i), cp)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if cp.Breakpoint != nil {
			p.Cache = &protocol.CacheControl{}
			if cp.Breakpoint.TTL == "12h" {
				p.Cache.TTL = "1h"
			}
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// contentPart reads one content part; ok is false for a part recorded in
// Unknown instead.
func (d *decoder) contentPart(param string, cp *contentPart) (p protocol.Part, ok bool, err error) {
	switch cp.Type {
	case "input_text", "output_text", "text":
		return protocol.Part{Type: protocol.PartText, Text: cp.Text}, true, nil
	case "refusal":
		return protocol.Part{Type: protocol.PartText, Text: cp.Refusal}, true, nil
	case "input_image":
		if cp.ImageURL == "" {
			d.unknown(param + " (input_image file_id)")
			return p, false, nil
		}
		p = protocol.Part{Type: protocol.PartImage}
		if strings.HasPrefix(cp.ImageURL, "data:") {
			p.MediaType, p.Data, err = parseDataURL(param+".image_url", cp.ImageURL)
			return p, err == nil, err
		}
		p.URL = cp.ImageURL
		return p, true, nil
	case "input_file":
		if cp.FileData == "" {
			kind := "file_id"
			if cp.FileURL != "" {
				kind = "file_url"
			}
			d.unknown(param + " (input_file " + kind + ")")
			return p, false, nil
		}
		p = protocol.Part{Type: protocol.PartDocument, MediaType: "application/pdf", Data: cp.FileData}
		if strings.HasPrefix(cp.FileData, "data:") {
			p.MediaType, p.Data, err = parseDataURL(param+".file_data", cp.FileData)
		}
		return p, err == nil, err
	case "input_audio":
		if cp.Audio == nil || cp.Audio.Data == "" {
			return p, false, &protocol.BadRequest{Param: param + ".input_audio", Err: errors.New("needs data")}
		}
		return protocol.Part{Type: protocol.PartAudio, MediaType: "audio/" + cp.Audio.Format, Data: cp.Audio.Data}, true, nil
	}
	d.unknown(fmt.Sprintf("%s (%s)", param, cp.Type))
	return p, false, nil
}

// parseDataURL splits a base64 data URL into its media type and data.
func parseDataURL(param, u string) (mediaType, data string, err error) {
	meta, data, ok := strings.Cut(strings.TrimPrefix(u, "data:"), ",")
	mediaType, isBase64 := strings.CutSuffix(meta, ";base64")
	if !ok || !isBase64 || mediaType == "" {
		return "", "", &protocol.BadRequest{Param: param, Err: errors.New("a data URL must be data:<media type>;base64,<data>")}
	}
	return mediaType, data, nil
}

// tool is the union of the tools a request may list.
type tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	Strict      *bool           `json:"strict"`
}

func (d *decoder) tools(v json.RawMessage) error {
	var tools []tool
	if err := decodeInto("tools", v, &tools); err != nil {
		return err
	}
	for i, t := range tools {
		if t.Type != "function" {
			d.unknown(fmt.Sprintf("tools[%d] (%s)", i, t.Type))
			continue
		}
		if t.Name == "" {
			return &protocol.BadRequest{Param: fmt.Sprintf("tools[%d].name", i), Err: errors.New("is required")}
		}
		out := protocol.Tool{Name: t.Name, Description: t.Description, Strict: t.Strict != nil && *t.Strict}
		if len(t.Parameters) > 0 && !isNull(t.Parameters) {
			out.Parameters = t.Parameters
		}
		d.req.Tools = append(d.req.Tools, out)
	}
	return nil
}

func (d *decoder) toolChoice(v json.RawMessage) error {
	tc := &d.req.ToolChoice
	tc.Set = true
	if v[0] == '"' {
		var mode string
		if err := decodeInto("tool_choice", v, &mode); err != nil {
			return err
		}
		switch mode {
		case "auto":
			tc.Mode = protocol.ToolAuto
		case "none":
			tc.Mode = protocol.ToolNone
		case "required":
			tc.Mode = protocol.ToolRequired
		default:
			return &protocol.BadRequest{Param: "tool_choice", Err: fmt.Errorf("unknown mode %q", mode)}
		}
		return nil
	}
	var obj struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := decodeInto("tool_choice", v, &obj); err != nil {
		return err
	}
	if obj.Type != "function" {
		d.unknown("tool_choice (" + obj.Type + ")")
		return nil
	}
	if obj.Name == "" {
		return &protocol.BadRequest{Param: "tool_choice.name", Err: errors.New("is required")}
	}
	tc.Mode, tc.Name = protocol.ToolNamed, obj.Name
	return nil
}

// text reads text.format (structured output) and text.verbosity.
func (d *decoder) text(v json.RawMessage) error {
	var t struct {
		Format *struct {
			Type   string          `json:"type"`
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
			Strict *bool           `json:"strict"`
		} `json:"format"`
		Verbosity string `json:"verbosity"`
	}
	if err := decodeInto("text", v, &t); err != nil {
		return err
	}
	if t.Verbosity != "" && t.Verbosity != "medium" {
		d.unknown("text.verbosity")
	}
	if t.Format == nil {
		return nil
	}
	switch f := t.Format; f.Type {
	case "text":
	case "json_object":
		d.req.ResponseFormat = &protocol.ResponseFormat{}
	case "json_schema":
		if len(f.Schema) == 0 || isNull(f.Schema) {
			return &protocol.BadRequest{Param: "text.format.schema", Err: errors.New("is required")}
		}
		d.req.ResponseFormat = &protocol.ResponseFormat{Name: f.Name, Schema: f.Schema, Strict: f.Strict != nil && *f.Strict}
	default:
		return &protocol.BadRequest{Param: "text.format.type", Err: fmt.Errorf("unknown format %q", f.Type)}
	}
	return nil
}

func (d *decoder) reasoning(v json.RawMessage) error {
	var r struct {
		Effort string `json:"effort"`
	}
	if err := decodeInto("reasoning", v, &r); err != nil {
		return err
	}
	switch r.Effort {
	case "":
	case "none":
		d.req.Reasoning = &protocol.Reasoning{Disabled: true}
	case "minimal", "low", "medium", "high":
		d.req.Reasoning = &protocol.Reasoning{Effort: r.Effort}
	case "xhigh":
		d.req.Reasoning = &protocol.Reasoning{Effort: "high"}
	default:
		return &protocol.BadRequest{Param: "reasoning.effort", Err: fmt.Errorf("unknown effort %q", r.Effort)}
	}
	return nil
}

// decodeInto unmarshals v into dst, naming param in the error.
func decodeInto(param string, v json.RawMessage, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return &protocol.BadRequest{Param: param, Err: fmt.Errorf("malformed: %w", err)}
	}
	return nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }
