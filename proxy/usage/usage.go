// Package usage reads token counts out of provider responses, streamed or
// not, so the proxy can price every request without understanding the rest
// of the body, and estimates what a request may cost before it is sent so the
// budget can be reserved.
package usage

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sluicehq/sluice/tokens"
)

// Wire protocols, named as in the provider catalog. Each names a family of
// response shapes, not a vendor: "openai" also covers every OpenAI-compatible
// upstream (and the Responses API), "anthropic" the Messages API.
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
	Gemini    = "gemini"
	Cohere    = "cohere"
)

// Usage is what one request consumed as a provider reported it: the
// tokens it is billed for, and what a translated answer also tells the
// caller.
type Usage struct {
	tokens.Tokens
	// ReasoningTokens is the part of OutputTokens the model spent thinking,
	// where the provider reports it; it is billed as output, so it is not
	// priced on its own, but a translated answer reports it to the caller.
	ReasoningTokens int64
	// Found is true when the provider reported these numbers; false means they
	// are absent (zero) or, from a StreamMeter, an estimate.
	Found bool
}

// ErrUnknownProtocol is returned for a protocol name FromBody does not know;
// it is a configuration error, not a property of the body.
var ErrUnknownProtocol = errors.New("usage: unknown protocol")

// ErrInvalidJSON is returned when a non-streamed body is not JSON, so the
// caller can log an upstream that answered 200 with garbage instead of
// silently recording zero tokens.
var ErrInvalidJSON = errors.New("usage: response body is not valid JSON")

// ErrUnreadableUsage is returned when a body reports usage but a count in
// it is not a token count (a string, a negative number, an object): the
// tokens were spent, so the caller must not take the count as zero.
var ErrUnreadableUsage = errors.New("usage could not be read")

// badCount is the first count member of a usage object whose value is not
// a count; name is empty while every count read was fine.
type badCount struct {
	name string
	val  []byte
}

// count reads the count member name, noting it when it is present, not
// null and not a count.
func (b *badCount) count(name string, v []byte) (int64, bool) {
	n, ok := count(v)
	if !ok {
		b.note(name, v)
	}
	return n, ok
}

func (b *badCount) note(name string, v []byte) {
	if b.name == "" && len(v) > 0 && string(v) != "null" {
		b.name, b.val = name, v
	}
}

// err describes the bad count, quoting at most 40 bytes of its value.
func (b *badCount) err() error {
	if b.name == "" {
		return nil
	}
	v := b.val
	if len(v) > 40 {
		v = append(v[:40:40], "…"...)
	}
	return fmt.Errorf("%w: %q is %s, not a token count", ErrUnreadableUsage, b.name, v)
}

type protocol uint8

const (
	pOpenAI protocol = iota
	pAnthropic
	pGemini
	pCohere
)

func parseProtocol(name string) (protocol, bool) {
	switch name {
	case OpenAI:
		return pOpenAI, true
	case Anthropic:
		return pAnthropic, true
	case Gemini:
		return pGemini, true
	case Cohere:
		return pCohere, true
	}
	return pOpenAI, false
}

// FromBody reads usage from a complete (non-streamed) response body.
// A valid body without usage gives Usage{Found: false} and no error; one
// whose usage holds a count that is not a number gives ErrUnreadableUsage.
//
//   - openai: usage.prompt_tokens / completion_tokens /
//     prompt_tokens_details.cached_tokens (chat, completions, embeddings,
//     where only total_tokens may be given), or the Responses API's
//     usage.input_tokens / output_tokens / input_tokens_details.cached_tokens;
//     prompt_tokens_details.cache_write_tokens (OpenRouter's count of an
//     Anthropic model's cache writes) as CacheWriteTokens.
//   - anthropic: usage.input_tokens counts only the uncached input, so
//     InputTokens adds cache_creation_input_tokens and cache_read_input_tokens
//     to it; CachedInputTokens is cache_read_input_tokens, CacheWriteTokens
//     cache_creation_input_tokens, and CacheWrite1hTokens
//     cache_creation.ephemeral_1h_input_tokens.
//   - gemini: usageMetadata.promptTokenCount (+ toolUsePromptTokenCount) as
//     input, candidatesTokenCount + thoughtsTokenCount as output,
//     cachedContentTokenCount as cached. A JSON array (streamGenerateContent
//     without alt=sse) takes the last element that has usageMetadata.
//   - cohere: usage.tokens, else usage.billed_units, else the same under meta
//     (the v1 and embed shape).
func FromBody(protocol string, body []byte) (Usage, error) {
	p, ok := parseProtocol(protocol)
	if !ok {
		return Usage{}, fmt.Errorf("%w %q", ErrUnknownProtocol, protocol)
	}
	// The walker finds usage without validating the whole body (which would
	// read it all a second time); only a body without usage is checked, to
	// tell an answer that reported none from one that is not JSON.
	var bad badCount
	u := fromBody(p, body, &bad)
	if err := bad.err(); err != nil {
		return Usage{}, err
	}
	if u.Found {
		return u, nil
	}
	if !json.Valid(body) {
		return Usage{}, ErrInvalidJSON
	}
	return Usage{}, nil
}

