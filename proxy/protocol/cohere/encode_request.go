package cohere

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/proxy/protocol"
)

// emptyParameters is the schema sent for a tool without parameters:
// Cohere requires one.
var emptyParameters = json.RawMessage(`{"type":"object","properties":{}}`)

// EncodeRequest writes req as a Cohere v2 chat or embed call.
func (chat) EncodeRequest(req *protocol.Request) (protocol.Call, error) {
	switch req.Op {
	case protocol.OpGenerate:
		body, err := encodeChat(req)
		if err != nil {
			return protocol.Call{}, err
		}
		return protocol.Call{Path: chatPath, Body: body}, nil
	case protocol.OpEmbed:
		body, err := encodeEmbed(req)
		if err != nil {
			return protocol.Call{}, err
		}
		return protocol.Call{Path: embedPath, Body: body}, nil
	}
	return protocol.Call{}, &protocol.Unsupported{Param: "count_tokens", Provider: provider, Why: "Cohere's API has no token count for chat requests"}
}

// encodeEmbed is the /v2/embed body of an embedding request.
func encodeEmbed(req *protocol.Request) ([]byte, error) {
	in := embedRequest{
		Model:           req.Model,
		Texts:           req.Inputs,
		InputType:       req.InputType,
		EmbeddingTypes:  []string{"float"},
		OutputDimension: req.Dimensions,
	}
	if in.Texts == nil {
		in.Texts = []string{}
	}
	if in.InputType == "" {
		in.InputType = defaultInputType
	}
	return json.Marshal(in)
}

// encodeChat is the /v2/chat body of a generation request.
func encodeChat(req *protocol.Request) ([]byte, error) {
	if req.N > 1 {
		return nil, &protocol.Unsupported{Param: "n", Provider: provider, Why: "Cohere returns one answer per request; send one request per answer"}
	}
	out := chatRequest{
		Model:            req.Model,
		Stream:           req.Stream,
		MaxTokens:        req.MaxTokens,
		StopSequences:    req.Stop,
		Temperature:      req.Temperature,
		Seed:             req.Seed,
		FrequencyPenalty: req.FrequencyPenalty,
		PresencePenalty:  req.PresencePenalty,
		K:                req.TopK,
		P:                req.TopP,
	}
	var err error
	if out.Messages, err = encodeMessages(req); err != nil {
		return nil, err
	}
	if err := encodeTools(req, &out); err != nil {
		return nil, err
	}
	if f := req.ResponseFormat; f != nil {
		out.ResponseFormat = &responseFormat{Type: "json_object", JSONSchema: f.Schema}
	}
	if r := req.Reasoning; r != nil {
		switch {
		case r.Disabled:
			out.Thinking = &thinking{Type: "disabled"}
		case r.BudgetTokens > 0:
			out.Thinking = &thinking{Type: "enabled", TokenBudget: r.BudgetTokens}
		case r.Effort != "":
			out.Thinking = &thinking{Type: "enabled", TokenBudget: protocol.EffortBudget(r.Effort)}
		default:
			out.Thinking = &thinking{Type: "enabled"}
		}
	}
	if req.ParallelToolCalls != nil {
		req.Omit("parallel_tool_calls")
	}
	if req.User != "" {
		req.Omit("user")
	}
	return json.Marshal(out)
}

