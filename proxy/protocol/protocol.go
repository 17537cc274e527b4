// Package protocol is the gateway's one internal form of an LLM exchange:
// a request, its answer and the events of a streamed answer, in terms every
// provider API can be read into and written from. Each wire protocol is an
// adapter in a folder of its own below this one (openai, anthropic, gemini,
// cohere); translating from any caller's API to any provider's is then
// decode with the caller's adapter, encode with the provider's, and back,
// instead of one converter per pair.
//
// The form keeps what changes an answer or its price: system prompts, turns,
// multi-part content (text, images, documents), tools and tool results,
// structured output, reasoning and its signed thinking blocks, sampling
// parameters, stop sequences, prompt-cache marks and exact usage. What one
// side has and the other cannot take is never dropped silently: an encoder
// refuses it with an *Unsupported error (it would change the answer) or
// names it with Request.Omit (it only optimises, or replays the caller's
// own history), and the gateway reports the omissions in a header.
package protocol

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/sse"
	"github.com/sluicehq/sluice/proxy/usage"
)

// Op is what a request asks for.
type Op uint8

const (
	// OpGenerate is a chat or message completion.
	OpGenerate Op = iota
	// OpEmbed turns inputs into vectors.
	OpEmbed
	// OpCountTokens counts a request's input tokens without running it.
	OpCountTokens
)

// Request is a caller's request in the internal form.
type Request struct {
	Op Op
	// Model is the model the provider is asked for: the caller's name
	// until the gateway maps it for a target.
	Model string
	// Provider names the provider the request is encoded for (as in
	// package providers), for an API whose hosts differ in small ways;
	// "" when unknown.
	Provider string
	Stream   bool
	// IncludeStreamUsage records that an OpenAI caller asked for the usage
	// chunk at the end of a stream (stream_options.include_usage).
	IncludeStreamUsage bool

	// System is the system prompt, as parts (Anthropic and Gemini allow
	// several, and cache marks on them).
	System   []Part
	Messages []Message

	Tools      []Tool
	ToolChoice ToolChoice
	// ParallelToolCalls nil is the provider's default.
	ParallelToolCalls *bool

	// MaxTokens is the output cap; 0 is unset (an encoder whose provider
	// requires one uses DefaultMaxTokens).
	MaxTokens int64
	// DefaultMaxTokens is the model's largest output from the catalog, set
	// by the gateway for providers that require a cap; 0 when unknown.
	DefaultMaxTokens int64
	Temperature      *float64
	TopP             *float64
	TopK             *int64
	Seed             *int64
	FrequencyPenalty *float64
	PresencePenalty  *float64
	Stop             []string
	ResponseFormat   *ResponseFormat
	Reasoning        *Reasoning
	// N is how many answers are asked for; 0 and 1 are one.
	N int64
	// User is the caller's end-user identifier (OpenAI user, Anthropic
	// metadata.user_id), passed where the provider has a place for it.
	User string

	// Inputs are the texts to embed (OpEmbed).
	Inputs []string
	// Dimensions asks for shorter embeddings; 0 is the model's own size.
	Dimensions int64
	// EmbedFloatBase64 records that the caller wants embeddings as base64
	// little-endian float32 (OpenAI encoding_format "base64").
	EmbedFloatBase64 bool
	// InputType is the embedding's intended use in Cohere's terms
	// (search_document, search_query, classification, clustering), mapped
	// to Gemini's taskType; "" is the provider's default.
	InputType string

	// Unknown lists the caller's top-level parameters the decoder does not
	// know. They cannot be translated, so a translated request that has
	// any is refused, naming them; a passthrough request never decodes.
	Unknown []string

	omitted []string
}

// Omit records that name (a parameter or content kind, such as
// "cache_control") was left out of the provider request because the
// provider has no counterpart and leaving it out does not change the
// answer. Each name is kept once.
func (r *Request) Omit(name string) {
	if !slices.Contains(r.omitted, name) {
		r.omitted = append(r.omitted, name)
	}
}

// Omitted lists what Omit recorded, in order.
func (r *Request) Omitted() []string { return r.omitted }

// Role is who said a message. Tool results are parts of a user message,
// as in Anthropic's API, the most general of the shapes: OpenAI's and
// Cohere's "tool" messages and Gemini's function responses map onto it.
type Role string