// fromBody is FromBody's search, on a body it has not validated.
func fromBody(p protocol, body []byte, bad *badCount) Usage {
	switch p {
	case pAnthropic:
		var a anthropicUsage
		if u := field(body, "usage"); a.read(u, bad) {
			return a.usage()
		}
	case pGemini:
		return geminiBody(body, bad)
	case pCohere:
		if u, ok := cohereUsage(field(body, "usage"), bad); ok {
			return u
		}
		if u, ok := cohereUsage(field(body, "meta"), bad); ok {
			return u
		}
	default:
		if u, ok := openAIUsage(field(body, "usage"), bad); ok {
			return u
		}
	}
	return Usage{}
}

// openAIUsage reads an OpenAI usage object in either naming (chat/completions
// or Responses API), noting a count that is not one in bad.
func openAIUsage(v []byte, bad *badCount) (Usage, bool) {
	var n [6]int64
	var has [6]bool
	if !counts(v, []string{"prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens",
		"prompt_cache_hit_tokens" /* DeepSeek */}, n[:], has[:], bad) {
		return Usage{}, false
	}
	prompt, input, completion, output, total, cacheHit := n[0], n[1], n[2], n[3], n[4], n[5]
	hasPrompt, hasInput, hasCompletion, hasOutput, hasTotal := has[0], has[1], has[2], has[3], has[4]
	details := field(v, "prompt_tokens_details")
	cachedP, hasCachedP := bad.count("cached_tokens", field(details, "cached_tokens"))
	cachedI, hasCachedI := bad.count("cached_tokens", field(field(v, "input_tokens_details"), "cached_tokens"))
	written, _ := bad.count("cache_write_tokens", field(details, "cache_write_tokens")) // OpenRouter, for Anthropic's models
	u := Usage{Found: true}
	switch {
	case hasPrompt:
		u.InputTokens = prompt
	case hasInput:
		u.InputTokens = input
	}
	switch {
	case hasCompletion:
		u.OutputTokens = completion
	case hasOutput:
		u.OutputTokens = output
	}
	if !hasPrompt && !hasInput && hasTotal && total > u.OutputTokens {
		// Some embedding servers report only the total.
		u.InputTokens = total - u.OutputTokens
	}
	switch {
	case hasCachedP:
		u.CachedInputTokens = cachedP
	case hasCachedI:
		u.CachedInputTokens = cachedI
	default:
		u.CachedInputTokens = cacheHit
	}
	u.CacheWriteTokens = written
	return u, true
}

// anthropicUsage keeps Anthropic's counters apart, because a stream
// reports them in two events that must be merged before summing.
type anthropicUsage struct {
	input, output, cacheRead, cacheWrite, cacheWrite1h int64
}

// read merges the usage object v into a. Every counter is cumulative over the
// stream, so the larger value wins: message_delta may repeat or omit the
// input counts of message_start, and some relays send zeros there. Within one
// object the last of duplicate members counts, as with encoding/json.
func (a *anthropicUsage) read(v []byte, bad *badCount) bool {
	var cur [4]int64
	var has [4]bool
	if !counts(v, []string{"input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"}, cur[:], has[:], bad) {
		return false
	}
	for i, dst := range [...]*int64{&a.input, &a.output, &a.cacheRead, &a.cacheWrite} {
		if has[i] && cur[i] > *dst {
			*dst = cur[i]
		}
	}
	// The split by lifetime sits in a nested object; only the one-hour part
	// is kept, since the rest of cache_creation_input_tokens is five-minute.
	if n, ok := bad.count("ephemeral_1h_input_tokens", field(field(v, "cache_creation"), "ephemeral_1h_input_tokens")); ok && n > a.cacheWrite1h {
		a.cacheWrite1h = n
	}
	return true
}

