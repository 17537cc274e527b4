package usage

import (
	"bytes"

	"github.com/sluicehq/sluice/proxy/sse"
)

// StreamMeter follows a streamed response event by event and keeps its usage:
// the provider's own numbers when its usage event arrives, and meanwhile a
// count of the streamed content so a stream cut short still has a price.
//
// It understands, per protocol:
//   - openai: chat/completions chunks (usage in the last chunk when the
//     request set stream_options.include_usage, then "data: [DONE]"), and the
//     Responses API (response.completed, .incomplete or .failed carrying
//     response.usage);
//   - anthropic: message_start (message.usage: input and cache counts) merged
//     with message_delta (usage: cumulative output_tokens);
//   - gemini: streamGenerateContent?alt=sse chunks, each of which may carry
//     usageMetadata; the last one wins, and the one on the chunk with a
//     finishReason is final;
//   - cohere: the v2 message-end event's delta.usage.
//
// Events are only parsed as far as needed: bytes.Contains on the raw data
// rules out most events before any member is looked at, and nothing is
// decoded into Go values. A StreamMeter is not safe for concurrent use.
type StreamMeter struct {
	p     protocol
	u     Usage // the latest numbers the provider reported (openai, gemini, cohere)
	a     anthropicUsage
	seen  bool  // some usage numbers were reported
	final bool  // the protocol's final usage event arrived
	chars int64 // characters of streamed content
	// bad is the first usage count that was not a count; once set, the
	// provider's numbers are not trusted and Usage is an estimate.
	bad badCount
}

// NewStreamMeter returns a meter for a protocol named as for FromBody. An
// unknown name is treated as "openai", which nearly every other upstream
// speaks, rather than metering nothing.
func NewStreamMeter(protocol string) *StreamMeter {
	p, _ := parseProtocol(protocol)
	return &StreamMeter{p: p}
}

// Observe takes the next event of the stream. Events without data, comments
// and events it cannot parse are ignored.
func (m *StreamMeter) Observe(ev sse.Event) {
	d := ev.Data
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return // keep-alives, [DONE]
	}
	switch m.p {
	case pAnthropic:
		m.observeAnthropic(d)
	case pGemini:
		m.observeGemini(d)
	case pCohere:
		m.observeCohere(d)
	default:
		m.observeOpenAI(d)
	}
}

func (m *StreamMeter) observeOpenAI(d []byte) {
	var typ []byte
	if hasObjectMember(d, `"usage"`) {
		// One walk for both shapes: a chat chunk's top-level usage, or a
		// Responses event's response.usage.
		var usage, response []byte
		eachMember(d, func(k, v []byte) {
			switch string(k) {
			case "usage":
				usage = v
			case "response":
				response = v
			case "type":
				typ = v
			}
		})
		if u, ok := openAIUsage(usage, &m.bad); ok {
			m.report(u, true)
			return
		}
		if u, ok := openAIUsage(field(response, "usage"), &m.bad); ok {
			m.report(u, true)
			return
		}
	} else if bytes.Contains(d, []byte(`"response.`)) {
		typ = field(d, "type")
	}
	if t := unescape(jsonString(typ)); bytes.HasPrefix(t, []byte("response.")) {
		// Responses API events: only the deltas are new content; the .done
		// events and response.* snapshots repeat it.
		if bytes.HasSuffix(t, []byte(".delta")) && !bytes.Equal(t, []byte("response.audio.delta")) {
			m.chars += textChars(field(d, "delta"))
		}
		return
	}
	c := countText(d, openAIText)
	// Relays send the same reasoning under several keys (OpenRouter's
	// reasoning and reasoning_details[].text, vLLM's reasoning and
	// reasoning_content): count the longest, not the sum.
	m.chars += c[oContent] + c[oRefusal] + c[oArguments] + max(c[oReasoning], c[oReasoningContent], c[oText])
}

func (m *StreamMeter) observeAnthropic(d []byte) {
	switch string(unescape(jsonString(field(d, "type")))) {
	case "message_start":
		if m.a.read(field(field(d, "message"), "usage"), &m.bad) {
			m.seen = true
		}
	case "message_delta":
		if m.a.read(field(d, "usage"), &m.bad) {
			m.seen, m.final = true, true
		}
	case "content_block_delta":
		m.chars += sum(countText(d, anthropicText))
	}
}

func (m *StreamMeter) observeGemini(d []byte) {
	if bytes.Contains(d, []byte("usageMetadata")) {
		if u, ok := geminiUsage(field(d, "usageMetadata"), &m.bad); ok {
			m.report(u, hasFinishReason(field(d, "candidates")))
		}
	}
	m.chars += sum(countText(d, geminiText))
}

