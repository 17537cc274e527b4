package cohere

import (
	"bytes"
	"encoding/json"
)

// The types below are Cohere's v2 wire shapes (POST /v2/chat, /v2/embed),
// written from the API reference. Unions (string or list content) are kept
// as json.RawMessage and read by the functions that need them.

// chatRequest is the body of POST /v2/chat. Documents, Logprobs and
// SafetyMode are only read from callers (to refuse what cannot be
// translated); the provider side never sets them.
type chatRequest struct {
	Model            string            `json:"model"`
	Messages         []message         `json:"messages"`
	Stream           bool              `json:"stream,omitempty"`
	Tools            []tool            `json:"tools,omitempty"`
	StrictTools      bool              `json:"strict_tools,omitempty"`
	ToolChoice       string            `json:"tool_choice,omitempty"`
	ResponseFormat   *responseFormat   `json:"response_format,omitempty"`
	MaxTokens        int64             `json:"max_tokens,omitempty"`
	StopSequences    []string          `json:"stop_sequences,omitempty"`
	Temperature      *float64          `json:"temperature,omitempty"`
	Seed             *int64            `json:"seed,omitempty"`
	FrequencyPenalty *float64          `json:"frequency_penalty,omitempty"`
	PresencePenalty  *float64          `json:"presence_penalty,omitempty"`
	K                *int64            `json:"k,omitempty"`
	P                *float64          `json:"p,omitempty"`
	Thinking         *thinking         `json:"thinking,omitempty"`
	Documents        []json.RawMessage `json:"documents,omitempty"`
	Logprobs         bool              `json:"logprobs,omitempty"`
	SafetyMode       string            `json:"safety_mode,omitempty"`
}

// message is one chat message of any role. Content is a string or a list
// of content items; the other members belong to assistant (tool_plan,
// tool_calls) and tool (tool_call_id) messages.
type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	ToolPlan   string          `json:"tool_plan,omitempty"`
	ToolCalls  []toolCall      `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// content is one item of a message's content list: text, thinking (an
// assistant's reasoning), image_url (user) or document (tool results).
type content struct {
	Type     string    `json:"type,omitempty"`
	Text     *string   `json:"text,omitempty"`
	Thinking *string   `json:"thinking,omitempty"`
	ImageURL *imageURL `json:"image_url,omitempty"`
	Document *document `json:"document,omitempty"`
}

type imageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// document is a document a tool returned: an object of string fields the
// model reads, with an optional id citations refer to.
type document struct {
	Data json.RawMessage `json:"data"`
	ID   string          `json:"id,omitempty"`
}

type toolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function toolCallFunction `json:"function"`
}

type toolCallFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

type tool struct {
	Type     string       `json:"type"`
	Function toolFunction `json:"function"`
}

type toolFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

// responseFormat is {"type": "json_object", "json_schema": {...}} or
// {"type": "text"}.
type responseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// thinking is {"type": "enabled"|"disabled", "token_budget": n}.
type thinking struct {
	Type        string `json:"type"`
	TokenBudget int64  `json:"token_budget,omitempty"`
}

// chatResponse is a complete answer of POST /v2/chat.
type chatResponse struct {
	ID           string          `json:"id"`
	FinishReason string          `json:"finish_reason"`
	Message      responseMessage `json:"message"`
	Usage        *wireUsage      `json:"usage,omitempty"`
}

type responseMessage struct {
	Role      string     `json:"role"`
	Content   []content  `json:"content,omitempty"`
	ToolPlan  string     `json:"tool_plan,omitempty"`
	ToolCalls []toolCall `json:"tool_calls,omitempty"`
}

// wireUsage is Cohere's usage object (and the embed answer's meta):
// tokens the model processed, the units billed, and the prompt tokens that
// hit Cohere's cache.
type wireUsage struct {
	BilledUnits  *tokenCounts `json:"billed_units,omitempty"`
	Tokens       *tokenCounts `json:"tokens,omitempty"`
	CachedTokens *float64     `json:"cached_tokens,omitempty"`
}

// tokenCounts are numbers in the reference (the API has sent 18.0).
type tokenCounts struct {
	InputTokens  *float64 `json:"input_tokens,omitempty"`
	OutputTokens *float64 `json:"output_tokens,omitempty"`
}

// streamEvent is one event of a v2 chat stream; which members are set
// depends on Type.
type streamEvent struct {
	Type  string       `json:"type"`
	ID    string       `json:"id,omitempty"`
	Index *int         `json:"index,omitempty"`
	Delta *streamDelta `json:"delta,omitempty"`
}

type streamDelta struct {
	Message      *streamMessage `json:"message,omitempty"`
	FinishReason string         `json:"finish_reason,omitempty"`
	Usage        *wireUsage     `json:"usage,omitempty"`
	Error        string         `json:"error,omitempty"`
}

// streamMessage is delta.message: role on message-start, one content item
// on content-*, a tool-plan fragment, or one tool call (tool_calls is an
// object in a stream, not a list).
type streamMessage struct {
	Role      string          `json:"role,omitempty"`
	Content   *content        `json:"content,omitempty"`
	ToolPlan  *string         `json:"tool_plan,omitempty"`
	ToolCalls *streamToolCall `json:"tool_calls,omitempty"`
}

type streamToolCall struct {
	ID       string              `json:"id,omitempty"`
	Type     string              `json:"type,omitempty"`
	Function *streamToolFunction `json:"function,omitempty"`
}

type streamToolFunction struct {
	Name      string  `json:"name,omitempty"`
	Arguments *string `json:"arguments,omitempty"`
}

// embedRequest is the body of POST /v2/embed.
type embedRequest struct {
	Model           string   `json:"model"`
	Texts           []string `json:"texts"`
	InputType       string   `json:"input_type"`
	EmbeddingTypes  []string `json:"embedding_types"`
	OutputDimension int64    `json:"output_dimension,omitempty"`
}

// embedResponse is the answer of POST /v2/embed for embedding_types
// ["float"].
type embedResponse struct {
	ID           string      `json:"id"`
	ResponseType string      `json:"response_type,omitempty"`
	Embeddings   embedByType `json:"embeddings"`
	Texts        []string    `json:"texts,omitempty"`
	Meta         *wireUsage  `json:"meta,omitempty"`
}

type embedByType struct {
	Float [][]float64 `json:"float"`
}

// UnmarshalJSON reads delta.message. message-start may carry the whole
// message's lists, empty (content, tool_calls), where later events carry
// one item as an object: lists hold nothing yet and are skipped.
func (m *streamMessage) UnmarshalJSON(b []byte) error {
	var raw struct {
		Role      string          `json:"role"`
		Content   json.RawMessage `json:"content"`
		ToolPlan  *string         `json:"tool_plan"`
		ToolCalls json.RawMessage `json:"tool_calls"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*m = streamMessage{Role: raw.Role, ToolPlan: raw.ToolPlan}
	if isJSONObject(raw.Content) {
		m.Content = new(content)
		if err := json.Unmarshal(raw.Content, m.Content); err != nil {
			return err
		}
	}
	if isJSONObject(raw.ToolCalls) {
		m.ToolCalls = new(streamToolCall)
		if err := json.Unmarshal(raw.ToolCalls, m.ToolCalls); err != nil {
			return err
		}
	}
	return nil
}

func isJSONObject(b json.RawMessage) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}
