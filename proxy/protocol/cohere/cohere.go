// Package cohere is the adapter for Cohere's v2 API (POST /v2/chat and
// /v2/embed), both as an API callers speak and as a provider the gateway
// calls.
//
// Choices where the two sides do not match one to one:
//   - documents (top-level RAG documents) are listed in Request.Unknown,
//     so a translated request with them is refused: no other provider
//     grounds on documents and cites them. A document inside a tool result
//     becomes a text part holding the document's JSON, which every
//     provider can read; a text/plain document in a tool result is sent to
//     Cohere as a document, any other document as Unsupported.
//   - safety_mode CONTEXTUAL (the default) decodes to nothing; STRICT and
//     OFF change the answer and have no counterpart, so they are Unknown.
//   - citation_options, priority and logprobs false decode to nothing:
//     citations only annotate an answer (they are not translated) and
//     priority only schedules. logprobs true is Unknown.
//   - tool_plan, the model's visible plan before its tool calls, is a
//     text part before the calls; text that precedes tool calls in an
//     assistant turn is written as tool_plan. A streamed answer cannot
//     look ahead, so its text is always written as content.
//   - tool_choice has REQUIRED and NONE only: a named tool is sent as
//     REQUIRED with only that tool in tools.
//   - thinking {type: enabled} without a budget is Reasoning{} (the
//     provider's default); thinking from earlier turns is sent back as
//     thinking content, which Cohere takes; signatures have no place and
//     redacted thinking is left out (Omit "redacted_thinking").
//   - cache marks (Omit "cache_control"), parallel_tool_calls, user and
//     is_error on tool results have no counterpart and are omitted.
//   - n > 1, audio, images in tool results and documents in user turns
//     are refused with *protocol.Unsupported.
//   - finish TIMEOUT is read as length (the answer was cut short);
//     content_filter is written as ERROR, refusal and pause as COMPLETE.
//   - system messages anywhere in the conversation join Request.System;
//     an image's detail has no counterpart and decodes to nothing.
//   - usage reads tokens (else billed_units) as the gateway's meter does,
//     and cached_tokens as cached input; answers to Cohere callers carry
//     the same counts in tokens and billed_units.
package cohere

import (
	"github.com/sluicehq/sluice/providers"
	"github.com/sluicehq/sluice/proxy/protocol"
)

// Chat is Cohere's v2 API: POST /v2/chat (OpGenerate) and POST /v2/embed
// (OpEmbed), as a Client and as a Provider.
var Chat interface {
	protocol.Client
	protocol.Provider
} = chat{}

type chat struct{}

// provider names this protocol in Unsupported errors.
const provider = providers.ProtocolCohere

// Paths of the provider calls, below the credential's base URL.
const (
	chatPath  = "/v2/chat"
	embedPath = "/v2/embed"
)

// defaultInputType is the embed input_type sent when the caller gave
// none: Cohere's v3 and later embedding models require one, and a
// caller that did not choose is most often embedding documents.
const defaultInputType = "search_document"
