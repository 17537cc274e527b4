package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// requestDecoder reads one Chat Completions request body.
type requestDecoder struct {
	req *protocol.Request
	// toolNames maps a tool call id to its function name, to name the
	// tool messages that answer it.
	toolNames map[string]string
	// afterTool is true while the last message came from tool messages, so
	// that the next tool or user message joins it.
	afterTool                      bool
	maxTokens, maxCompletionTokens int64
}

// chatMember decodes one top-level member of a request.
type chatMember func(d *requestDecoder, v json.RawMessage) error

// chatMembers are the top-level members the decoder knows. A member it
// does not know goes to Request.Unknown.
var chatMembers = map[string]chatMember{
	"model":                 func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.req.Model) },
	"messages":              (*requestDecoder).messages,
	"stream":                func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.req.Stream) },
	"stream_options":        (*requestDecoder).streamOptions,
	"tools":                 (*requestDecoder).tools,
	"tool_choice":           (*requestDecoder).toolChoice,
	"parallel_tool_calls":   func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.ParallelToolCalls) },
	"max_tokens":            func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.maxTokens) },
	"max_completion_tokens": func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.maxCompletionTokens) },
	"temperature":           func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.Temperature) },
	"top_p":                 func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.TopP) },
	"seed":                  func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.Seed) },
	"frequency_penalty":     func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.FrequencyPenalty) },
	"presence_penalty":      func(d *requestDecoder, v json.RawMessage) error { return into(v, &d.req.PresencePenalty) },
	"stop":                  (*requestDecoder).stop,
	"response_format":       (*requestDecoder).responseFormat,
	"reasoning_effort":      (*requestDecoder).reasoningEffort,
	"n":                     func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.req.N) },
	"user":                  func(d *requestDecoder, v json.RawMessage) error { return json.Unmarshal(v, &d.req.User) },
	"logprobs":              (*requestDecoder).logprobs,
	"modalities":            (*requestDecoder).modalities,
	// Known, but without meaning in translation: they do not change the
	// answer.
	"store":                  ignore,
	"metadata":               ignore,
	"service_tier":           ignore,
	"prompt_cache_key":       ignore,
	"prompt_cache_retention": ignore,
	"safety_identifier":      ignore,
}

func ignore(*requestDecoder, json.RawMessage) error { return nil }

// into decodes v into a newly allocated value that *p then points to.
func into[T any](v json.RawMessage, p **T) error {
	var x T
	if err := json.Unmarshal(v, &x); err != nil {
		return err
	}
	*p = &x
	return nil
}

// DecodeRequest reads a Chat Completions request (OpGenerate) or, for
// OpEmbed, an embeddings request.
func (chatAdapter) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	switch op {
	case protocol.OpGenerate:
	case protocol.OpEmbed:
		return Embeddings.DecodeRequest(op, body)
	default:
		return nil, &protocol.BadRequest{Err: errors.New("the OpenAI API has no token counting endpoint")}
	}
	members, err := objectMembers(body)
	if err != nil {
		return nil, err
	}
	d := requestDecoder{req: &protocol.Request{Op: op}}
	for _, name := range protocol.SortedMembers(members) {
		v := members[name]
		if isNull(v) {
			continue
		}
		decode, known := chatMembers[name]
		if !known {
			d.unknown(name)
			continue
		}
		if err := decode(&d, v); err != nil {
			var bad *protocol.BadRequest
			if errors.As(err, &bad) {
				return nil, err
			}
			return nil, &protocol.BadRequest{Param: name, Err: err}
		}
	}
	if _, ok := members["messages"]; !ok {
		return nil, &protocol.BadRequest{Param: "messages", Err: errors.New("is required")}
	}
	d.req.MaxTokens = d.maxTokens
	if d.maxCompletionTokens != 0 {
		d.req.MaxTokens = d.maxCompletionTokens
	}
	return d.req, nil
}

// objectMembers splits a request body into its top-level members.
func objectMembers(body []byte) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, &protocol.BadRequest{Err: fmt.Errorf("the request body is not a JSON object: %w", err)}
	}
	if members == nil {
		return nil, &protocol.BadRequest{Err: errors.New("the request body is not a JSON object")}
	}
	return members, nil
}

// unknown lists what cannot be translated, once.
func (d *requestDecoder) unknown(name string) {
	if !slices.Contains(d.req.Unknown, name) {
		d.req.Unknown = append(d.req.Unknown, name)
	}
}

func (d *requestDecoder) streamOptions(v json.RawMessage) error {
	var o struct {
		IncludeUsage bool `json:"include_usage"`
	}
	if err := json.Unmarshal(v, &o); err != nil {
		return err
	}
	d.req.IncludeStreamUsage = o.IncludeUsage
	return nil
}

