package cohere

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// chatMembers are the members of a chat request this adapter knows; the
// ones that cannot be translated are checked by unknownChat.
var chatMembers = []string{
	"model", "messages", "stream", "tools", "strict_tools", "tool_choice",
	"response_format", "max_tokens", "stop_sequences", "temperature", "seed",
	"frequency_penalty", "presence_penalty", "k", "p", "thinking", "documents",
	"logprobs", "safety_mode", "citation_options", "priority",
}

// embedRequestIn is a caller's POST /v2/embed body as far as it is read.
type embedRequestIn struct {
	Model           string            `json:"model"`
	Texts           []string          `json:"texts"`
	InputType       string            `json:"input_type"`
	EmbeddingTypes  []string          `json:"embedding_types"`
	OutputDimension int64             `json:"output_dimension"`
	Truncate        string            `json:"truncate"`
	MaxTokens       int64             `json:"max_tokens"`
	Images          []json.RawMessage `json:"images"`
	Inputs          []json.RawMessage `json:"inputs"`
}

var embedMembers = []string{
	"model", "texts", "input_type", "embedding_types", "output_dimension",
	"truncate", "max_tokens", "images", "inputs", "priority",
}

// DecodeRequest reads a Cohere caller's chat (OpGenerate) or embed
// (OpEmbed) body.
func (chat) DecodeRequest(op protocol.Op, body []byte) (*protocol.Request, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, &protocol.BadRequest{Err: errors.New("the body must be a JSON object")}
	}
	switch op {
	case protocol.OpGenerate:
		var in chatRequest
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, badJSON(err)
		}
		req, err := decodeChat(&in)
		if err != nil {
			return nil, err
		}
		req.Unknown = unknownMembers(members, chatMembers, untranslatableChat(&in))
		return req, nil
	case protocol.OpEmbed:
		var in embedRequestIn
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, badJSON(err)
		}
		req := &protocol.Request{
			Op:         protocol.OpEmbed,
			Model:      in.Model,
			Inputs:     in.Texts,
			InputType:  in.InputType,
			Dimensions: in.OutputDimension,
		}
		req.Unknown = unknownMembers(members, embedMembers, untranslatableEmbed(&in))
		return req, nil
	}
	return nil, &protocol.BadRequest{Err: fmt.Errorf("operation %d is not part of Cohere's API", op)}
}

// badJSON names the member a decoding error is about.
func badJSON(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &protocol.BadRequest{Param: te.Field, Err: fmt.Errorf("must be of type %s, not %s", te.Type, te.Value)}
	}
	return &protocol.BadRequest{Err: err}
}

// unknownMembers lists, sorted, the members not in known, plus those in
// untranslatable.
func unknownMembers(members map[string]json.RawMessage, known, untranslatable []string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(members)) {
		if !slices.Contains(known, name) || slices.Contains(untranslatable, name) {
			out = append(out, name)
		}
	}
	return out
}

// untranslatableChat lists the known chat members whose values have no
// counterpart in other providers and change the answer.
func untranslatableChat(in *chatRequest) []string {
	var out []string
	if len(in.Documents) > 0 {
		out = append(out, "documents")
	}
	if in.Logprobs {
		out = append(out, "logprobs")
	}
	if in.SafetyMode != "" && in.SafetyMode != "CONTEXTUAL" {
		out = append(out, "safety_mode")
	}
	return out
}

// untranslatableEmbed lists the known embed members whose values other
// providers cannot honour: other embedding types, image inputs, input
// truncation other than at the end.
func untranslatableEmbed(in *embedRequestIn) []string {
	var out []string
	for _, t := range in.EmbeddingTypes {
		if t != "float" {
			out = append(out, "embedding_types")
			break
		}
	}
	if len(in.Images) > 0 {
		out = append(out, "images")
	}
	if len(in.Inputs) > 0 {
		out = append(out, "inputs")
	}
	if in.MaxTokens > 0 {
		out = append(out, "max_tokens")
	}
	if in.Truncate == "START" {
		out = append(out, "truncate")
	}
	return out
}