// encodeTools writes the tools and tool choice. Cohere's tool_choice is
// REQUIRED or NONE; a named tool is sent as REQUIRED with only that tool
// in tools, which makes the model call it.
func encodeTools(req *protocol.Request, out *chatRequest) error {
	tools := req.Tools
	switch req.ToolChoice.Mode {
	case protocol.ToolNone:
		out.ToolChoice = "NONE"
	case protocol.ToolRequired:
		out.ToolChoice = "REQUIRED"
	case protocol.ToolNamed:
		i := slices.IndexFunc(tools, func(t protocol.Tool) bool { return t.Name == req.ToolChoice.Name })
		if i < 0 {
			return &protocol.BadRequest{Param: "tool_choice", Err: fmt.Errorf("names tool %q, which is not among the tools", req.ToolChoice.Name)}
		}
		tools = tools[i : i+1]
		out.ToolChoice = "REQUIRED"
	}
	for _, t := range tools {
		params := t.Parameters
		if len(params) == 0 {
			params = emptyParameters
		}
		out.Tools = append(out.Tools, tool{Type: "function", Function: toolFunction{Name: t.Name, Description: t.Description, Parameters: params}})
		out.StrictTools = out.StrictTools || t.Strict
		if t.Cache != nil {
			req.Omit("cache_control")
		}
	}
	return nil
}

// encodeMessages writes the system prompt and the turns. A user turn's
// tool results become tool messages, sent before the rest of the turn so
// that they follow the assistant's calls.
func encodeMessages(req *protocol.Request) ([]message, error) {
	msgs := make([]message, 0, len(req.Messages)+1)
	if len(req.System) > 0 {
		items, err := userContent(req, req.System, "system")
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, message{Role: "system", Content: items})
	}
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		if m.Role == protocol.RoleAssistant {
			msg, err := assistantMessage(req, m.Parts, param)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, msg)
			continue
		}
		var rest []protocol.Part
		for j, p := range m.Parts {
			if p.Type != protocol.PartToolResult {
				rest = append(rest, p)
				continue
			}
			msg, err := toolMessage(req, p, fmt.Sprintf("%s.content[%d]", param, j))
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, msg)
		}
		if len(rest) > 0 || len(rest) == len(m.Parts) {
			items, err := userContent(req, rest, param)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, message{Role: "user", Content: items})
		}
	}
	return msgs, nil
}

// userContent is the content of a system or user message: text and
// images. A lone text part is written as a string.
func userContent(req *protocol.Request, parts []protocol.Part, param string) (json.RawMessage, error) {
	if len(parts) == 1 && parts[0].Type == protocol.PartText {
		noteCache(req, parts[0])
		return json.Marshal(parts[0].Text)
	}
	items := make([]content, 0, len(parts))
	for j, p := range parts {
		noteCache(req, p)
		switch p.Type {
		case protocol.PartText:
			items = append(items, textItem(p.Text))
		case protocol.PartImage:
			if param == "system" {
				return nil, unsupportedPart(param, j, p, "Cohere's system messages take text only")
			}
			items = append(items, content{Type: "image_url", ImageURL: &imageURL{URL: imageURLOf(p)}})
		case protocol.PartDocument:
			return nil, unsupportedPart(param, j, p, "Cohere takes documents only as tool results or as top-level RAG documents")
		case protocol.PartAudio:
			return nil, unsupportedPart(param, j, p, "Cohere's chat models take no audio input")
		default:
			return nil, unsupportedPart(param, j, p, "Cohere's user messages take text and images")
		}
	}
	return json.Marshal(items)
}

// assistantMessage is an assistant turn. Text that precedes the turn's
// tool calls is its tool_plan; thinking goes back as thinking content,
// which Cohere takes (its thinking has no signature, so one from another
// provider is left behind); redacted thinking cannot be sent.
func assistantMessage(req *protocol.Request, parts []protocol.Part, param string) (message, error) {
	msg := message{Role: "assistant"}
	firstCall := firstToolCall(parts)
	var items []content
	var plan []string
	for j, p := range parts {
		noteCache(req, p)
		switch p.Type {
		case protocol.PartText:
			if j < firstCall {
				plan = append(plan, p.Text)
			} else {
				items = append(items, textItem(p.Text))
			}
		case protocol.PartThinking:
			items = append(items, content{Type: "thinking", Thinking: &p.Text})
		case protocol.PartRedactedThinking:
			req.Omit("redacted_thinking")
		case protocol.PartToolCall:
			msg.ToolCalls = append(msg.ToolCalls, wireToolCall(p))
		default:
			return message{}, unsupportedPart(param, j, p, "Cohere's assistant messages hold text, thinking and tool calls")
		}
	}
	msg.ToolPlan = strings.Join(plan, "")
	if len(items) > 0 {
		c, err := json.Marshal(items)
		if err != nil {
			return message{}, err
		}
		msg.Content = c
	} else if len(msg.ToolCalls) == 0 && msg.ToolPlan == "" {
		msg.Content = json.RawMessage(`""`)
	}
	return msg, nil
}

