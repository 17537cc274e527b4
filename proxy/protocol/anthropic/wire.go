package anthropic

import "encoding/json"

// The Messages API's JSON shapes, shared by both directions. Members that
// are a string or an array of blocks (system, content, a tool result's
// content) stay raw here and are read by the decoder.

// wireRequest is a POST /v1/messages (or /v1/messages/count_tokens) body.
type wireRequest struct {
	Model         string          `json:"model"`
	MaxTokens     int64           `json:"max_tokens,omitempty"`
	System        []wireBlock     `json:"system,omitempty"`
	Messages      []wireMessage   `json:"messages"`
	Tools         []wireTool      `json:"tools,omitempty"`
	ToolChoice    *wireToolChoice `json:"tool_choice,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int64          `json:"top_k,omitempty"`
	Metadata      *wireMetadata   `json:"metadata,omitempty"`
	Thinking      *wireThinking   `json:"thinking,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
}

type wireMessage struct {
	Role    string      `json:"role"`
	Content []wireBlock `json:"content"`
}

// wireBlock is a content block of any type; which members are set
// depends on Type.
type wireBlock struct {
	Type string `json:"type"`
	// Text is a text block's text.
	Text string `json:"text,omitempty"`
	// Source is an image's or document's content.
	Source *wireSource `json:"source,omitempty"`
	// ID, Name and Input are a tool_use block's.
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// ToolUseID, Content and IsError are a tool_result block's; Content is
	// a string or an array of blocks.
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	// Thinking and Signature are a thinking block's, Data a
	// redacted_thinking block's.
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// Citations is a document's citation setting, or a text block's
	// citations in an answer.
	Citations    json.RawMessage `json:"citations,omitempty"`
	CacheControl *wireCache      `json:"cache_control,omitempty"`
}

// wireSource is an image's or document's source: base64 (media_type,
// data), url, or text (media_type "text/plain", data the text itself).
type wireSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type wireCache struct {
	Type string `json:"type"`
	TTL  string `json:"ttl,omitempty"`
}

type wireTool struct {
	// Type is set on server tools (web_search_20250305, bash_…) and on
	// "custom"; a plain function tool has none.
	Type         string          `json:"type,omitempty"`
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema,omitempty"`
	Strict       bool            `json:"strict,omitempty"`
	CacheControl *wireCache      `json:"cache_control,omitempty"`
}

type wireToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

type wireMetadata struct {
	UserID string `json:"user_id,omitempty"`
}

type wireThinking struct {
	Type         string `json:"type"`
	BudgetTokens int64  `json:"budget_tokens,omitempty"`
}

// wireOutputConfig is output_config: an effort and a JSON output format.
type wireOutputConfig struct {
	Effort string `json:"effort,omitempty"`
	Format *struct {
		Type   string          `json:"type"`
		Schema json.RawMessage `json:"schema"`
	} `json:"format,omitempty"`
}

// wireMessageResponse is a Message, the answer to POST /v1/messages.
type wireMessageResponse struct {
	ID           string      `json:"id"`
	Type         string      `json:"type"`
	Role         string      `json:"role"`
	Model        string      `json:"model"`
	Content      []wireBlock `json:"content"`
	StopReason   *string     `json:"stop_reason"`
	StopSequence *string     `json:"stop_sequence"`
	Usage        *wireUsage  `json:"usage,omitempty"`
}

// wireUsage is a Message's usage, also message_start's and (cumulative)
// message_delta's. Pointers tell an absent count from zero, which
// matters in message_delta: the SDKs keep message_start's value for a
// count message_delta leaves out.
type wireUsage struct {
	InputTokens              *int64             `json:"input_tokens,omitempty"`
	CacheCreationInputTokens *int64             `json:"cache_creation_input_tokens,omitempty"`
	CacheReadInputTokens     *int64             `json:"cache_read_input_tokens,omitempty"`
	CacheCreation            *wireCacheCreation `json:"cache_creation,omitempty"`
	OutputTokens             int64              `json:"output_tokens"`
	OutputTokensDetails      *wireOutputDetails `json:"output_tokens_details,omitempty"`
}

type wireCacheCreation struct {
	Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
}

type wireOutputDetails struct {
	ThinkingTokens int64 `json:"thinking_tokens"`
}

// wireCount is the answer to POST /v1/messages/count_tokens.
type wireCount struct {
	InputTokens int64 `json:"input_tokens"`
}

// wireError is Anthropic's error body, also the data of a stream's error
// event.
type wireError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}
