// Package gemini translates Google's Generative Language API
// (generateContent, streamGenerateContent?alt=sse, countTokens,
// batchEmbedContents) to and from the internal form of package protocol,
// on both sides: API reads Gemini callers' requests and writes their
// answers (Client), and writes requests to Gemini upstreams and reads their
// answers (Provider).
//
// Choices where the two forms do not meet one to one:
//   - Roles: "user" (and the older "function") are RoleUser, "model" is
//     RoleAssistant. functionResponse parts are tool results in a user
//     message, as the internal form has them.
//   - Tool call ids: a functionCall without an id gets "call_<n>", n the
//     call's index in the answer (in a request: in the request), and a
//     functionResponse without an id takes the id of the earliest
//     unanswered call of the same name.
//   - Tool results: a result's text is sent as functionResponse.response
//     {"result": text}, or, when the text is itself a JSON object, as that
//     object, so a tool that returns JSON reaches the model as structured
//     data; a failed call is {"error": text}. Read back, a response with
//     only a "result", "output" or "error" string is that text, anything
//     else is its JSON text. A result must name its function: a result
//     without Name is refused.
//   - Thought signatures travel on the part Gemini put them on: thought
//     parts (PartThinking.Signature), functionCall parts
//     (PartToolCall.Signature) and, in complete answers, text parts. A
//     streamed text part's signature is dropped, since other APIs' streams
//     have no place for it and Gemini requires signatures only on calls.
//   - Schemas: tool parameters and response schemas are JSON Schema in the
//     internal form, so they are sent as parametersJsonSchema and
//     responseJsonSchema; Gemini's OpenAPI-style parameters and
//     responseSchema are read with their type names lower-cased.
//   - Reasoning: thinkingBudget 0 is Disabled, a positive budget is
//     BudgetTokens, -1 (dynamic) is Effort "medium", thinkingLevel is
//     Effort; encoded, efforts become thinkingBudget via
//     protocol.EffortBudget, always with includeThoughts.
//   - candidateCount is N both ways; an answer is read from its first
//     candidate only.
//   - Not translated, listed in Request.Unknown: safetySettings and
//     cachedContent (they change the answer or refer to server state),
//     tools other than functionDeclarations (googleSearch, codeExecution,
//     urlContext…), generationConfig members the form lacks
//     (responseModalities, responseLogprobs…), and parts it cannot hold
//     (video, executableCode…). labels and model are decoded to nothing.
//   - Sent to Gemini without a counterpart, recorded with Request.Omit:
//     cache_control (Gemini caches implicitly), redacted_thinking, user,
//     strict, parallel_tool_calls.
//   - Embeddings: Gemini reports no usage for them, so Usage.Found stays
//     false.
package gemini

import "github.com/sluicehq/sluice/proxy/protocol"

// Adapter is the Gemini API adapter; it holds no state.
type Adapter struct{}

// API is the Gemini adapter, both a protocol.Client and a
// protocol.Provider.
var API Adapter

var (
	_ protocol.Client   = API
	_ protocol.Provider = API
)
