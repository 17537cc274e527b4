package openai

import "encoding/json"

// wireMessage is a chat message as callers send it and as providers answer
// it (choices[].message, and choices[].delta in streams).
type wireMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	// ToolCalls are an assistant's calls.
	ToolCalls []wireToolCall `json:"tool_calls"`
	// ToolCallID is the call a tool message answers.
	ToolCallID string `json:"tool_call_id"`
	// ReasoningContent is DeepSeek's reasoning text; Reasoning is
	// OpenRouter's.
	ReasoningContent string `json:"reasoning_content"`
	Reasoning        string `json:"reasoning"`
	Refusal          string `json:"refusal"`
	// FunctionCall and Audio are kept only to notice them: neither can be
	// translated.
	FunctionCall json.RawMessage `json:"function_call"`
	Audio        json.RawMessage `json:"audio"`
}

// wireToolCall is a tool call in a message or, with Index, a fragment of
// one in a stream delta.
type wireToolCall struct {
	Index    *int             `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function wireFunctionCall `json:"function"`
}

type wireFunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// wirePart is one element of an array content.
type wirePart struct {
	Type       string          `json:"type"`
	Text       string          `json:"text"`
	Refusal    string          `json:"refusal"`
	ImageURL   json.RawMessage `json:"image_url"`
	InputAudio *wireAudio      `json:"input_audio"`
	File       *wireFile       `json:"file"`
	// Thinking is Mistral's reasoning chunk in answers: a string or an
	// array of text parts.
	Thinking json.RawMessage `json:"thinking"`
}

type wireImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type wireAudio struct {
	Data   string `json:"data"`
	Format string `json:"format"`
}

type wireFile struct {
	FileData string `json:"file_data,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// wireTool is an entry of tools.
type wireTool struct {
	Type     string        `json:"type"`
	Function *wireFunction `json:"function,omitempty"`
}

type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// wireResponseFormat is response_format.
type wireResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema *wireJSONSchema `json:"json_schema,omitempty"`
}

type wireJSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// wireChoice is an entry of an answer's or a chunk's choices.
type wireChoice struct {
	Index        int         `json:"index"`
	Message      wireMessage `json:"message"`
	Delta        wireMessage `json:"delta"`
	FinishReason string      `json:"finish_reason"`
}

// wireAnswer is a chat.completion or a chat.completion.chunk.
type wireAnswer struct {
	ID      string       `json:"id"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []wireChoice `json:"choices"`
	Usage   *wireUsage   `json:"usage"`
	// XGroq carries Groq's usage at the end of a stream.
	XGroq *struct {
		Usage *wireUsage `json:"usage"`
	} `json:"x_groq"`
	Error json.RawMessage `json:"error"`
}

// wireUsage is a usage object, read and written.
type wireUsage struct {
	PromptTokens            int64                 `json:"prompt_tokens"`
	CompletionTokens        int64                 `json:"completion_tokens"`
	TotalTokens             int64                 `json:"total_tokens"`
	PromptTokensDetails     *wirePromptDetails    `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *wireCompletionDetail `json:"completion_tokens_details,omitempty"`
	// PromptCacheHitTokens is DeepSeek's count of cached input.
	PromptCacheHitTokens int64 `json:"prompt_cache_hit_tokens,omitempty"`
}

type wirePromptDetails struct {
	CachedTokens int64 `json:"cached_tokens"`
	// CacheWriteTokens is OpenRouter's count of input written to the cache.
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
}

type wireCompletionDetail struct {
	ReasoningTokens int64 `json:"reasoning_tokens"`
}

// wireError is the error object of an error body or a stream error event.
type wireError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}