const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
)

// Message is one turn.
type Message struct {
	Role  Role
	Parts []Part
}

// PartType is what a content part holds.
type PartType uint8

const (
	PartText PartType = iota
	// PartImage is an image, by URL or as base64 Data with MediaType.
	PartImage
	// PartDocument is a document (PDF, plain text), by URL or base64.
	PartDocument
	// PartAudio is audio input, base64 with MediaType.
	PartAudio
	// PartToolCall is the model's call of tool Name with Arguments, ID
	// naming the call so its result can refer to it.
	PartToolCall
	// PartToolResult is the result of call ID (of tool Name, where the
	// caller's API says it) in Content; IsError marks a failed call.
	PartToolResult
	// PartThinking is the model's reasoning as text, with the provider's
	// Signature that lets it be sent back in a later turn.
	PartThinking
	// PartRedactedThinking is reasoning the provider returned encrypted in
	// Data; it can only be sent back to the same provider.
	PartRedactedThinking
)

var partTypeNames = [...]string{"text", "image", "document", "audio", "tool_call", "tool_result", "thinking", "redacted_thinking"}

func (t PartType) String() string {
	if int(t) < len(partTypeNames) {
		return partTypeNames[t]
	}
	return fmt.Sprintf("part(%d)", t)
}

// Part is one piece of a message's content. Which fields are set depends
// on Type; the rest are zero.
type Part struct {
	Type PartType
	// Text is the text of a text or thinking part.
	Text string
	// MediaType is the MIME type of an image, document or audio part.
	MediaType string
	// Data is base64 content (image, document, audio) or the encrypted
	// payload of redacted thinking.
	Data string
	// URL is where an image or document is, when it is not inline.
	URL string
	// ID is a tool call's identifier, or the call a tool result answers.
	ID string
	// Name is the tool's name.
	Name string
	// Arguments is the tool call's arguments as JSON text (an object).
	Arguments string
	// Content is a tool result's content (text and images).
	Content []Part
	// IsError marks a tool result that reports a failure.
	IsError bool
	// Signature is the provider's signature of a thinking part (Anthropic's
	// signature, Gemini's thoughtSignature), opaque, sent back verbatim.
	Signature string
	// Cache asks the provider to cache the prompt up to and including this
	// part; nil is no mark.
	Cache *CacheControl
}

// CacheControl is a prompt-cache breakpoint.
type CacheControl struct {
	// TTL is "" (the provider's default, five minutes) or "1h".
	TTL string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is the JSON Schema of the arguments (an object schema);
	// nil is no parameters.
	Parameters json.RawMessage
	// Strict asks for arguments that follow the schema exactly, where the
	// provider has such a mode.
	Strict bool
	Cache  *CacheControl
}

// ToolChoiceMode says whether and which tool the model must call.
type ToolChoiceMode uint8

const (
	// ToolAuto lets the model decide; it is also the zero value, the
	// provider's default.
	ToolAuto ToolChoiceMode = iota
	// ToolNone forbids tool calls.
	ToolNone
	// ToolRequired makes the model call some tool.
	ToolRequired
	// ToolNamed makes the model call the tool named in ToolChoice.Name.
	ToolNamed
)

// ToolChoice is the caller's tool_choice.
type ToolChoice struct {
	Mode ToolChoiceMode
	Name string
	// Set distinguishes an explicit "auto" from no choice at all.
	Set bool
}

// ResponseFormat asks for JSON output.
type ResponseFormat struct {
	// Schema is the JSON Schema the output must follow; nil asks only for
	// some JSON object (OpenAI's json_object).
	Schema json.RawMessage
	// Name names the schema (OpenAI requires one); "" is "response".
	Name   string
	Strict bool
}

// Reasoning is how much the model should think before answering.
type Reasoning struct {
	// Effort is "minimal", "low", "medium" or "high"; "" when the caller
	// gave a budget instead.
	Effort string
	// BudgetTokens is a token budget for thinking; 0 when the caller gave
	// an effort instead.
	BudgetTokens int64
	// Disabled turns thinking off where the model allows it.
	Disabled bool
}