// logprobs false asks for nothing; true cannot be translated.
func (d *requestDecoder) logprobs(v json.RawMessage) error {
	var on bool
	if err := json.Unmarshal(v, &on); err != nil {
		return err
	}
	if on {
		d.unknown("logprobs")
	}
	return nil
}

// modalities ["text"] is the default; audio output cannot be translated.
func (d *requestDecoder) modalities(v json.RawMessage) error {
	var m []string
	if err := json.Unmarshal(v, &m); err != nil {
		return err
	}
	for _, x := range m {
		if x != "text" {
			d.unknown("modalities")
		}
	}
	return nil
}

func (d *requestDecoder) stop(v json.RawMessage) error {
	var one string
	if json.Unmarshal(v, &one) == nil {
		if one != "" {
			d.req.Stop = []string{one}
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(v, &many); err != nil {
		return errors.New("must be a string or an array of strings")
	}
	d.req.Stop = slices.DeleteFunc(many, func(s string) bool { return s == "" })
	return nil
}

func (d *requestDecoder) reasoningEffort(v json.RawMessage) error {
	var effort string
	if err := json.Unmarshal(v, &effort); err != nil {
		return err
	}
	if effort == "none" {
		d.req.Reasoning = &protocol.Reasoning{Disabled: true}
	} else if effort != "" {
		d.req.Reasoning = &protocol.Reasoning{Effort: effort}
	}
	return nil
}

func (d *requestDecoder) responseFormat(v json.RawMessage) error {
	var f wireResponseFormat
	if err := json.Unmarshal(v, &f); err != nil {
		return err
	}
	switch f.Type {
	case "text":
	case "json_object":
		d.req.ResponseFormat = &protocol.ResponseFormat{}
	case "json_schema":
		if f.JSONSchema == nil {
			return &protocol.BadRequest{Param: "response_format.json_schema", Err: errors.New("is required for type json_schema")}
		}
		rf := &protocol.ResponseFormat{Name: f.JSONSchema.Name, Schema: f.JSONSchema.Schema}
		if isNull(rf.Schema) {
			rf.Schema = json.RawMessage(`{}`)
		}
		if f.JSONSchema.Strict != nil {
			rf.Strict = *f.JSONSchema.Strict
		}
		d.req.ResponseFormat = rf
	default:
		return &protocol.BadRequest{Param: "response_format.type", Err: fmt.Errorf("unknown type %q", f.Type)}
	}
	return nil
}

func (d *requestDecoder) tools(v json.RawMessage) error {
	var tools []wireTool
	if err := json.Unmarshal(v, &tools); err != nil {
		return err
	}
	for i, t := range tools {
		if t.Type != "function" {
			d.unknown(fmt.Sprintf("tools[%d] (%s)", i, t.Type))
			continue
		}
		if t.Function == nil || t.Function.Name == "" {
			return &protocol.BadRequest{Param: fmt.Sprintf("tools[%d].function.name", i), Err: errors.New("is required")}
		}
		tool := protocol.Tool{Name: t.Function.Name, Description: t.Function.Description}
		if !isNull(t.Function.Parameters) {
			tool.Parameters = t.Function.Parameters
		}
		if t.Function.Strict != nil {
			tool.Strict = *t.Function.Strict
		}
		d.req.Tools = append(d.req.Tools, tool)
	}
	return nil
}

func (d *requestDecoder) toolChoice(v json.RawMessage) error {
	var mode string
	if json.Unmarshal(v, &mode) == nil {
		switch mode {
		case "auto":
			d.req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolAuto, Set: true}
		case "none":
			d.req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}
		case "required":
			d.req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true}
		default:
			return fmt.Errorf("unknown mode %q", mode)
		}
		return nil
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(v, &named); err != nil {
		return errors.New("must be a string or an object")
	}
	if named.Type != "function" {
		d.unknown(fmt.Sprintf("tool_choice (%s)", named.Type))
		return nil
	}
	if named.Function.Name == "" {
		return &protocol.BadRequest{Param: "tool_choice.function.name", Err: errors.New("is required")}
	}
	d.req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolNamed, Name: named.Function.Name, Set: true}
	return nil
}

func (d *requestDecoder) messages(v json.RawMessage) error {
	var msgs []json.RawMessage
	if err := json.Unmarshal(v, &msgs); err != nil {
		return errors.New("must be an array of messages")
	}
	for i, raw := range msgs {
		path := fmt.Sprintf("messages[%d]", i)
		var m wireMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return &protocol.BadRequest{Param: path, Err: err}
		}
		if err := d.message(path, &m); err != nil {
			return err
		}
	}
	return nil
}

