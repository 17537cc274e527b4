package gemini

import "encoding/json"

// The JSON shapes of Google's Generative Language API (v1beta), as far as
// the adapter reads and writes them. Members use the API's lowerCamelCase
// names; requests in snake_case are renamed first (see normalizeKeys).

// wireRequest is a GenerateContentRequest, also the generateContentRequest
// member of a countTokens request.
type wireRequest struct {
	Model             string          `json:"model,omitempty"`
	Contents          []wireContent   `json:"contents"`
	SystemInstruction *wireContent    `json:"systemInstruction,omitempty"`
	Tools             []wireTool      `json:"tools,omitempty"`
	ToolConfig        *wireToolConfig `json:"toolConfig,omitempty"`
	GenerationConfig  *wireGenConfig  `json:"generationConfig,omitempty"`
}

// wireCountRequest is a countTokens request: contents alone or a whole
// generateContent request.
type wireCountRequest struct {
	Contents               []wireContent `json:"contents,omitempty"`
	GenerateContentRequest *wireRequest  `json:"generateContentRequest,omitempty"`
}

type wireContent struct {
	Role  string     `json:"role,omitempty"`
	Parts []wirePart `json:"parts"`
}

// wirePart is one Part; exactly one of its data members is set.
type wirePart struct {
	Text             *string           `json:"text,omitempty"`
	Thought          bool              `json:"thought,omitempty"`
	ThoughtSignature string            `json:"thoughtSignature,omitempty"`
	InlineData       *wireBlob         `json:"inlineData,omitempty"`
	FileData         *wireFile         `json:"fileData,omitempty"`
	FunctionCall     *wireCall         `json:"functionCall,omitempty"`
	FunctionResponse *wireFuncResponse `json:"functionResponse,omitempty"`
	// Read only to name them: the adapter has no counterpart.
	ExecutableCode      json.RawMessage `json:"executableCode,omitempty"`
	CodeExecutionResult json.RawMessage `json:"codeExecutionResult,omitempty"`
}

type wireBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type wireFile struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type wireCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type wireFuncResponse struct {
	ID       string          `json:"id,omitempty"`
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type wireTool struct {
	FunctionDeclarations []wireFunc `json:"functionDeclarations,omitempty"`
}

type wireFunc struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	Parameters           json.RawMessage `json:"parameters,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type wireToolConfig struct {
	FunctionCallingConfig *wireCallingConfig `json:"functionCallingConfig,omitempty"`
}

type wireCallingConfig struct {
	Mode                 string   `json:"mode,omitempty"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type wireGenConfig struct {
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"topP,omitempty"`
	TopK               *float64        `json:"topK,omitempty"` // an integer; SDKs send it as a float
	CandidateCount     *int64          `json:"candidateCount,omitempty"`
	MaxOutputTokens    *int64          `json:"maxOutputTokens,omitempty"`
	StopSequences      []string        `json:"stopSequences,omitempty"`
	Seed               *int64          `json:"seed,omitempty"`
	PresencePenalty    *float64        `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64        `json:"frequencyPenalty,omitempty"`
	ResponseMimeType   string          `json:"responseMimeType,omitempty"`
	ResponseSchema     json.RawMessage `json:"responseSchema,omitempty"`
	ResponseJSONSchema json.RawMessage `json:"responseJsonSchema,omitempty"`
	ThinkingConfig     *wireThinking   `json:"thinkingConfig,omitempty"`
}

type wireThinking struct {
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
	ThinkingBudget  *int64 `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
}

// wireResponse is a GenerateContentResponse: a whole answer, or one chunk
// of a streamed one.
type wireResponse struct {
	Candidates     []wireCandidate     `json:"candidates,omitempty"`
	PromptFeedback *wirePromptFeedback `json:"promptFeedback,omitempty"`
	UsageMetadata  *wireUsage          `json:"usageMetadata,omitempty"`
	ModelVersion   string              `json:"modelVersion,omitempty"`
	ResponseID     string              `json:"responseId,omitempty"`
	// Error is set on an error event inside a stream.
	Error *wireErrorBody `json:"error,omitempty"`
}

type wireCandidate struct {
	Content      *wireContent `json:"content,omitempty"`
	FinishReason string       `json:"finishReason,omitempty"`
	Index        int          `json:"index"`
}

type wirePromptFeedback struct {
	BlockReason string `json:"blockReason,omitempty"`
}

type wireUsage struct {
	PromptTokenCount        int64 `json:"promptTokenCount"`
	CandidatesTokenCount    int64 `json:"candidatesTokenCount,omitempty"`
	TotalTokenCount         int64 `json:"totalTokenCount"`
	CachedContentTokenCount int64 `json:"cachedContentTokenCount,omitempty"`
	ToolUsePromptTokenCount int64 `json:"toolUsePromptTokenCount,omitempty"`
	ThoughtsTokenCount      int64 `json:"thoughtsTokenCount,omitempty"`
}

type wireCountResponse struct {
	TotalTokens int64 `json:"totalTokens"`
}

type wireEmbedRequest struct {
	Requests []wireEmbedContent `json:"requests"`
}

type wireEmbedContent struct {
	Model                string      `json:"model,omitempty"`
	Content              wireContent `json:"content"`
	TaskType             string      `json:"taskType,omitempty"`
	OutputDimensionality int64       `json:"outputDimensionality,omitempty"`
}

type wireEmbedResponse struct {
	Embeddings []wireEmbedding `json:"embeddings"`
}

type wireEmbedding struct {
	Values []float64 `json:"values"`
}

// wireError is the API's error body, google.rpc.Status in JSON.
type wireError struct {
	Error wireErrorBody `json:"error"`
}

type wireErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status"`
}
