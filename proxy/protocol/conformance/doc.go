// Package conformance holds the translation matrix: every caller API
// (OpenAI Chat Completions, OpenAI Responses, Anthropic Messages, Gemini,
// Cohere v2) against every provider API (OpenAI-compatible chat,
// Anthropic, Gemini, Cohere), plain and streamed, for text, tools with a
// tool-result turn, image input, structured output and reasoning. Each
// cell decodes a request as the caller's SDK sends it, encodes it for the
// provider, answers it with a recorded answer of the provider's wire
// format, and reads what the caller gets back with the caller's own
// reader and, where there is one, the official SDK's types. The test
// renders the matrix into docs/compatibility.md and fails when that file
// is out of date (go test ./proxy/protocol/conformance -update rewrites
// it).
//
// The package has no code of its own: only the test.
package conformance