func (a anthropicUsage) usage() Usage {
	return Usage{
		Tokens: tokens.Tokens{
			InputTokens:        sat(sat(a.input, a.cacheRead), a.cacheWrite),
			OutputTokens:       a.output,
			CachedInputTokens:  a.cacheRead,
			CacheWriteTokens:   a.cacheWrite,
			CacheWrite1hTokens: min(a.cacheWrite1h, a.cacheWrite),
		},
		Found: true,
	}
}

// geminiUsage reads a usageMetadata object.
func geminiUsage(v []byte, bad *badCount) (Usage, bool) {
	var n [5]int64
	var has [5]bool
	if !counts(v, []string{"promptTokenCount", "toolUsePromptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
		"cachedContentTokenCount"}, n[:], has[:], bad) {
		return Usage{}, false
	}
	prompt, tool, candidates, thoughts, cached := n[0], n[1], n[2], n[3], n[4]
	return Usage{
		Tokens: tokens.Tokens{
			InputTokens:       sat(prompt, tool),
			OutputTokens:      sat(candidates, thoughts),
			CachedInputTokens: cached,
		},
		Found: true,
	}, true
}

// geminiBody reads a generateContent response, or the JSON array that
// streamGenerateContent returns without alt=sse, whose last element with
// usage counts (and only its counts must be readable).
func geminiBody(body []byte, bad *badCount) Usage {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '[' {
		u, _ := geminiUsage(field(body, "usageMetadata"), bad)
		return u
	}
	var last Usage
	i = skipSpace(body, i+1)
	for i < len(body) && body[i] != ']' {
		e := valueEnd(body, i)
		if e < 0 {
			break
		}
		var b badCount
		if u, ok := geminiUsage(field(body[i:e], "usageMetadata"), &b); ok {
			last, *bad = u, b
		}
		i = skipSpace(body, e)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
	return last
}

// cohereUsage reads a Cohere usage (or meta) object: the tokens the model
// processed when given, else the billed units.
func cohereUsage(v []byte, bad *badCount) (Usage, bool) {
	if !isObject(v) {
		return Usage{}, false
	}
	for _, name := range [...]string{"tokens", "billed_units"} {
		var n [2]int64
		var has [2]bool
		if counts(field(v, name), []string{"input_tokens", "output_tokens"}, n[:], has[:], bad) && (has[0] || has[1]) {
			u := Usage{Tokens: tokens.Tokens{InputTokens: n[0], OutputTokens: n[1]}, Found: true}
			// cached_tokens, beside them, is the part of the input read
			// from Cohere's prompt cache.
			if c, ok := bad.count("cached_tokens", field(v, "cached_tokens")); ok {
				u.CachedInputTokens = min(c, u.InputTokens)
			}
			return u, true
		}
	}
	return Usage{}, false
}

// counts reads the members of object v named in keys into n and has, by
// index (the last of duplicate members counts), notes in bad a member whose
// value is not a count, and reports whether v is an object.
func counts(v []byte, keys []string, n []int64, has []bool, bad *badCount) bool {
	return eachMember(v, func(k, val []byte) {
		for i, key := range keys {
			if string(k) == key {
				n[i], has[i] = bad.count(key, val)
				return
			}
		}
	})
}

// sat adds two counts without overflowing.
func sat(a, b int64) int64 {
	if s := a + b; s >= a {
		return s
	}
	return 1<<63 - 1
}

// EstimateInputTokens bounds a request's input tokens from its size, for
// reserving budget before the upstream has said anything. A byte-level
// tokenizer never makes more tokens than there are bytes, so the body's
// length (plus a margin for the chat template's own tokens) is an upper
// bound, not an average: the budget's promise that a block is never passed
// needs the reservation to cover the real cost, and an over-reservation is
// settled back when the real usage arrives. (Averages such as length/4 let
// a burst of requests spend past a block.) Images and audio sent as base64
// are counted as text, so for those it errs very high.
func EstimateInputTokens(body []byte) int64 {
	return int64(len(body)) + templateTokens
}

// templateTokens covers what a provider adds around the messages (role
// markers, tool schemas' framing).
const templateTokens = 64

// MaxOutputTokens reads the output cap a request body asks for, the other
// half of the worst-case cost to reserve: max_tokens, max_completion_tokens or
// max_output_tokens (OpenAI, Responses, Anthropic, Cohere; the largest when
// several are set), or generationConfig.maxOutputTokens for Gemini. ok is
// false when the body sets none or is not a JSON object.
func MaxOutputTokens(protocol string, body []byte) (n int64, ok bool) {
	if protocol == Gemini {
		for _, cfg := range [...]string{"generationConfig", "generation_config"} {
			c := field(body, cfg)
			for _, key := range [...]string{"maxOutputTokens", "max_output_tokens"} {
				if v, found := count(field(c, key)); found {
					return v, true
				}
			}
		}
		return 0, false
	}
	eachMember(body, func(k, val []byte) {
		switch string(k) {
		case "max_tokens", "max_completion_tokens", "max_output_tokens":
			if v, found := count(val); found && (!ok || v > n) {
				n, ok = v, true
			}
		}
	})
	return n, ok
}

// Choices is how many answers a request asks for, each as long as the
// output cap allows, so the worst case is Choices × MaxOutputTokens:
//   - openai: the larger of n and best_of (legacy completions generate
//     best_of answers and return n), times the prompts of a legacy
//     completions batch ("prompt" as an array of strings or token arrays);
//   - gemini: generationConfig.candidateCount;
//   - cohere: num_generations (the v1 generate API);
//   - anthropic, and OpenAI's Responses API, have no such member: one.
//
// Absent, null and 0 mean one. bad names a member that is set but is not a
// count (a string, a negative number): the upstream may read it in ways
// the gateway cannot bound, so the request's worst case is unknown. The
// product saturates rather than overflowing.
func Choices(protocol string, body []byte) (n int64, bad string) {
	n = 1
	each := func(name string, v []byte) {
		if len(v) == 0 || string(v) == "null" {
			return
		}
		c, ok := count(v)
		switch {
		case !ok && bad == "":
			bad = name
		case ok && c > n:
			n = c
		}
	}
	switch protocol {
	case Gemini:
		for _, cfg := range [...]string{"generationConfig", "generation_config"} {
			c := field(body, cfg)
			each("candidateCount", field(c, "candidateCount"))
			each("candidate_count", field(c, "candidate_count"))
		}
	case Cohere:
		each("num_generations", field(body, "num_generations"))
	case OpenAI:
		prompts := int64(1)
		eachMember(body, func(k, v []byte) {
			switch string(k) {
			case "n", "best_of":
				each(string(k), v)
			case "prompt":
				prompts = promptCount(v)
			}
		})
		n = satMul(n, prompts)
	}
	return n, bad
}

// Prompts is how many prompts a request sends at once: the prompts of an
// OpenAI legacy completions batch, otherwise one. Each is billed its own
// input.
func Prompts(protocol string, body []byte) int64 {
	if protocol != OpenAI {
		return 1
	}
	return promptCount(field(body, "prompt"))
}

// promptCount is how many prompts a legacy completions "prompt" holds: an
// array of strings or of token arrays is a batch, anything else one prompt.
func promptCount(v []byte) int64 {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return 1
	}
	var n int64
	for i = skipSpace(v, i+1); i < len(v) && v[i] != ']'; {
		if v[i] != '"' && v[i] != '[' {
			return 1 // token IDs: one prompt
		}
		e := valueEnd(v, i)
		if e < 0 {
			break
		}
		n++
		if i = skipSpace(v, e); i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return max(n, 1)
}

// satMul multiplies two non-negative counts without overflowing.
func satMul(a, b int64) int64 {
	if a != 0 && b > (1<<63-1)/a {
		return 1<<63 - 1
	}
	return a * b
}