// toolMessage is a tool result as a tool message. Its content is text and
// text/plain documents; Cohere has no error flag, so is_error is left out
// (the result's text says what failed).
func toolMessage(req *protocol.Request, p protocol.Part, param string) (message, error) {
	noteCache(req, p)
	if p.IsError {
		req.Omit("is_error")
	}
	items := make([]content, 0, len(p.Content))
	for j, c := range p.Content {
		noteCache(req, c)
		switch c.Type {
		case protocol.PartText:
			items = append(items, textItem(c.Text))
		case protocol.PartDocument:
			doc, err := textDocument(c)
			if err != nil {
				return message{}, unsupportedPart(param, j, c, err.Error())
			}
			items = append(items, content{Type: "document", Document: doc})
		default:
			return message{}, unsupportedPart(param, j, c, "Cohere's tool results hold text and documents")
		}
	}
	var body json.RawMessage
	var err error
	if len(items) == 1 && items[0].Type == "text" {
		body, err = json.Marshal(*items[0].Text)
	} else if len(items) == 0 {
		body = json.RawMessage(`""`)
	} else {
		body, err = json.Marshal(items)
	}
	return message{Role: "tool", ToolCallID: p.ID, Content: body}, err
}

// textDocument is a base64 text/plain document as a Cohere document.
func textDocument(p protocol.Part) (*document, error) {
	if p.URL != "" || !strings.HasPrefix(p.MediaType, "text/plain") {
		return nil, errors.New("Cohere takes documents as text; only inline text/plain documents can be sent")
	}
	text, err := base64.StdEncoding.DecodeString(p.Data)
	if err != nil {
		return nil, fmt.Errorf("the document is not valid base64: %w", err)
	}
	data, err := json.Marshal(map[string]string{"text": string(text)})
	if err != nil {
		return nil, err
	}
	return &document{Data: data}, nil
}

// firstToolCall is the index of the first tool call in parts, -1 when
// there is none: the text before it is the tool plan.
func firstToolCall(parts []protocol.Part) int {
	return slices.IndexFunc(parts, func(p protocol.Part) bool { return p.Type == protocol.PartToolCall })
}

// wireToolCall is a tool call part as Cohere's tool call; arguments ""
// are an empty object.
func wireToolCall(p protocol.Part) toolCall {
	args := p.Arguments
	if args == "" {
		args = "{}"
	}
	return toolCall{ID: p.ID, Type: "function", Function: toolCallFunction{Name: p.Name, Arguments: args}}
}

func textItem(text string) content {
	return content{Type: "text", Text: &text}
}

// imageURLOf is an image part's URL, a data URL when it is inline.
func imageURLOf(p protocol.Part) string {
	if p.URL != "" {
		return p.URL
	}
	return "data:" + p.MediaType + ";base64," + p.Data
}

// noteCache records that a cache mark was left out: Cohere caches
// prompts without marks.
func noteCache(req *protocol.Request, p protocol.Part) {
	if p.Cache != nil {
		req.Omit("cache_control")
	}
}

func unsupportedPart(param string, j int, p protocol.Part, why string) error {
	return &protocol.Unsupported{Param: fmt.Sprintf("%s.content[%d] (%s)", param, j, p.Type), Provider: provider, Why: why}
}