func (d *requestDecoder) message(path string, m *wireMessage) error {
	switch m.Role {
	case "system", "developer":
		parts, err := textParts(path+".content", m.Content)
		if err != nil {
			return err
		}
		d.req.System = append(d.req.System, parts...)
	case "user":
		parts, err := d.userParts(path+".content", m.Content)
		if err != nil {
			return err
		}
		if d.afterTool {
			last := &d.req.Messages[len(d.req.Messages)-1]
			last.Parts = append(last.Parts, parts...)
		} else {
			d.req.Messages = append(d.req.Messages, protocol.Message{Role: protocol.RoleUser, Parts: parts})
		}
		d.afterTool = false
	case "assistant":
		return d.assistant(path, m)
	case "tool":
		return d.tool(path, m)
	case "function":
		d.unknown(path + " (role function)")
	default:
		return &protocol.BadRequest{Param: path + ".role", Err: fmt.Errorf("unknown role %q", m.Role)}
	}
	return nil
}

func (d *requestDecoder) assistant(path string, m *wireMessage) error {
	d.afterTool = false
	var parts []protocol.Part
	if m.ReasoningContent != "" {
		parts = append(parts, protocol.Part{Type: protocol.PartThinking, Text: m.ReasoningContent})
	}
	text, err := assistantText(path+".content", m.Content)
	if err != nil {
		return err
	}
	parts = append(parts, text...)
	if m.Refusal != "" {
		parts = append(parts, protocol.Part{Type: protocol.PartText, Text: m.Refusal})
	}
	for j, c := range m.ToolCalls {
		callPath := fmt.Sprintf("%s.tool_calls[%d]", path, j)
		if c.Type != "" && c.Type != "function" {
			d.unknown(fmt.Sprintf("%s (%s)", callPath, c.Type))
			continue
		}
		if c.ID == "" {
			return &protocol.BadRequest{Param: callPath + ".id", Err: errors.New("is required")}
		}
		if d.toolNames == nil {
			d.toolNames = make(map[string]string)
		}
		d.toolNames[c.ID] = c.Function.Name
		parts = append(parts, protocol.Part{Type: protocol.PartToolCall, ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	if !isNull(m.FunctionCall) {
		d.unknown(path + ".function_call")
	}
	if !isNull(m.Audio) {
		d.unknown(path + ".audio")
	}
	if len(parts) == 0 {
		parts = []protocol.Part{{Type: protocol.PartText}}
	}
	d.req.Messages = append(d.req.Messages, protocol.Message{Role: protocol.RoleAssistant, Parts: parts})
	return nil
}

func (d *requestDecoder) tool(path string, m *wireMessage) error {
	if m.ToolCallID == "" {
		return &protocol.BadRequest{Param: path + ".tool_call_id", Err: errors.New("is required")}
	}
	content, err := textParts(path+".content", m.Content)
	if err != nil {
		return err
	}
	result := protocol.Part{Type: protocol.PartToolResult, ID: m.ToolCallID, Name: d.toolNames[m.ToolCallID], Content: content}
	if d.afterTool {
		last := &d.req.Messages[len(d.req.Messages)-1]
		last.Parts = append(last.Parts, result)
		return nil
	}
	d.req.Messages = append(d.req.Messages, protocol.Message{Role: protocol.RoleUser, Parts: []protocol.Part{result}})
	d.afterTool = true
	return nil
}

// contentParts reads a content member: a string is one text part, an
// array is parts, null is none.
func contentParts(path string, v json.RawMessage) (text *string, parts []wirePart, err error) {
	if isNull(v) {
		return nil, nil, nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return &s, nil, nil
	}
	if err := json.Unmarshal(v, &parts); err != nil {
		return nil, nil, &protocol.BadRequest{Param: path, Err: errors.New("must be a string or an array of content parts")}
	}
	return nil, parts, nil
}

// textParts reads system, developer and tool content: a string or text
// parts.
func textParts(path string, v json.RawMessage) ([]protocol.Part, error) {
	s, parts, err := contentParts(path, v)
	if err != nil {
		return nil, err
	}
	if s != nil {
		return []protocol.Part{{Type: protocol.PartText, Text: *s}}, nil
	}
	out := make([]protocol.Part, 0, len(parts))
	for i, p := range parts {
		if p.Type != "text" {
			return nil, &protocol.BadRequest{Param: fmt.Sprintf("%s[%d].type", path, i), Err: fmt.Errorf("%q is not allowed here; only text", p.Type)}
		}
		out = append(out, protocol.Part{Type: protocol.PartText, Text: p.Text})
	}
	return out, nil
}

// assistantText reads an assistant's content: a string, or text and
// refusal parts. Empty text is left out.
func assistantText(path string, v json.RawMessage) ([]protocol.Part, error) {
	s, parts, err := contentParts(path, v)
	if err != nil {
		return nil, err
	}
	if s != nil {
		if *s == "" {
			return nil, nil
		}
		return []protocol.Part{{Type: protocol.PartText, Text: *s}}, nil
	}
	var out []protocol.Part
	for i, p := range parts {
		text := p.Text
		switch p.Type {
		case "text":
		case "refusal":
			text = p.Refusal
		default:
			return nil, &protocol.BadRequest{Param: fmt.Sprintf("%s[%d].type", path, i), Err: fmt.Errorf("%q is not allowed in an assistant message", p.Type)}
		}
		if text != "" {
			out = append(out, protocol.Part{Type: protocol.PartText, Text: text})
		}
	}
	return out, nil
}

// userParts reads a user message's content.
func (d *requestDecoder) userParts(path string, v json.RawMessage) ([]protocol.Part, error) {
	s, parts, err := contentParts(path, v)
	if err != nil {
		return nil, err
	}
	if s != nil {
		return []protocol.Part{{Type: protocol.PartText, Text: *s}}, nil
	}
	out := make([]protocol.Part, 0, len(parts))
	for i, p := range parts {
		partPath := fmt.Sprintf("%s[%d]", path, i)
		part, ok, err := d.userPart(partPath, &p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, part)
		}
	}
	return out, nil
}

// userPart reads one part of a user message; ok is false for a part that
// went to Request.Unknown.
func (d *requestDecoder) userPart(path string, p *wirePart) (part protocol.Part, ok bool, err error) {
	switch p.Type {
	case "text":
		return protocol.Part{Type: protocol.PartText, Text: p.Text}, true, nil
	case "image_url":
		u, err := imageURL(p.ImageURL)
		if err != nil {
			return part, false, &protocol.BadRequest{Param: path + ".image_url", Err: err}
		}
		if mediaType, data, isData := parseDataURL(u); isData {
			return protocol.Part{Type: protocol.PartImage, MediaType: mediaType, Data: data}, true, nil
		}
		return protocol.Part{Type: protocol.PartImage, URL: u}, true, nil
	case "input_audio":
		if p.InputAudio == nil || p.InputAudio.Data == "" {
			return part, false, &protocol.BadRequest{Param: path + ".input_audio.data", Err: errors.New("is required")}
		}
		return protocol.Part{Type: protocol.PartAudio, Data: p.InputAudio.Data, MediaType: audioMediaType(p.InputAudio.Format)}, true, nil
	case "file":
		if p.File == nil {
			return part, false, &protocol.BadRequest{Param: path + ".file", Err: errors.New("is required")}
		}
		if p.File.FileData == "" {
			// A file_id names a file in OpenAI's storage, which no other
			// provider can read.
			d.unknown(path + ".file.file_id")
			return part, false, nil
		}
		if mediaType, data, isData := parseDataURL(p.File.FileData); isData {
			return protocol.Part{Type: protocol.PartDocument, MediaType: mediaType, Data: data}, true, nil
		}
		return protocol.Part{Type: protocol.PartDocument, MediaType: "application/pdf", Data: p.File.FileData}, true, nil
	}
	return part, false, &protocol.BadRequest{Param: path + ".type", Err: fmt.Errorf("unknown content part type %q", p.Type)}
}

// imageURL reads image_url: an object with url, or (older clients) the
// URL itself.
func imageURL(v json.RawMessage) (string, error) {
	var u wireImageURL
	if err := json.Unmarshal(v, &u); err != nil {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", errors.New("must be an object with a url")
		}
		u.URL = s
	}
	if u.URL == "" {
		return "", errors.New("url is required")
	}
	return u.URL, nil
}

// audioMediaType is the MIME type of an input_audio format.
func audioMediaType(format string) string {
	switch format {
	case "mp3":
		return "audio/mpeg"
	case "":
		return "audio/wav"
	}
	return "audio/" + strings.ToLower(format)
}

// audioFormat is the input_audio format of a MIME type, "" when OpenAI
// takes no such format.
func audioFormat(mediaType string) string {
	switch mediaType {
	case "audio/wav", "audio/x-wav", "audio/wave":
		return "wav"
	case "audio/mpeg", "audio/mp3":
		return "mp3"
	}
	return ""
}