// EffortBudget is the thinking budget an effort stands for, for providers
// that take a budget (Anthropic, Gemini). The smallest is Anthropic's
// minimum budget, 1,024 tokens; an encoder keeps the budget below the
// request's output cap, which it must be under.
func EffortBudget(effort string) int64 {
	switch effort {
	case "minimal":
		return 1024
	case "low":
		return 2048
	case "medium":
		return 8192
	case "high":
		return 24576
	}
	return 8192
}

// BudgetEffort is the effort a thinking budget stands for, the inverse of
// EffortBudget for providers that take an effort.
func BudgetEffort(budget int64) string {
	switch {
	case budget <= 1024:
		return "minimal"
	case budget <= 4096:
		return "low"
	case budget <= 16384:
		return "medium"
	}
	return "high"
}

// Finish is why an answer ended.
type Finish string

const (
	FinishStop Finish = "stop" // natural end or a stop sequence
	// FinishLength is the output cap reached.
	FinishLength Finish = "length"
	// FinishToolCalls is the model waiting for tool results.
	FinishToolCalls Finish = "tool_calls"
	// FinishContentFilter is an answer withheld or cut by a safety filter.
	FinishContentFilter Finish = "content_filter"
	// FinishRefusal is the model declining to answer (Anthropic's refusal).
	FinishRefusal Finish = "refusal"
	// FinishPause is a server tool's turn paused (Anthropic's pause_turn).
	FinishPause Finish = "pause"
	// FinishError is an answer the provider ended with an error.
	FinishError Finish = "error"
)

// Response is a complete answer.
type Response struct {
	ID    string
	Model string
	// Created is the answer's Unix time; 0 lets the encoder use now.
	Created int64
	// Parts are the answer's content in order: text, thinking, tool calls.
	Parts  []Part
	Finish Finish
	// StopSequence is the stop sequence that ended the answer, if any.
	StopSequence string
	// Usage is what the provider reported; Found false when it did not.
	Usage usage.Usage
	// Embeddings are the vectors of an OpEmbed request, one per input.
	Embeddings [][]float64
	// InputTokens answers an OpCountTokens request.
	InputTokens int64
}

// EventType is what a stream event says.
type EventType uint8

const (
	// EventStart opens the answer: ID and Model, and Usage when the
	// provider reports input tokens up front (Anthropic).
	EventStart EventType = iota
	// EventPartStart opens content part Index: Part.Type, and for a tool
	// call its ID and Name.
	EventPartStart
	// EventDelta adds to part Index: Part.Text (text or thinking),
	// Part.Arguments (a tool call's arguments, a fragment of JSON text) or
	// Part.Signature (a thinking part's signature).
	EventDelta
	// EventPartEnd closes part Index.
	EventPartEnd
	// EventFinish ends the answer: Finish, StopSequence, and Usage when
	// known. No content follows it.
	EventFinish
	// EventUsage reports usage that arrives after the finish (OpenAI's
	// usage chunk); encoders fold it into their last event.
	EventUsage
)

// Event is one step of a streamed answer in the internal form. Parts are
// opened, added to and closed in order; Index counts parts from 0 over
// the whole answer.
type Event struct {
	Type  EventType
	Index int
	Part  Part
	// ID and Model are set on EventStart.
	ID    string
	Model string
	// Finish and StopSequence are set on EventFinish.
	Finish       Finish
	StopSequence string
	// Usage is the provider's report so far, on EventStart, EventFinish
	// and EventUsage; nil when the event carries none.
	Usage *usage.Usage
}

// Client is one API a caller speaks: it reads the caller's requests and
// writes answers, streams and errors in the caller's shape.
type Client interface {
	// DecodeRequest reads a request body. The gateway sets Model and
	// Stream itself where the API puts them in the path (Gemini). Errors
	// are the caller's: wrap them in *BadRequest to name the parameter.
	DecodeRequest(op Op, body []byte) (*Request, error)
	// EncodeResponse writes the answer to req.
	EncodeResponse(req *Request, resp *Response) ([]byte, error)
	// NewStreamEncoder writes a streamed answer to req as the caller's
	// SSE events.
	NewStreamEncoder(req *Request) StreamEncoder
	// EncodeModels is the API's model list (GET …/models) of the given
	// model IDs, which the caller's key may use.
	EncodeModels(ids []string) []byte
}