// decodeChat is a chat request in the internal form.
func decodeChat(in *chatRequest) (*protocol.Request, error) {
	req := &protocol.Request{
		Op:               protocol.OpGenerate,
		Model:            in.Model,
		Stream:           in.Stream,
		MaxTokens:        in.MaxTokens,
		Temperature:      in.Temperature,
		TopP:             in.P,
		TopK:             in.K,
		Seed:             in.Seed,
		FrequencyPenalty: in.FrequencyPenalty,
		PresencePenalty:  in.PresencePenalty,
		Stop:             in.StopSequences,
	}
	if err := decodeMessages(req, in.Messages); err != nil {
		return nil, err
	}
	for i, t := range in.Tools {
		if t.Function.Name == "" {
			return nil, &protocol.BadRequest{Param: fmt.Sprintf("tools[%d].function.name", i), Err: errors.New("is required")}
		}
		params := t.Function.Parameters
		if string(params) == "null" {
			params = nil
		}
		req.Tools = append(req.Tools, protocol.Tool{
			Name:        t.Function.Name,
			Description: t.Function.Description,
			Parameters:  params,
			Strict:      in.StrictTools,
		})
	}
	switch strings.ToUpper(in.ToolChoice) {
	case "":
	case "AUTO":
		req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolAuto, Set: true}
	case "REQUIRED":
		req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolRequired, Set: true}
	case "NONE":
		req.ToolChoice = protocol.ToolChoice{Mode: protocol.ToolNone, Set: true}
	default:
		return nil, &protocol.BadRequest{Param: "tool_choice", Err: fmt.Errorf("must be REQUIRED or NONE, not %q", in.ToolChoice)}
	}
	if f := in.ResponseFormat; f != nil {
		switch f.Type {
		case "text", "":
		case "json_object":
			schema := f.JSONSchema
			if string(schema) == "null" {
				schema = nil
			}
			req.ResponseFormat = &protocol.ResponseFormat{Schema: schema}
		default:
			return nil, &protocol.BadRequest{Param: "response_format.type", Err: fmt.Errorf("must be text or json_object, not %q", f.Type)}
		}
	}
	if t := in.Thinking; t != nil {
		switch t.Type {
		case "enabled", "":
			req.Reasoning = &protocol.Reasoning{BudgetTokens: t.TokenBudget}
		case "disabled":
			req.Reasoning = &protocol.Reasoning{Disabled: true}
		default:
			return nil, &protocol.BadRequest{Param: "thinking.type", Err: fmt.Errorf("must be enabled or disabled, not %q", t.Type)}
		}
	}
	return req, nil
}

// decodeMessages reads the conversation into req: system messages into
// req.System, tool messages folded into user messages of tool results.
func decodeMessages(req *protocol.Request, msgs []message) error {
	callNames := map[string]string{} // tool call ID → tool name
	lastTool := false                // the last message appended holds tool results
	for i, m := range msgs {
		param := fmt.Sprintf("messages[%d]", i)
		items, err := readContent(m.Content, param+".content")
		if err != nil {
			return err
		}
		isTool := false
		switch m.Role {
		case "system":
			parts, err := contentParts(items, param, "text")
			if err != nil {
				return err
			}
			req.System = append(req.System, parts...)
		case "user":
			parts, err := contentParts(items, param, "text", "image_url", "document")
			if err != nil {
				return err
			}
			req.Messages = append(req.Messages, protocol.Message{Role: protocol.RoleUser, Parts: parts})
		case "assistant":
			parts, err := assistantParts(m, items, param, callNames)
			if err != nil {
				return err
			}
			req.Messages = append(req.Messages, protocol.Message{Role: protocol.RoleAssistant, Parts: parts})
		case "tool":
			if m.ToolCallID == "" {
				return &protocol.BadRequest{Param: param + ".tool_call_id", Err: errors.New("is required")}
			}
			content, err := contentParts(items, param, "text", "document")
			if err != nil {
				return err
			}
			result := protocol.Part{Type: protocol.PartToolResult, ID: m.ToolCallID, Name: callNames[m.ToolCallID], Content: content}
			if lastTool {
				last := &req.Messages[len(req.Messages)-1]
				last.Parts = append(last.Parts, result)
			} else {
				req.Messages = append(req.Messages, protocol.Message{Role: protocol.RoleUser, Parts: []protocol.Part{result}})
			}
			isTool = true
		default:
			return &protocol.BadRequest{Param: param + ".role", Err: fmt.Errorf("must be system, user, assistant or tool, not %q", m.Role)}
		}
		lastTool = isTool
	}
	return nil
}