// hasFinishReason reports whether any candidate in the array v has a
// finishReason, which marks Gemini's last chunk.
func hasFinishReason(v []byte) bool {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != '[' {
		return false
	}
	for i = skipSpace(v, i+1); i < len(v) && v[i] != ']'; {
		e := valueEnd(v, i)
		if e < 0 {
			return false
		}
		if r := field(v[i:e], "finishReason"); len(r) > 0 && r[0] == '"' {
			return true
		}
		i = skipSpace(v, e)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return false
}

func (m *StreamMeter) observeCohere(d []byte) {
	if bytes.Contains(d, []byte("message-end")) {
		if string(unescape(jsonString(field(d, "type")))) == "message-end" {
			if u, ok := cohereUsage(field(field(d, "delta"), "usage"), &m.bad); ok {
				m.report(u, true)
			}
			return
		}
	}
	if bytes.Contains(d, []byte("-delta")) {
		switch string(unescape(jsonString(field(d, "type")))) {
		case "content-delta", "tool-plan-delta", "tool-call-delta":
			m.chars += sum(countText(d, cohereText))
		}
	}
}

func (m *StreamMeter) report(u Usage, final bool) {
	m.u, m.seen = u, true
	m.final = m.final || final
}

// Partial reports whether the stream has not (yet) delivered its final usage
// event in a form that could be read: the upstream was cut, was never asked
// for usage, or reported a count that is not one (see Err).
func (m *StreamMeter) Partial() bool {
	return !m.final || m.bad.name != ""
}

// Err says why the provider's usage could not be read (ErrUnreadableUsage),
// or is nil.
func (m *StreamMeter) Err() error {
	return m.bad.err()
}

// Usage returns the provider's numbers once its final usage event has been
// seen (Found is true).
//
// Until then (Partial), Found is false and OutputTokens is an estimate: the
// streamed content characters divided by 4, rounded up, or the provider's own
// running count if that is higher. The estimate exists because a client that
// received tokens must not be recorded as costing $0; it is rough (code and
// non-English text run more tokens per character, so it tends low) and is
// never passed off as reported. Input counts reported early (Anthropic's
// message_start, Gemini's running usageMetadata) are kept; when none was
// reported, InputTokens is 0 and the caller should fall back to its own
// estimate of the request, such as EstimateInputTokens.
func (m *StreamMeter) Usage() Usage {
	u := m.u
	if m.p == pAnthropic && m.seen {
		u = m.a.usage()
	}
	if !m.Partial() {
		u.Found = true
		return u
	}
	u.Found = false
	if est := (m.chars + 3) / 4; est > u.OutputTokens {
		u.OutputTokens = est
	}
	return u
}

// IsUsageOnlyChunk reports whether ev is the OpenAI chat chunk that exists only
// to carry usage ("choices":[] with a non-null usage), which the proxy drops
// from the client's stream when it added stream_options.include_usage itself
// and the client did not ask for it. Always false for other protocols, and
// for chunks that also carry choices, which the client needs.
func (m *StreamMeter) IsUsageOnlyChunk(ev sse.Event) bool {
	if m.p != pOpenAI || !hasObjectMember(ev.Data, `"usage"`) {
		return false
	}
	if !isObject(field(ev.Data, "usage")) {
		return false
	}
	c := field(ev.Data, "choices")
	return len(c) > 0 && c[0] == '[' && skipSpace(c, 1) == len(c)-1
}

// jsonString returns the raw contents of v when it is a JSON string.
func jsonString(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return nil
	}
	return v[1 : len(v)-1]
}

// textChars returns the characters of v when it is a JSON string.
func textChars(v []byte) int64 {
	if len(v) == 0 || v[0] != '"' {
		return 0
	}
	_, n := stringChars(v, 0)
	return n
}

// slots holds character counts per kind of text key; slot 0 is unused and
// stands for "not text".
type slots [8]int64

func sum(c slots) int64 {
	var n int64
	for _, v := range c[1:] {
		n += v
	}
	return n
}

// countText adds up, per slot, the characters of the string values of d, at
// any depth, whose key slotOf maps to a slot above 0. It is one pass over d
// that tells keys from values and never looks inside strings for keys, so
// text that merely mentions a key is not mistaken for one.
func countText(d []byte, slotOf func(key []byte) int) slots {
	var c slots
	slot := 0 // >0: the last token was a text key and its colon
	for i := 0; i < len(d); {
		if slot == 0 {
			q := bytes.IndexByte(d[i:], '"')
			if q < 0 {
				return c
			}
			i += q
		}
		switch b := d[i]; {
		case b == '"' && slot > 0:
			e, n := stringChars(d, i)
			if e < 0 {
				return c
			}
			c[slot] += n
			i, slot = e, 0
		case b == '"':
			e := stringEnd(d, i)
			if e < 0 {
				return c
			}
			if j := skipSpace(d, e); j < len(d) && d[j] == ':' {
				slot = slotOf(d[i+1 : e-1])
				e = j + 1
			}
			i = e
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			i++
		default:
			i, slot = i+1, 0
		}
	}
	return c
}

// Slots of OpenAI-compatible chunk text.
const (
	oContent = 1 + iota
	oRefusal
	oArguments
	oReasoning
	oReasoningContent
	oText // legacy completions, and OpenRouter's reasoning_details
)

func openAIText(k []byte) int {
	switch string(unescape(k)) {
	case "content":
		return oContent
	case "refusal":
		return oRefusal
	case "arguments":
		return oArguments
	case "reasoning":
		return oReasoning
	case "reasoning_content":
		return oReasoningContent
	case "text":
		return oText
	}
	return 0
}

// anyKey returns a slotOf for countText that puts all the given keys in
// slot 1.
func anyKey(keys ...string) func([]byte) int {
	return func(k []byte) int {
		k = unescape(k)
		for _, key := range keys {
			if string(k) == key {
				return 1
			}
		}
		return 0
	}
}

var (
	anthropicText = anyKey("text", "thinking", "partial_json")
	geminiText    = anyKey("text")
	cohereText    = anyKey("text", "tool_plan", "arguments")
)
