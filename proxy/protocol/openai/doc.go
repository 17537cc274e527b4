// Package openai is the OpenAI Chat Completions adapter, both sides: the
// client side reads what the official OpenAI SDKs send to
// POST /v1/chat/completions and writes the answers, streams and errors
// they read back; the provider side writes what every OpenAI-compatible
// upstream takes (OpenAI, DeepSeek, Groq, Mistral, Together, OpenRouter,
// Ollama) and reads their answers. It also holds the embeddings adapter
// (POST /v1/embeddings), the OpenAI error shape and the model list.
//
// Choices made in translation:
//   - developer messages are system messages; every system or developer
//     message, wherever it stands, becomes part of Request.System.
//   - tool messages become PartToolResult parts of one user message, named
//     after the earlier assistant tool call with the same id; a user message
//     right after tool messages joins that message.
//   - an assistant's reasoning_content (DeepSeek-style clients) is a
//     PartThinking; the provider encoder leaves thinking out
//     (req.Omit("thinking")), and redacted thinking too.
//   - file parts with file_data (a base64 PDF) are documents; file_id
//     refers to OpenAI's storage and is listed in Request.Unknown, as are
//     non-function tools, the "function" role, logprobs, top_logprobs,
//     logit_bias, audio, modalities other than text, prediction,
//     web_search_options, functions and function_call.
//   - store, metadata, service_tier, prompt_cache_key,
//     prompt_cache_retention, safety_identifier and stream_options (other
//     than include_usage) do not change the answer and decode to nothing;
//     a member whose value is null is absent.
//   - the provider encoder sends max_tokens (not max_completion_tokens),
//     which every compatible provider knows; always stream_options
//     include_usage when streaming; reasoning as reasoning_effort (a
//     budget becomes the nearest effort, disabled becomes "none").
//   - several system parts are joined into one system message, and a
//     message's text parts into one string, with a blank line between, as
//     some compatible providers take only string content.
//   - images inside tool results go in a user message right after the
//     tool messages, as tool messages carry only text; a tool result's
//     error flag has no counterpart (req.Omit("is_error")).
//   - cache marks (req.Omit("cache_control")), top_k (req.Omit("top_k"))
//     and an embedding input type (req.Omit("input_type")) are left out.
//   - n > 1 is sent on, but only a passthrough request gets several
//     answers in practice: a translated answer is read from choice 0 and
//     written back as one choice.
package openai
