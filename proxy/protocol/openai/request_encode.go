package openai

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// wireRequest is the request body a provider takes.
type wireRequest struct {
	Model             string       `json:"model"`
	Messages          []outMessage `json:"messages"`
	Tools             []wireTool   `json:"tools,omitempty"`
	ToolChoice        any          `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool        `json:"parallel_tool_calls,omitempty"`
	MaxTokens         int64        `json:"max_tokens,omitempty"`
	// MaxCompletionTokens replaces max_tokens on OpenAI's own API, whose
	// reasoning models refuse max_tokens.
	MaxCompletionTokens int64               `json:"max_completion_tokens,omitempty"`
	Temperature         *float64            `json:"temperature,omitempty"`
	TopP                *float64            `json:"top_p,omitempty"`
	Seed                *int64              `json:"seed,omitempty"`
	FrequencyPenalty    *float64            `json:"frequency_penalty,omitempty"`
	PresencePenalty     *float64            `json:"presence_penalty,omitempty"`
	Stop                []string            `json:"stop,omitempty"`
	ResponseFormat      *wireResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string              `json:"reasoning_effort,omitempty"`
	N                   int64               `json:"n,omitempty"`
	User                string              `json:"user,omitempty"`
	Stream              bool                `json:"stream,omitempty"`
	StreamOptions       *streamOptions      `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// outMessage is a message as written to a provider. Content is a string,
// a slice of parts, or nil (null) for an assistant turn of only tool
// calls.
type outMessage struct {
	Role       string         `json:"role"`
	Content    any            `json:"content"`
	ToolCalls  []wireToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type outTextPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type outImagePart struct {
	Type     string       `json:"type"`
	ImageURL wireImageURL `json:"image_url"`
}

type outAudioPart struct {
	Type       string    `json:"type"`
	InputAudio wireAudio `json:"input_audio"`
}

type outFilePart struct {
	Type string   `json:"type"`
	File wireFile `json:"file"`
}

// openAIProvider is OpenAI's own provider name, whose API differs from
// the compatible hosts' in the output cap's name.
const openAIProvider = "openai"

// EncodeRequest writes req as a Chat Completions request, or an embeddings
// request for OpEmbed.
func (chatAdapter) EncodeRequest(req *protocol.Request) (protocol.Call, error) {
	switch req.Op {
	case protocol.OpGenerate:
	case protocol.OpEmbed:
		return Embeddings.EncodeRequest(req)
	default:
		return protocol.Call{}, unsupported("count_tokens", "OpenAI-compatible APIs have no token counting endpoint")
	}
	e := requestEncoder{req: req}
	out := wireRequest{
		Model:             req.Model,
		ParallelToolCalls: req.ParallelToolCalls,
		MaxTokens:         req.MaxTokens,
		Temperature:       req.Temperature,
		TopP:              req.TopP,
		Seed:              req.Seed,
		FrequencyPenalty:  req.FrequencyPenalty,
		PresencePenalty:   req.PresencePenalty,
		Stop:              req.Stop,
		User:              req.User,
		Stream:            req.Stream,
	}
	if req.Provider == openAIProvider {
		// OpenAI's own API takes max_completion_tokens from every model and
		// max_tokens not from its reasoning models; most compatible hosts
		// know only max_tokens.
		out.MaxTokens, out.MaxCompletionTokens = 0, req.MaxTokens
	}
	var err error
	if out.Messages, err = e.messages(); err != nil {
		return protocol.Call{}, err
	}
	out.Tools = e.tools()
	out.ToolChoice = toolChoice(req.ToolChoice)
	out.ResponseFormat = responseFormat(req.ResponseFormat)
	out.ReasoningEffort = reasoningEffort(req.Reasoning)
	if req.N > 1 {
		// The internal form carries one answer: the others would be billed
		// and never reach the caller.
		return protocol.Call{}, unsupported("n", "the gateway translates one answer per request, and the provider would bill every choice; ask for one answer")
	}
	if req.TopK != nil {
		req.Omit("top_k")
	}
	if req.Stream {
		out.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	body, err := marshal(&out)
	if err != nil {
		return protocol.Call{}, fmt.Errorf("openai: encoding the request: %w", err)
	}
	return protocol.Call{Path: "/chat/completions", Body: body}, nil
}

func unsupported(param, why string) *protocol.Unsupported {
	return &protocol.Unsupported{Param: param, Provider: providers.ProtocolOpenAI, Why: why}
}

// requestEncoder writes one request's messages and tools.
type requestEncoder struct {
	req *protocol.Request
}

func (e *requestEncoder) noteCache(c *protocol.CacheControl) {
	if c != nil {
		e.req.Omit("cache_control")
	}
}

func (e *requestEncoder) messages() ([]outMessage, error) {
	out := make([]outMessage, 0, len(e.req.Messages)+1)
	if len(e.req.System) > 0 {
		texts := make([]string, 0, len(e.req.System))
		for i, p := range e.req.System {
			e.noteCache(p.Cache)
			if p.Type != protocol.PartText {
				return nil, unsupported(fmt.Sprintf("system[%d] (%s)", i, p.Type), "a system message takes only text")
			}
			texts = append(texts, p.Text)
		}
		out = append(out, outMessage{Role: "system", Content: strings.Join(texts, "\n\n")})
	}
	for i, m := range e.req.Messages {
		var err error
		switch m.Role {
		case protocol.RoleAssistant:
			var msg outMessage
			msg, err = e.assistant(i, m.Parts)
			out = append(out, msg)
		case protocol.RoleUser:
			out, err = e.user(out, i, m.Parts)
		default:
			err = &protocol.BadRequest{Param: fmt.Sprintf("messages[%d].role", i), Err: fmt.Errorf("unknown role %q", m.Role)}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (e *requestEncoder) assistant(i int, parts []protocol.Part) (outMessage, error) {
	msg := outMessage{Role: "assistant"}
	var texts []string
	for j, p := range parts {
		e.noteCache(p.Cache)
		switch p.Type {
		case protocol.PartText:
			texts = append(texts, p.Text)
		case protocol.PartThinking:
			e.req.Omit("thinking")
		case protocol.PartRedactedThinking:
			e.req.Omit("redacted_thinking")
		case protocol.PartToolCall:
			args := p.Arguments
			if args == "" {
				args = "{}"
			}
			msg.ToolCalls = append(msg.ToolCalls, wireToolCall{ID: p.ID, Type: "function", Function: wireFunctionCall{Name: p.Name, Arguments: args}})
		default:
			return msg, unsupported(fmt.Sprintf("messages[%d].content[%d] (%s)", i, j, p.Type), "an assistant message takes only text and tool calls")
		}
	}
	if texts != nil || msg.ToolCalls == nil {
		msg.Content = strings.Join(texts, "\n\n")
	}
	return msg, nil
}

// user appends a user turn: its tool results as tool messages first, then
// the rest of its content, with the images of tool results, as a user
// message.
func (e *requestEncoder) user(out []outMessage, i int, parts []protocol.Part) ([]outMessage, error) {
	var fromTools, rest []protocol.Part
	results := 0
	for _, p := range parts {
		e.noteCache(p.Cache)
		if p.Type != protocol.PartToolResult {
			rest = append(rest, p)
			continue
		}
		results++
		if p.IsError {
			e.req.Omit("is_error")
		}
		var texts []string
		for _, c := range p.Content {
			e.noteCache(c.Cache)
			if c.Type == protocol.PartText {
				texts = append(texts, c.Text)
			} else {
				fromTools = append(fromTools, c)
			}
		}
		out = append(out, outMessage{Role: "tool", ToolCallID: p.ID, Content: strings.Join(texts, "\n\n")})
	}
	rest = append(fromTools, rest...)
	if len(rest) == 0 && results > 0 {
		return out, nil
	}
	content, err := e.userContent(i, rest)
	if err != nil {
		return nil, err
	}
	return append(out, outMessage{Role: "user", Content: content}), nil
}

// userContent is a user message's content: one string when it is all
// text, else an array of parts.
func (e *requestEncoder) userContent(i int, parts []protocol.Part) (any, error) {
	allText := true
	for _, p := range parts {
		allText = allText && p.Type == protocol.PartText
	}
	if allText {
		texts := make([]string, len(parts))
		for j, p := range parts {
			texts[j] = p.Text
		}
		return strings.Join(texts, "\n\n"), nil
	}
	out := make([]any, 0, len(parts))
	for j, p := range parts {
		param := fmt.Sprintf("messages[%d].content[%d] (%s)", i, j, p.Type)
		switch p.Type {
		case protocol.PartText:
			out = append(out, outTextPart{Type: "text", Text: p.Text})
		case protocol.PartImage:
			u := p.URL
			if p.Data != "" {
				u = dataURL(p.MediaType, p.Data)
			}
			out = append(out, outImagePart{Type: "image_url", ImageURL: wireImageURL{URL: u}})
		case protocol.PartAudio:
			format := audioFormat(p.MediaType)
			if format == "" {
				return nil, unsupported(param, "OpenAI takes wav and mp3 audio, not "+p.MediaType)
			}
			out = append(out, outAudioPart{Type: "input_audio", InputAudio: wireAudio{Data: p.Data, Format: format}})
		case protocol.PartDocument:
			part, err := documentPart(param, p)
			if err != nil {
				return nil, err
			}
			out = append(out, part)
		case protocol.PartThinking:
			e.req.Omit("thinking")
		case protocol.PartRedactedThinking:
			e.req.Omit("redacted_thinking")
		default:
			return nil, unsupported(param, "a user message cannot hold it")
		}
	}
	return out, nil
}

// documentPart writes a PDF as a file part and a plain text document as
// text; OpenAI reads documents from no URL.
func documentPart(param string, p protocol.Part) (any, error) {
	switch {
	case p.Data == "":
		return nil, unsupported(param, "OpenAI takes documents inline (base64), not by URL")
	case p.MediaType == "application/pdf":
		return outFilePart{Type: "file", File: wireFile{Filename: "document.pdf", FileData: dataURL(p.MediaType, p.Data)}}, nil
	case strings.HasPrefix(p.MediaType, "text/"):
		text, err := base64.StdEncoding.DecodeString(p.Data)
		if err != nil || !utf8.Valid(text) {
			return nil, unsupported(param, "the document is not base64 UTF-8 text")
		}
		return outTextPart{Type: "text", Text: string(text)}, nil
	}
	return nil, unsupported(param, "OpenAI takes PDF documents only, not "+p.MediaType)
}

func (e *requestEncoder) tools() []wireTool {
	if len(e.req.Tools) == 0 {
		return nil
	}
	out := make([]wireTool, len(e.req.Tools))
	for i, t := range e.req.Tools {
		e.noteCache(t.Cache)
		f := &wireFunction{Name: t.Name, Description: t.Description, Parameters: t.Parameters}
		if t.Strict {
			f.Strict = &t.Strict
		}
		out[i] = wireTool{Type: "function", Function: f}
	}
	return out
}

// namedToolChoice is tool_choice naming a function.
type namedToolChoice struct {
	Type     string `json:"type"`
	Function struct {
		Name string `json:"name"`
	} `json:"function"`
}

func toolChoice(c protocol.ToolChoice) any {
	if !c.Set {
		return nil
	}
	switch c.Mode {
	case protocol.ToolNone:
		return "none"
	case protocol.ToolRequired:
		return "required"
	case protocol.ToolNamed:
		n := namedToolChoice{Type: "function"}
		n.Function.Name = c.Name
		return n
	}
	return "auto"
}

func responseFormat(f *protocol.ResponseFormat) *wireResponseFormat {
	if f == nil {
		return nil
	}
	if f.Schema == nil {
		return &wireResponseFormat{Type: "json_object"}
	}
	s := &wireJSONSchema{Name: f.Name, Schema: f.Schema}
	if s.Name == "" {
		s.Name = "response"
	}
	if f.Strict {
		s.Strict = &f.Strict
	}
	return &wireResponseFormat{Type: "json_schema", JSONSchema: s}
}

func reasoningEffort(r *protocol.Reasoning) string {
	switch {
	case r == nil:
		return ""
	case r.Disabled:
		return "none"
	case r.Effort != "":
		return r.Effort
	case r.BudgetTokens > 0:
		return protocol.BudgetEffort(r.BudgetTokens)
	}
	return ""
}