// assistantParts is an assistant turn: its content, then its tool plan as
// text, then its tool calls, whose names are noted in callNames.
func assistantParts(m message, items []content, param string, callNames map[string]string) ([]protocol.Part, error) {
	parts, err := contentParts(items, param, "text", "thinking")
	if err != nil {
		return nil, err
	}
	if m.ToolPlan != "" {
		parts = append(parts, protocol.Part{Type: protocol.PartText, Text: m.ToolPlan})
	}
	for j, c := range m.ToolCalls {
		if c.ID == "" {
			return nil, &protocol.BadRequest{Param: fmt.Sprintf("%s.tool_calls[%d].id", param, j), Err: errors.New("is required")}
		}
		callNames[c.ID] = c.Function.Name
		parts = append(parts, protocol.Part{Type: protocol.PartToolCall, ID: c.ID, Name: c.Function.Name, Arguments: c.Function.Arguments})
	}
	return parts, nil
}

// readContent reads a message's content: a string (one text item) or a
// list of items; absent, null and "" are no content.
func readContent(raw json.RawMessage, param string) ([]content, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, &protocol.BadRequest{Param: param, Err: err}
		}
		if s == "" {
			return nil, nil
		}
		return []content{{Type: "text", Text: &s}}, nil
	case '[':
		var items []content
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, badJSON(err)
		}
		return items, nil
	}
	return nil, &protocol.BadRequest{Param: param, Err: errors.New("must be a string or a list of content items")}
}

// contentParts turns content items of the allowed types into parts.
func contentParts(items []content, param string, allowed ...string) ([]protocol.Part, error) {
	parts := make([]protocol.Part, 0, len(items))
	for j, c := range items {
		p := fmt.Sprintf("%s.content[%d]", param, j)
		if !slices.Contains(allowed, c.Type) {
			return nil, &protocol.BadRequest{Param: p + ".type", Err: fmt.Errorf("must be one of %s, not %q", strings.Join(allowed, ", "), c.Type)}
		}
		part, err := contentPart(c, p)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
	}
	return parts, nil
}

// contentPart is one content item as a part. A document becomes text
// holding its JSON, the form every provider can read.
func contentPart(c content, param string) (protocol.Part, error) {
	switch c.Type {
	case "text":
		if c.Text == nil {
			return protocol.Part{}, &protocol.BadRequest{Param: param + ".text", Err: errors.New("is required")}
		}
		return protocol.Part{Type: protocol.PartText, Text: *c.Text}, nil
	case "thinking":
		if c.Thinking == nil {
			return protocol.Part{}, &protocol.BadRequest{Param: param + ".thinking", Err: errors.New("is required")}
		}
		return protocol.Part{Type: protocol.PartThinking, Text: *c.Thinking}, nil
	case "image_url":
		if c.ImageURL == nil || c.ImageURL.URL == "" {
			return protocol.Part{}, &protocol.BadRequest{Param: param + ".image_url.url", Err: errors.New("is required")}
		}
		return imagePart(c.ImageURL.URL), nil
	case "document":
		if c.Document == nil || len(c.Document.Data) == 0 || c.Document.Data[0] != '{' {
			return protocol.Part{}, &protocol.BadRequest{Param: param + ".document.data", Err: errors.New("must be an object")}
		}
		text, err := json.Marshal(c.Document)
		if err != nil {
			return protocol.Part{}, &protocol.BadRequest{Param: param + ".document", Err: err}
		}
		return protocol.Part{Type: protocol.PartText, Text: string(text)}, nil
	}
	return protocol.Part{}, &protocol.BadRequest{Param: param + ".type", Err: fmt.Errorf("unknown content type %q", c.Type)}
}

// imagePart is an image by URL, or inline when the URL is a base64 data
// URL.
func imagePart(url string) protocol.Part {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok {
			if mediaType, ok := strings.CutSuffix(meta, ";base64"); ok {
				return protocol.Part{Type: protocol.PartImage, MediaType: mediaType, Data: data}
			}
		}
	}
	return protocol.Part{Type: protocol.PartImage, URL: url}
}
