// Package responses is OpenAI's Responses API (POST /v1/responses) as a
// client adapter: it reads a caller's request into the internal form and
// writes the answer, streamed or not, as a Response object and the
// Responses stream's typed events. It is never a provider: a Responses
// caller whose target speaks Responses is passed through untouched.
//
// Choices in translation:
//   - The gateway keeps no response state, so previous_response_id,
//     conversation, item_reference input items, file_id images and files,
//     file_url files, stored prompts and background:true are listed in
//     Request.Unknown (the proxy refuses them, naming them).
//   - Hosted tools (web_search, file_search, computer_use, code_interpreter,
//     mcp, image_generation, …) run on OpenAI's servers and are Unknown;
//     only function tools translate. A function tool's strict is true only
//     when the caller says so.
//   - store, metadata, include, truncation, service_tier, prompt_cache_key,
//     prompt_cache_retention, safety_identifier, stream_options and
//     background:false are decoded to nothing: they do not change the
//     answer. text.verbosity other than "medium" is Unknown.
//   - instructions and system or developer messages become the system
//     prompt, in order; a system message between turns moves to the front.
//   - Consecutive assistant items (reasoning, messages, function calls) form
//     one assistant message; consecutive function_call_outputs form one user
//     message of tool results, each named from its earlier function_call.
//   - A reasoning item is a thinking part: its summary texts joined as the
//     text, its encrypted_content as the signature; one with neither is
//     dropped. Redacted thinking goes out as a reasoning item whose
//     encrypted_content carries redactedPrefix, so that it comes back as
//     redacted thinking.
//   - reasoning.effort "none" disables thinking and "xhigh" is "high";
//     reasoning.summary is decoded to nothing (thinking the provider returns
//     is always written as a reasoning summary).
//   - prompt_cache_breakpoint on input parts is a cache mark (ttl "12h" is
//     the longest mark, "1h").
//   - Answers: status "incomplete" for length (reason max_output_tokens)
//     and content_filter, "failed" for a provider error, else "completed".
//     A stream's response.completed is written at the finish when usage is
//     known, else when it arrives or at the end of the stream.
package responses
