package anthropic

import (
	"github.com/sluicehq/sluice/proxy/protocol"
	"github.com/sluicehq/sluice/proxy/usage"
	"github.com/sluicehq/sluice/tokens"
)

// usageOf reads Anthropic's usage, whose input_tokens leaves out cache
// reads and writes, into the internal form, whose InputTokens is the
// whole input.
func usageOf(w *wireUsage) usage.Usage {
	u := usage.Usage{Tokens: tokens.Tokens{OutputTokens: w.OutputTokens}, Found: true}
	u.CachedInputTokens = deref(w.CacheReadInputTokens)
	u.CacheWriteTokens = deref(w.CacheCreationInputTokens)
	u.InputTokens = deref(w.InputTokens) + u.CachedInputTokens + u.CacheWriteTokens
	if c := w.CacheCreation; c != nil {
		u.CacheWrite1hTokens = c.Ephemeral1h
	}
	if d := w.OutputTokensDetails; d != nil {
		u.ReasoningTokens = d.ThinkingTokens
	}
	return u
}

// mergeUsage lays message_delta's usage over what message_start said:
// each count message_delta carries is the whole message's so far, and a
// count it leaves out keeps message_start's value.
func mergeUsage(u *usage.Usage, w *wireUsage) {
	u.Found = true
	u.OutputTokens = w.OutputTokens
	plain := u.InputTokens - u.CachedInputTokens - u.CacheWriteTokens
	if w.InputTokens != nil {
		plain = *w.InputTokens
	}
	if w.CacheReadInputTokens != nil {
		u.CachedInputTokens = *w.CacheReadInputTokens
	}
	if w.CacheCreationInputTokens != nil {
		u.CacheWriteTokens = *w.CacheCreationInputTokens
	}
	u.InputTokens = plain + u.CachedInputTokens + u.CacheWriteTokens
	if c := w.CacheCreation; c != nil {
		u.CacheWrite1hTokens = c.Ephemeral1h
	}
	if d := w.OutputTokensDetails; d != nil {
		u.ReasoningTokens = d.ThinkingTokens
	}
}

// wireUsageOf writes usage in Anthropic's terms: input_tokens is the
// input read neither from nor into the cache.
func wireUsageOf(u usage.Usage) *wireUsage {
	w := &wireUsage{
		InputTokens:              ptr(u.InputTokens - u.CachedInputTokens - u.CacheWriteTokens),
		CacheCreationInputTokens: ptr(u.CacheWriteTokens),
		CacheReadInputTokens:     ptr(u.CachedInputTokens),
		CacheCreation:            &wireCacheCreation{Ephemeral5m: u.CacheWriteTokens - u.CacheWrite1hTokens, Ephemeral1h: u.CacheWrite1hTokens},
		OutputTokens:             u.OutputTokens,
	}
	if u.ReasoningTokens > 0 {
		w.OutputTokensDetails = &wireOutputDetails{ThinkingTokens: u.ReasoningTokens}
	}
	return w
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

// finishOf maps a stop_reason to a Finish. A tool_use stop of a forced
// structured-output tool is a natural stop: its input is the answer.
func finishOf(reason string, structured bool) protocol.Finish {
	switch reason {
	case "end_turn", "stop_sequence":
		return protocol.FinishStop
	case "max_tokens", "model_context_window_exceeded":
		return protocol.FinishLength
	case "tool_use":
		if structured {
			return protocol.FinishStop
		}
		return protocol.FinishToolCalls
	case "refusal":
		return protocol.FinishRefusal
	case "pause_turn":
		return protocol.FinishPause
	case "":
		return ""
	}
	return protocol.FinishStop
}

// stopReasonOf maps a Finish to a stop_reason.
func stopReasonOf(f protocol.Finish, stopSequence string) string {
	switch f {
	case protocol.FinishLength:
		return "max_tokens"
	case protocol.FinishToolCalls:
		return "tool_use"
	case protocol.FinishContentFilter, protocol.FinishRefusal:
		return "refusal"
	case protocol.FinishPause:
		return "pause_turn"
	}
	if stopSequence != "" {
		return "stop_sequence"
	}
	return "end_turn"
}

// structuredTool is the name of the forced tool that carries req's
// structured output, "" when req asks for none.
func structuredTool(req *protocol.Request) string {
	if req == nil || req.ResponseFormat == nil || len(req.Tools) > 0 {
		return ""
	}
	if req.ResponseFormat.Name != "" {
		return req.ResponseFormat.Name
	}
	return formatTool
}