// StreamEncoder turns internal events into the caller's SSE bytes. It is
// stateful (it numbers blocks, remembers open parts) and not safe for
// concurrent use.
type StreamEncoder interface {
	// Encode appends the SSE events for ev to dst (perhaps none: an event
	// the caller's API has no counterpart for).
	Encode(dst []byte, ev Event) []byte
	// End appends what closes the stream after the last event (OpenAI's
	// "data: [DONE]"); it is called only for a stream that finished.
	End(dst []byte) []byte
}

// Provider is one protocol the gateway speaks to upstreams.
type Provider interface {
	// EncodeRequest writes req for the provider: the path below the
	// credential's base URL, extra query parameters and the body. What the
	// provider cannot do is refused with *Unsupported; what it may leave
	// out is recorded with req.Omit.
	EncodeRequest(req *Request) (Call, error)
	// DecodeResponse reads a complete answer to req.
	DecodeResponse(req *Request, body []byte) (*Response, error)
	// NewStreamDecoder reads a streamed answer to req event by event.
	NewStreamDecoder(req *Request) StreamDecoder
	// ErrorMessage is the human-readable message of the provider's error
	// body, "" when it has none, so that an upstream refusal reaches the
	// caller, in the caller's error shape, with the provider's words.
	ErrorMessage(body []byte) string
}

// Call is a request as a provider takes it.
type Call struct {
	// Path is appended to the credential's base URL, e.g. "/messages".
	Path string
	// Query is extra query parameters, e.g. "alt=sse"; "" for none.
	Query string
	// Header holds headers the provider requires that the caller's API
	// does not send (Anthropic's anthropic-version); nil for none. The
	// gateway adds the credential's auth itself.
	Header map[string]string
	Body   []byte
}

// StreamDecoder reads a provider's SSE events into internal events. It is
// stateful and not safe for concurrent use.
type StreamDecoder interface {
	// Decode appends the internal events of one SSE event to dst. An error
	// event from the provider is returned as *UpstreamError.
	Decode(dst []Event, ev sse.Event) ([]Event, error)
}

// StreamEnder is a StreamDecoder whose provider ends its streams with an
// event of its own (Anthropic's message_stop): once Ended, nothing more of
// the answer follows, so the caller's stream is closed at once instead of
// when the provider's connection ends.
type StreamEnder interface {
	Ended() bool
}

// Errors writes the gateway's own refusals and failures in one protocol's
// error shape.
type Errors interface {
	// ErrorBody is the JSON error object for a response of status.
	ErrorBody(status int, code, message string) []byte
	// StreamError is the SSE event that ends a stream which failed after
	// it began, in the shape the protocol's SDKs raise as an error.
	StreamError(status int, code, message string) []byte
}

// Unsupported refuses a request that asks for something the provider
// cannot do, and that leaving out would change the answer.
type Unsupported struct {
	// Param names the caller's parameter or content, e.g. "n" or
	// "messages[2].content[0] (audio)".
	Param string
	// Provider names the provider protocol, e.g. "anthropic".
	Provider providers.Protocol
	// Why says what the provider lacks and what the caller can do.
	Why string
}

func (e *Unsupported) Error() string {
	msg := fmt.Sprintf("%s cannot be translated to the %s API", e.Param, e.Provider)
	if e.Why != "" {
		msg += ": " + e.Why
	}
	return msg
}

// BadRequest is a request the caller's own API would refuse: a member of
// the wrong type, a tool call without an id.
type BadRequest struct {
	Param string
	Err   error
}

func (e *BadRequest) Error() string {
	if e.Param == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("%s: %v", e.Param, e.Err)
}

func (e *BadRequest) Unwrap() error { return e.Err }

// UpstreamError is an error the provider reported inside a stream.
type UpstreamError struct {
	// Status is the HTTP status the error stands for (529 overloaded,
	// 500); 0 when the provider gave none.
	Status  int
	Message string
}

func (e *UpstreamError) Error() string { return e.Message }

// AppendEvent appends one SSE event: an "event:" line when name is not
// empty, data as one "data:" line (JSON has no raw newlines), a blank line.
func AppendEvent(dst []byte, name string, data []byte) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	dst = append(dst, "data: "...)
	dst = append(dst, data...)
	return append(dst, "\n\n"...)
}
